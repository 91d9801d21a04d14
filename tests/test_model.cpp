// test_model.cpp — the Transformer of reference-model.md: parameter counts, each FFN against a
// hand-computed case, a whole-model gradient check, the initial loss, determinism, overfitting.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "glulab/ffn.h"
#include "glulab/model.h"
#include "glulab/ops.h"
#include "glulab/optim.h"
#include "gradcheck.h"

using namespace glulab;
using namespace glulab::testing;

TEST_CASE("model: every FFN variant of a preset has exactly the spec's parameter count") {
    const std::pair<const char*, size_t> expected[] = {{"tiny", 70896}, {"small", 1844928}, {"base", 10818432}};
    for (const auto& [preset, count] : expected)
        for (FfnKind kind : all_ffn_kinds()) {
            INFO(preset << " " << ffn_name(kind));
            CHECK(Model(preset_config(preset, kind)).parameter_count() == count);
        }
}

TEST_CASE("model: d_ff is 4d for 2-matrix and 8d/3 for 3-matrix variants") {
    CHECK(preset_config("small", FfnKind::ReLU).d_ff() == 768);
    CHECK(preset_config("small", FfnKind::SwiGLU).d_ff() == 512);
    CHECK(preset_config("tiny", FfnKind::GEGLU).d_ff() == 128);
    CHECK(ffn_matrices(FfnKind::Swish) == 2);
    CHECK(ffn_matrices(FfnKind::Bilinear) == 3);
    CHECK_THROWS_WITH_AS(parse_ffn("swishglu"), doctest::Contains("choose from relu"), std::invalid_argument);
    CHECK_THROWS_AS(preset_config("huge", FfnKind::ReLU), std::invalid_argument);
}

namespace {
// The eight formulas of Shazeer (2020) written out in scalars for x (1, 2), W, V (2, 2), W2 (2, 1).
double reference_ffn(FfnKind kind, const double x[2], const double W[4], const double V[4], const double W2[2]) {
    auto gelu_ = [](double z) { return 0.5 * z * (1 + std::tanh(std::sqrt(2 / M_PI) * (z + 0.044715 * z * z * z))); };
    auto sig = [](double z) { return 1 / (1 + std::exp(-z)); };
    double out = 0;
    for (int j = 0; j < 2; ++j) {
        const double xw = x[0] * W[j] + x[1] * W[2 + j];
        const double xv = x[0] * V[j] + x[1] * V[2 + j];
        double h = 0;
        switch (kind) {
            case FfnKind::ReLU: h = std::max(0.0, xw); break;
            case FfnKind::GELU: h = gelu_(xw); break;
            case FfnKind::Swish: h = xw * sig(xw); break;
            case FfnKind::GLU: h = sig(xw) * xv; break;
            case FfnKind::Bilinear: h = xw * xv; break;
            case FfnKind::ReGLU: h = std::max(0.0, xw) * xv; break;
            case FfnKind::GEGLU: h = gelu_(xw) * xv; break;
            case FfnKind::SwiGLU: h = xw * sig(xw) * xv; break;
        }
        out += h * W2[j];
    }
    return out;
}
}  // namespace

TEST_CASE("ffn: each variant matches its equation on a hand-sized case") {
    const double x[2] = {0.7, -1.3}, W[4] = {0.5, -0.4, 0.9, 0.2}, V[4] = {-0.6, 0.3, 0.8, 1.1}, W2[2] = {1.5, -0.7};
    auto f = [](const double* v, int n) { return std::vector<float>(v, v + n); };
    FfnWeights w{Tensor::from_values({2, 2}, f(W, 4)), Tensor::from_values({2, 2}, f(V, 4)),
                 Tensor::from_values({2, 1}, f(W2, 2))};
    const Tensor xt = Tensor::from_values({1, 2}, f(x, 2));
    for (FfnKind kind : all_ffn_kinds()) {
        INFO(ffn_name(kind));
        CHECK(feed_forward(kind, xt, w).item() == doctest::Approx(reference_ffn(kind, x, W, V, W2)).epsilon(1e-5));
    }
}

TEST_CASE("ffn: gradient check of every variant on (2, 3, 6) inputs") {
    Rng rng(11);
    for (FfnKind kind : all_ffn_kinds()) {
        INFO(ffn_name(kind));
        check_gradients(
            [kind](const std::vector<Tensor>& in) {
                return feed_forward(kind, in[0], FfnWeights{in[1], is_gated(kind) ? in[2] : Tensor(), in[3]});
            },
            {random_tensor({2, 3, 6}, rng), random_tensor({6, 4}, rng, 0.5f),
             random_tensor({6, 4}, rng, 0.5f, /*requires_grad=*/is_gated(kind)), random_tensor({4, 6}, rng, 0.5f)});
    }
}

TEST_CASE("ffn: feed_forward (gate fused) gives the same numbers as feed_forward_reference (composed)") {
    Rng rng(12);
    for (FfnKind kind : all_ffn_kinds()) {
        INFO(ffn_name(kind));
        // (2, 40, 24) @ (24, 900): 72,000 elements in the hidden layer, enough to use the threads.
        std::vector<Tensor> in = {random_tensor({2, 40, 24}, rng), random_tensor({24, 900}, rng, 0.3f),
                                  random_tensor({24, 900}, rng, 0.3f), random_tensor({900, 24}, rng, 0.1f)};
        auto run = [&](auto ffn) {
            for (Tensor& t : in) t.zero_grad();
            Tensor y = ffn(kind, in[0], FfnWeights{in[1], is_gated(kind) ? in[2] : Tensor(), in[3]});
            Rng seed_rng(3);
            std::vector<float> R(y.numel());
            for (float& r : R) r = seed_rng.normal();
            backward(y, R.data());
            std::vector<std::vector<float>> out = {std::vector<float>(y.data(), y.data() + y.numel())};
            for (const Tensor& t : in) out.push_back(t.grad_vector());
            return out;
        };
        const auto fused = run(feed_forward), composed = run(feed_forward_reference);
        for (size_t i = 0; i < fused.size(); ++i) {
            INFO("output 0, gradients 1..4: ", i);
            if (i == 3 && !is_gated(kind)) {  // V is not used: no gradient either way
                CHECK(fused[i] == composed[i]);
                continue;
            }
            check_close(fused[i], composed[i], 1e-6);  // see the gate test in test_activations.cpp
        }
    }
}

namespace {
ModelConfig tiny_with_context(FfnKind kind, int ctx) {
    ModelConfig c = preset_config("tiny", kind);
    c.ctx = ctx;
    return c;
}
std::vector<int> bytes_of(const std::string& s) { return std::vector<int>(s.begin(), s.end()); }
}  // namespace

TEST_CASE("model: whole-model gradient check on the tiny preset with a context of 5") {
    // The smooth variants only: in a whole model some pre-activation always sits within h of
    // ReLU's kink, where a finite difference is meaningless. relu() itself is checked in
    // test_activations.cpp with inputs kept away from 0.
    for (FfnKind kind : {FfnKind::GELU, FfnKind::Swish, FfnKind::GLU, FfnKind::Bilinear, FfnKind::GEGLU,
                         FfnKind::SwiGLU}) {
        INFO(ffn_name(kind));
        Model model(tiny_with_context(kind, 5));
        model.init(3);
        // Larger weights than the init, so every path carries a gradient the check can see.
        Rng rng(5);
        for (Parameter& p : model.parameters())
            if (p.kind != ParamKind::Gain)
                for (size_t i = 0; i < p.value.numel(); ++i) p.value.data()[i] = 0.3f * rng.normal();
        const std::vector<int> tokens = bytes_of("To be!or n"), targets = bytes_of("o be!or no");
        std::vector<Tensor> inputs;
        for (Parameter& p : model.parameters()) inputs.push_back(p.value);
        // A deep float32 graph: a smaller step keeps the truncation error of the central
        // difference (~h^2) below the tolerance; the loss (~5) keeps rounding/h near 1e-4.
        GradcheckOptions opt;
        opt.h = 3e-3;
        opt.max_elements = 12;
        check_gradients([&](const std::vector<Tensor>&) { return model.loss(tokens, targets, 2, 5); }, inputs, opt);
    }
}

TEST_CASE("model: the initial loss is near ln 256 and training one batch drives it down") {
    Model model(tiny_with_context(FfnKind::SwiGLU, 16));
    model.init(1);
    const std::vector<int> tokens = bytes_of("First Citizen:\nBefore we proceed any further, hear me"),
                           targets = bytes_of("irst Citizen:\nBefore we proceed any further, hear me ");
    std::vector<int> in(tokens.begin(), tokens.begin() + 32), out(targets.begin(), targets.begin() + 32);
    const float initial = model.loss(in, out, 2, 16).item();
    CHECK(initial == doctest::Approx(std::log(256.0)).epsilon(0.02));
    AdamW opt(model.parameters());
    float loss = initial;
    for (int step = 0; step < 150; ++step) {
        zero_gradients(model.parameters());
        Tensor l = model.loss(in, out, 2, 16);
        loss = l.item();
        l.backward();
        opt.step(model.parameters(), 3e-3f);
    }
    CHECK(loss < 0.5f);  // memorised: far below the ~3.3 nats of a unigram model
}

TEST_CASE("model: the same seed gives bit-identical logits; another seed does not") {
    const std::vector<int> tokens = bytes_of("abcdefgh");
    auto logits_for = [&](uint64_t seed) {
        Model m(tiny_with_context(FfnKind::GEGLU, 8));
        m.init(seed);
        return m.logits(tokens, 1, 8).to_vector();
    };
    CHECK(logits_for(7) == logits_for(7));
    CHECK(logits_for(7) != logits_for(8));
}

TEST_CASE("model: bad sequence sizes are refused") {
    Model m(tiny_with_context(FfnKind::ReLU, 8));
    CHECK_THROWS_AS(m.logits(bytes_of("abc"), 1, 9), std::invalid_argument);
    CHECK_THROWS_AS(m.logits(bytes_of("abc"), 2, 2), std::invalid_argument);
}
