// test_attention.cpp — the fused causal_attention op (src/ops/attention.cpp): its gradients by
// finite differences, its values and gradients against the composed reference of
// src/nn/attention.cpp, the same bits on 1 and 2 threads, the causal mask in both directions,
// argument errors, and its FLOP count in the profiler.
//
// Legend (tensor.h): B batch, T context, d model width, H heads, hd = d / H head width.
// The op has two paths: heads of hd <= 16 (the tiny preset's 12) go in blocks of 16 queries and
// tiles of 8 keys (T = 1, 15, 33, 70 end in short ones), wider heads in row blocks of 64 queries
// through gemm (T = 70, 77, 80 cross them and end in a short block). T = 128 is the small
// preset's context, T = 64 the tiny preset's.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "glulab/attention.h"
#include "glulab/ops.h"
#include "glulab/profile.h"
#include "gradcheck.h"
#include "thread_count.h"

using namespace glulab;
using namespace glulab::testing;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// f(inputs) = causal_attention(q, k, v, H) or the composed reference, inputs = {q, k, v}.
Fn fused(int H) {
    return [H](const std::vector<Tensor>& in) { return causal_attention(in[0], in[1], in[2], H); };
}
Fn composed(int H) {
    return [H](const std::vector<Tensor>& in) { return causal_attention_reference(in[0], in[1], in[2], H); };
}

// A shape of q, k and v (B, T, d), and the number of heads.
struct Case {
    int B, T, d, H;
};

// q, k, v (B, T, d) with N(0, 1) entries: the scores q k^T / sqrt(hd) are then about N(0, 1).
std::vector<Tensor> random_qkv(int B, int T, int d, Rng& rng) {
    return {random_tensor({B, T, d}, rng), random_tensor({B, T, d}, rng), random_tensor({B, T, d}, rng)};
}

// The output of f and then the gradient of every input, for the backward seed R = cos(0.37 i),
// run on fresh copies of `inputs` (so that calls do not add into each other's gradients).
std::vector<std::vector<float>> forward_backward(const Fn& f, const std::vector<Tensor>& inputs) {
    std::vector<Tensor> fresh;
    for (const Tensor& t : inputs) fresh.push_back(Tensor::from_values(t.shape(), t.to_vector(), true));
    Tensor y = f(fresh);
    std::vector<float> seed(y.numel());
    for (size_t i = 0; i < seed.size(); ++i) seed[i] = std::cos(0.37f * static_cast<float>(i));
    std::vector<std::vector<float>> all{y.to_vector()};
    backward(y, seed.data());
    for (const Tensor& t : fresh) all.push_back(t.grad_vector());
    return all;
}

}  // namespace

TEST_CASE("gradcheck: causal_attention for q, k and v on awkward shapes") {
    Rng rng(41);
    // hd 3, 2, 3, 1, 2 (the direct path; T = 70 crosses its blocks), then hd 17 (gemm).
    for (const Case c : {Case{2, 5, 6, 2}, Case{2, 5, 6, 3}, Case{2, 1, 6, 2}, Case{1, 1, 1, 1}, Case{1, 70, 4, 2},
                         Case{1, 9, 17, 1}}) {
        CAPTURE(c.B);
        CAPTURE(c.T);
        CAPTURE(c.d);
        CAPTURE(c.H);
        check_gradients(fused(c.H), random_qkv(c.B, c.T, c.d, rng));
    }
}

TEST_CASE("causal_attention: values and all three gradients match the composed reference") {
    Rng rng(42);
    // The small preset's attention (hd 32, gemm), the tiny preset's (hd 12, direct) on one
    // sequence, and around the paths' edge at hd = 16: hd 16 and 12 on T = 1, 15 (one block of
    // queries, a short tile of keys), 33 (a block of one query) and 77; hd 17 and 20 through
    // gemm on T = 33 and 70; hd 1.
    for (const Case c : {Case{2, 128, 192, 6}, Case{1, 64, 48, 4}, Case{2, 1, 32, 2}, Case{1, 15, 16, 1},
                         Case{2, 33, 36, 3}, Case{2, 37, 36, 3}, Case{2, 77, 36, 3}, Case{1, 77, 64, 4},
                         Case{1, 33, 34, 2}, Case{1, 70, 40, 2}, Case{2, 23, 5, 5}}) {
        CAPTURE(c.T);
        CAPTURE(c.d);
        CAPTURE(c.H);
        const std::vector<Tensor> qkv = random_qkv(c.B, c.T, c.d, rng);
        const auto got = forward_backward(fused(c.H), qkv);
        const auto want = forward_backward(composed(c.H), qkv);
        const std::string what[] = {"output", "dq", "dk", "dv"};
        for (int i = 0; i < 4; ++i) {
            CAPTURE(what[i]);
            if (c.T == 1 && (i == 1 || i == 2))
                CHECK(got[i] == want[i]);  // one key: P = 1 whatever the scores, so dq = dk = 0
            else
                check_close(got[i], want[i], 1e-5);
        }
    }
}

TEST_CASE("causal_self_attention (fused) matches causal_self_attention_reference: x and all four weights") {
    Rng rng(43);
    const int B = 2, T = 77, d = 36, H = 3;
    std::vector<Tensor> in{random_tensor({B, T, d}, rng)};
    for (int w = 0; w < 4; ++w) in.push_back(random_tensor({d, d}, rng, 1.0f / std::sqrt(static_cast<float>(d))));
    auto model = [H](bool reference) {
        return [H, reference](const std::vector<Tensor>& x) {
            const AttentionWeights w{x[1], x[2], x[3], x[4]};
            return reference ? causal_self_attention_reference(x[0], w, H) : causal_self_attention(x[0], w, H);
        };
    };
    const auto got = forward_backward(model(false), in);
    const auto want = forward_backward(model(true), in);
    const std::string what[] = {"output", "dx", "dWq", "dWk", "dWv", "dWo"};
    for (int i = 0; i < 6; ++i) {
        CAPTURE(what[i]);
        check_close(got[i], want[i], 1e-5);
    }
}

TEST_CASE("causal_attention: the same bits on 1 and 2 threads, forward and backward") {
    Rng rng(44);
    // Both paths with enough work to run the items on a team (B H T^2 hd >= 2^20): the small
    // preset's attention (12 items, gemm) and the tiny preset's at T = 70 (64 items, direct).
    for (const Case c : {Case{2, 128, 192, 6}, Case{16, 70, 48, 4}}) {
        CAPTURE(c.d / c.H);
        const std::vector<Tensor> qkv = random_qkv(c.B, c.T, c.d, rng);
        ThreadCountGuard guard;
        omp_set_num_threads(1);
        const auto one = forward_backward(fused(c.H), qkv);
        omp_set_num_threads(2);
        const auto two = forward_backward(fused(c.H), qkv);
        for (size_t i = 0; i < one.size(); ++i) {
            CAPTURE(i);
            CHECK(one[i] == two[i]);
        }
    }
}

TEST_CASE("causal_attention: the future neither changes the past nor gets its gradient") {
    // t0 = 40: positions 41..47 share its block of 16 queries on the direct path (hd 4), 41..63
    // its row block of 64 through gemm (hd 20): computed, then masked; the later ones are not.
    for (const int d : {8, 40}) {
        CAPTURE(d);
        const int B = 1, T = 80, H = 2, t0 = 40;
        Rng rng(45);
        const std::vector<Tensor> qkv = random_qkv(B, T, d, rng);
        Tensor y = causal_attention(qkv[0], qkv[1], qkv[2], H);  // (B, T, d)

        // Large changes to every future key and value leave rows 0..t0 of the output as they were.
        std::vector<Tensor> changed;
        for (const Tensor& t : qkv) changed.push_back(Tensor::from_values(t.shape(), t.to_vector()));
        for (int w = 1; w <= 2; ++w)
            for (int i = (t0 + 1) * d; i < T * d; ++i)
                changed[w].data()[i] = 1000.0f * std::sin(static_cast<float>(i));
        Tensor y2 = causal_attention(changed[0], changed[1], changed[2], H);
        for (int i = 0; i < (t0 + 1) * d; ++i) CHECK(y2.data()[i] == y.data()[i]);

        // A gradient on rows 0..t0 only reaches q, k and v in rows 0..t0: exactly 0 after.
        std::vector<float> seed(y.numel(), 0.0f);
        for (int i = 0; i < (t0 + 1) * d; ++i) seed[i] = std::cos(static_cast<float>(i));
        backward(y, seed.data());
        for (const Tensor& t : qkv) {
            REQUIRE(t.has_grad());
            const std::vector<float> g = t.grad_vector();  // (B, T, d)
            for (int i = (t0 + 1) * d; i < T * d; ++i) CHECK(g[i] == 0.0f);
            CHECK(std::any_of(g.begin(), g.begin() + (t0 + 1) * d, [](float x) { return x != 0.0f; }));
        }
    }
}

TEST_CASE("causal_attention: gradients accumulate, and inputs that need none get none") {
    Rng rng(46);
    // One tensor in two or three roles: the contributions to its gradient must add up (the first
    // is assigned into the new buffer, the others added: see the op's backward).
    struct Roles {
        int q, k, v;  // which of in[0], in[1] plays each role
    };
    // Both paths: hd 3 (direct) and 17 (gemm).
    for (const Case c : {Case{2, 5, 6, 2}, Case{2, 5, 17, 1}})
        for (const Roles r : {Roles{0, 0, 1}, Roles{0, 1, 0}, Roles{1, 0, 0}, Roles{0, 0, 0}}) {
            CAPTURE(c.d);
            CAPTURE(r.q);
            CAPTURE(r.k);
            CAPTURE(r.v);
            std::vector<Tensor> inputs{random_tensor({c.B, c.T, c.d}, rng)};
            if (std::max({r.q, r.k, r.v}) == 1) inputs.push_back(random_tensor({c.B, c.T, c.d}, rng));
            check_gradients(
                [r, c](const std::vector<Tensor>& in) { return causal_attention(in[r.q], in[r.k], in[r.v], c.H); },
                inputs);
        }
    // Two backward passes without zeroing give twice the gradient (x + x = 2x exactly); k is
    // data and gets no gradient buffer at all.
    std::vector<Tensor> qkv = random_qkv(1, 6, 4, rng);
    qkv[1].set_requires_grad(false);
    const std::vector<float> seed(qkv[0].numel(), 1.0f);
    backward(causal_attention(qkv[0], qkv[1], qkv[2], 2), seed.data());
    const std::vector<float> dq = qkv[0].grad_vector(), dv = qkv[2].grad_vector();
    backward(causal_attention(qkv[0], qkv[1], qkv[2], 2), seed.data());
    const std::vector<float> dq2 = qkv[0].grad_vector(), dv2 = qkv[2].grad_vector();
    for (size_t i = 0; i < dq.size(); ++i) {
        CHECK(dq2[i] == 2.0f * dq[i]);
        CHECK(dv2[i] == 2.0f * dv[i]);
    }
    CHECK_FALSE(qkv[1].has_grad());
}

TEST_CASE("causal_attention: bad shapes throw, naming the op and the shapes") {
    Tensor x = Tensor::zeros({2, 5, 6});
    CHECK_THROWS_WITH_AS(causal_attention(x, Tensor::zeros({2, 5, 4}), x, 2), doctest::Contains("causal_attention: "),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(causal_attention(x, x, x, 4), doctest::Contains("n_head = 4"), std::invalid_argument);
    CHECK_THROWS_AS(causal_attention(x, x, x, 0), std::invalid_argument);
    Tensor flat = Tensor::zeros({10, 6});
    CHECK_THROWS_WITH_AS(causal_attention(flat, flat, flat, 2), doctest::Contains("(10, 6)"), std::invalid_argument);
}

TEST_CASE("profile: causal_attention's FLOPs are its products' useful work, whichever path runs") {
    // Per head and causal (query i, key j <= i) pair, 2 hd FLOPs per product; H hd = d. T = 5
    // has 15 pairs, T = 70 has 70 * 71 / 2 = 2485; small heads (hd 3 here) and wide ones alike.
    CHECK(causal_attention_flops(2, 5, 6) == 4.0 * 2 * 6 * 15);
    CHECK(causal_attention_flops(2, 70, 6) == 4.0 * 2 * 6 * 2485);
    CHECK(causal_attention_flops(1, 128, 192) == 4.0 * 192 * 128 * 129 / 2);  // the small preset

    Rng rng(47);
    std::vector<Tensor> qkv = random_qkv(2, 5, 6, rng);
    const double forward = 720.0;  // 4 B d * 15 pairs
    Profiler p;
    {
        ProfileScope scope(p);
        sum(causal_attention(qkv[0], qkv[1], qkv[2], 2)).backward();  // dv, dP, dq, dk: 4 products
        qkv[0].set_requires_grad(false);
        sum(causal_attention(qkv[0], qkv[1], qkv[2], 2)).backward();  // dv, dP, dk: 3
        qkv[1].set_requires_grad(false);
        sum(causal_attention(qkv[0], qkv[1], qkv[2], 2)).backward();  // dv: 1
    }
    const OpProfile* op = p.op("causal_attention");
    REQUIRE(op != nullptr);
    CHECK(op->flops_exact);
    CHECK(op->forward_calls == 3);
    CHECK(op->forward_flops == 3 * forward);
    CHECK(op->backward_flops == forward / 2 * (4 + 3 + 1));
}
