// test_autograd.cpp — the engine: accumulation, shared inputs, no-grad mode, freeing the graph,
// and memory that stays flat over many steps.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "glulab/autograd.h"
#include "glulab/ops.h"
#include "gradcheck.h"

using namespace glulab;
using namespace glulab::testing;

// AddressSanitizer keeps freed memory in a quarantine, so RSS grows there by design; under it
// the RSS half of the memory test is skipped (LeakSanitizer checks for leaks instead).
#if defined(__SANITIZE_ADDRESS__)
#define GLULAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GLULAB_ASAN 1
#endif
#endif
#ifndef GLULAB_ASAN
#define GLULAB_ASAN 0
#endif

namespace {
// Resident set size in pages, from /proc/self/statm (second field); -1 if unavailable.
long resident_pages() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long size = 0, resident = -1;
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    std::fclose(f);
    return resident;
}
}  // namespace

TEST_CASE("autograd: x * x uses one tensor twice in one op") {
    Tensor x = Tensor::from_values({3}, {1, -2, 0.5f}, true);
    sum(mul(x, x)).backward();
    CHECK(x.grad_vector() == std::vector<float>{2, -4, 1});  // d(x^2)/dx = 2x
    Tensor y = Tensor::from_values({2}, {3, 4}, true);
    sum(add(y, y)).backward();
    CHECK(y.grad_vector() == std::vector<float>{2, 2});
}

TEST_CASE("autograd: a diamond graph adds both paths") {
    // h = 2x;  y = 3h + h*h;  dy/dx = (3 + 2h) * 2
    Tensor x = Tensor::from_values({2}, {1, -1}, true);
    Tensor h = scale(x, 2.0f);
    Tensor y = add(scale(h, 3.0f), mul(h, h));
    sum(y).backward();
    CHECK(x.grad_vector() == std::vector<float>{(3 + 2 * 2) * 2, (3 - 2 * 2) * 2});
    Rng rng(71);
    check_gradients(
        [](const std::vector<Tensor>& in) {
            Tensor s = sigmoid(in[0]);
            return mul(add(s, relu(in[0])), silu(s));
        },
        {random_tensor({2, 3, 5}, rng)});
}

TEST_CASE("autograd: a parameter used twice in one graph") {
    // y = w * x + w * z  ->  dL/dw = sum over the repeats of (x + z), for L = sum(y)
    Tensor w = Tensor::from_values({3}, {0.5f, -1, 2}, true);
    Tensor x = Tensor::from_values({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor z = Tensor::from_values({2, 3}, {10, 20, 30, 40, 50, 60});
    sum(add(mul(x, w), mul(z, w))).backward();
    CHECK(w.grad_vector() == std::vector<float>{1 + 10 + 4 + 40, 2 + 20 + 5 + 50, 3 + 30 + 6 + 60});
    CHECK_FALSE(x.has_grad());
    CHECK_FALSE(z.has_grad());
    Rng rng(72);
    check_gradients([](const std::vector<Tensor>& in) { return add(mul(in[1], in[0]), mul(in[2], in[0])); },
                    {random_tensor({5}, rng), random_tensor({3, 5}, rng), random_tensor({3, 5}, rng)});
}

TEST_CASE("autograd: gradients accumulate across backward calls until zero_grad") {
    Tensor w = Tensor::from_values({2}, {1, 2}, true);
    Tensor x = Tensor::from_values({2}, {3, 4});
    sum(mul(w, x)).backward();
    CHECK(w.grad_vector() == std::vector<float>{3, 4});
    sum(mul(w, x)).backward();
    CHECK(w.grad_vector() == std::vector<float>{6, 8});  // accumulated
    w.zero_grad();
    CHECK(w.grad_vector() == std::vector<float>{0, 0});
    sum(mul(w, x)).backward();
    CHECK(w.grad_vector() == std::vector<float>{3, 4});
}

TEST_CASE("autograd: NoGradGuard records nothing and restores the mode") {
    Tensor w = Tensor::from_values({2}, {1, 2}, true);
    CHECK(grad_enabled());
    {
        NoGradGuard no_grad;
        CHECK_FALSE(grad_enabled());
        Tensor y = sum(mul(w, w));
        CHECK_FALSE(y.requires_grad());
        CHECK_FALSE(static_cast<bool>(y.impl()->grad_fn));
        CHECK_THROWS_AS(y.backward(), std::logic_error);
        {
            NoGradGuard nested;
            CHECK_FALSE(grad_enabled());
        }
        CHECK_FALSE(grad_enabled());  // the inner guard restores "off", not "on"
    }
    CHECK(grad_enabled());
    Tensor y = sum(mul(w, w));
    CHECK(y.requires_grad());
    CHECK(static_cast<bool>(y.impl()->grad_fn));
    // Nothing requires a gradient: nothing is recorded either.
    Tensor c = Tensor::from_values({2}, {1, 2});
    CHECK_FALSE(sum(mul(c, c)).requires_grad());
}

TEST_CASE("autograd: backward frees the graph") {
    Tensor w = Tensor::from_values({2, 3}, {1, 2, 3, 4, 5, 6}, true);
    Tensor g = Tensor::from_values({3}, {1, 1, 1}, true);
    Tensor h = rmsnorm(w, g);
    Tensor s = softmax(h);
    Tensor L = cross_entropy(s, {0, 2});
    CHECK(static_cast<bool>(h.impl()->grad_fn));
    CHECK(static_cast<bool>(L.impl()->grad_fn));
    L.backward();
    CHECK_FALSE(static_cast<bool>(h.impl()->grad_fn));
    CHECK_FALSE(static_cast<bool>(s.impl()->grad_fn));
    CHECK_FALSE(static_cast<bool>(L.impl()->grad_fn));
    CHECK(w.has_grad());
    CHECK(g.has_grad());
}

namespace {
// A small graph through every op of src/ops except matmul; returns a scalar loss.
// Shapes: ids (B, T) = (2, 5), E (11, 6) = (V, d), P (5, 6) = (T, d), g (6), H = 2, hd = 3.
Tensor every_op_loss(const Tensor& E, const Tensor& P, const Tensor& g, const std::vector<int>& ids) {
    Tensor h = add(embedding(E, ids, {2, 5}), P);                             // (B, T, d)
    Tensor n = rmsnorm(h, g);                                                 // (B, T, d)
    Tensor heads = transpose12(reshape(n, {2, 5, 2, 3}));                     // (B, H, T, hd)
    Tensor att = softmax(mul(heads, heads));                                  // (B, H, T, hd)
    Tensor back = reshape(transpose12(att), {10, 6});                         // (B*T, d)
    Tensor logits = add(mul(back, scale(g, 2.0f)), silu(reshape(h, {10, 6})));  // (N, V) = (10, 6)
    Tensor causal = softmax(reshape(n, {3, 5, 2, 2}), true);                  // (3, 5, 2, 2)
    Tensor extra = add(sum(gelu(causal)), sum(relu(sigmoid(causal))));       // (1)
    Tensor ce = cross_entropy(logits, {0, 1, 2, 3, 4, 5, 0, 1, 2, 3});        // (1)
    return add(add(ce, scale(mean(h), 0.1f)), scale(extra, 0.01f));
}
}  // namespace

TEST_CASE("gradcheck: one graph through every op") {
    Rng rng(75);
    const std::vector<int> ids = {1, 3, 3, 7, 0, 10, 2, 2, 5, 9};
    check_gradients([&ids](const std::vector<Tensor>& in) { return every_op_loss(in[0], in[1], in[2], ids); },
                    {random_tensor({11, 6}, rng), random_tensor({5, 6}, rng), random_tensor({6}, rng)});
}

TEST_CASE("autograd: a graph dropped without backward frees its tensors") {
    Rng rng(74);
    Tensor E = random_tensor({11, 6}, rng), P = random_tensor({5, 6}, rng), g = random_tensor({6}, rng);
    const long before = live_tensor_count();
    {
        Tensor L = every_op_loss(E, P, g, {1, 3, 3, 7, 0, 10, 2, 2, 5, 9});
        CHECK(L.requires_grad());
        CHECK(live_tensor_count() > before);
    }
    CHECK(live_tensor_count() == before);  // no closure keeps its own output alive
}

TEST_CASE("autograd: memory stays flat over 1,000 forward/backward steps") {
    Rng rng(73);
    Tensor E = random_tensor({11, 6}, rng);  // (V, d) = (11, 6)
    Tensor P = random_tensor({5, 6}, rng);   // (T, d)
    Tensor g = random_tensor({6}, rng);
    const std::vector<int> ids = {1, 3, 3, 7, 0, 10, 2, 2, 5, 9};  // (B, T) = (2, 5)
    // One training step, plus one forward whose graph is dropped without backward (as an
    // evaluation with grad mode left on would): a reference cycle in any closure leaks there.
    auto step = [&]() {
        for (Tensor* p : {&E, &P, &g}) p->zero_grad();
        every_op_loss(E, P, g, ids).backward();
        (void)every_op_loss(E, P, g, ids);
    };
    long tensors_early = 0, pages_early = 0;
    for (int i = 0; i < 1000; ++i) {
        step();
        if (i == 9) {
            tensors_early = live_tensor_count();
            pages_early = resident_pages();
        }
    }
    CHECK(live_tensor_count() == tensors_early);
    const long pages_late = resident_pages();
    if (!GLULAB_ASAN && pages_early > 0 && pages_late > 0) {
        INFO("RSS pages after step 10: " << pages_early << ", after step 1000: " << pages_late);
        CHECK(pages_late - pages_early <= 64);  // 256 KiB of slack for the allocator; a leak would be MBs
    }
}

// The first gradient to reach a tensor is assigned into an unzeroed buffer, the later ones are
// added (TensorImpl::grad_buffer, add_to_grad, accumulate_grad). Whatever op comes first, the
// total must be the sum of the separate gradients: checked for every op that writes a gradient
// that way, each in first and in last place.
TEST_CASE("autograd: the first gradient is assigned and the rest added, in any order of ops") {
    Rng rng(76);
    const Tensor x0 = random_tensor({2, 4, 4}, rng);
    const Tensor w = random_tensor({4, 4}, rng, 1.0f, false);
    const Tensor g = random_tensor({4}, rng, 1.0f, false);
    using Use = Tensor (*)(const Tensor&, const Tensor&, const Tensor&);
    const std::vector<Use> uses = {
        [](const Tensor& x, const Tensor&, const Tensor&) { return silu(x); },
        [](const Tensor& x, const Tensor&, const Tensor&) { return gelu(x); },
        [](const Tensor& x, const Tensor&, const Tensor&) { return scale(x, 3.0f); },
        [](const Tensor& x, const Tensor&, const Tensor&) { return reshape(x, {8, 4}); },
        [](const Tensor& x, const Tensor&, const Tensor&) { return mul(x, x); },
        [](const Tensor& x, const Tensor&, const Tensor&) { return add(x, x); },
        [](const Tensor& x, const Tensor& w_, const Tensor&) { return matmul(x, w_); },
        [](const Tensor& x, const Tensor&, const Tensor& g_) { return rmsnorm(x, g_); },
        [](const Tensor& x, const Tensor&, const Tensor&) { return softmax(x, true); },
        [](const Tensor& x, const Tensor&, const Tensor&) { return transpose12(reshape(x, {2, 4, 2, 2})); },
    };
    // Each use's own gradient, seeded with cos(i) so that no two elements get the same weight.
    auto grad_of = [&](const std::vector<size_t>& which) {
        Tensor x = Tensor::from_values(x0.shape(), x0.to_vector(), true);
        Tensor total;
        for (size_t u : which) {
            Tensor y = reshape(uses[u](x, w, g), {32});
            Tensor weights = Tensor::from_values({32}, std::vector<float>(32));
            for (int i = 0; i < 32; ++i) weights.data()[i] = std::cos(0.3f * i + static_cast<float>(u));
            Tensor term = sum(mul(y, weights));
            total = total.defined() ? add(total, term) : term;
        }
        total.backward();
        return x.grad_vector();
    };
    std::vector<std::vector<float>> separate;
    for (size_t u = 0; u < uses.size(); ++u) separate.push_back(grad_of({u}));
    std::vector<size_t> forward_order, backward_order;
    for (size_t u = 0; u < uses.size(); ++u) {
        forward_order.push_back(u);
        backward_order.push_back(uses.size() - 1 - u);
    }
    for (const auto& order : {forward_order, backward_order}) {
        const std::vector<float> together = grad_of(order);
        for (size_t i = 0; i < together.size(); ++i) {
            double expected = 0.0;
            for (const auto& s : separate) expected += s[i];
            CAPTURE(i);
            CHECK(together[i] == doctest::Approx(expected).epsilon(1e-4));
        }
    }
}

TEST_CASE("autograd: backward frees each op's saved tensors as soon as its closure has run") {
    Tensor x = Tensor::from_values({1000}, std::vector<float>(1000, 0.5f), true);
    const long before = live_tensor_count();
    long alive_at_the_end = -1;  // seen by the first op's closure, the last one backward runs
    Tensor h = record(x.share_storage_as({1000}), "probe", {x},
                      [&alive_at_the_end](TensorImpl&) { alive_at_the_end = live_tensor_count(); });
    for (int i = 0; i < 20; ++i) h = silu(h);  // 20 intermediate tensors, held only by the graph
    sum(h).backward();
    // Left alive: the probe's output (being differentiated) and h (the caller's handle), plus at
    // most the sum. Before the graph was freed on the way, all 20 intermediates were still here.
    INFO("live tensors beyond x when the first op's backward ran: " << alive_at_the_end - before);
    CHECK(alive_at_the_end >= before);
    CHECK(alive_at_the_end - before <= 3);
    CHECK(live_tensor_count() == before + 1);  // h alone
}

TEST_CASE("tensor: tensor_bytes counts values and gradients; the peak remembers the most at once") {
    const long before = tensor_bytes();
    reset_peak_tensor_bytes();
    {
        Tensor x = Tensor::zeros({10, 100}, true);  // 4,000 bytes of values
        CHECK(tensor_bytes() == before + 4000);
        sum(scale(x, 2.0f)).backward();  // scale's output (4,000) and x's gradient (4,000)
        CHECK(tensor_bytes() >= before + 8000);  // x and its gradient (and the loss) are kept
        CHECK(peak_tensor_bytes() >= before + 12000);  // x, the output, its gradient at once
    }
    CHECK(tensor_bytes() == before);
    CHECK(peak_tensor_bytes() >= before + 12000);
    reset_peak_tensor_bytes();
    CHECK(peak_tensor_bytes() == before);
}
