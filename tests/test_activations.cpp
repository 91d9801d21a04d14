// test_activations.cpp — ReLU, GELU, sigmoid, SiLU and the fused GLU gate: values and
// finite-difference gradients; the gate against its composed form.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <vector>

#include "glulab/ops.h"
#include "gradcheck.h"

using namespace glulab;
using namespace glulab::testing;

namespace {
// Inputs kept away from ReLU's kink at 0, where the derivative is not defined.
Tensor away_from_zero(const Shape& shape, Rng& rng) {
    Tensor x = random_tensor(shape, rng, 1.5f);
    for (size_t i = 0; i < x.numel(); ++i)
        if (std::fabs(x.data()[i]) < 0.05f) x.data()[i] = 0.3f;
    return x;
}
}  // namespace

TEST_CASE("activations: values at known points") {
    Tensor x = Tensor::from_values({4}, {-2.0f, 0.0f, 0.5f, 3.0f});
    Tensor r = relu(x), s = sigmoid(x), w = silu(x), g = gelu(x);
    CHECK(r.data()[0] == 0.0f);
    CHECK(r.data()[3] == 3.0f);
    CHECK(s.data()[1] == doctest::Approx(0.5f));
    CHECK(s.data()[0] == doctest::Approx(1.0 / (1.0 + std::exp(2.0))));
    CHECK(w.data()[2] == doctest::Approx(0.5 / (1.0 + std::exp(-0.5))));
    // GELU(tanh form) at 1.0 ~= 0.841192 and at -2 ~= -0.045402
    Tensor g2 = gelu(Tensor::from_values({2}, {1.0f, -2.0f}));
    CHECK(g2.data()[0] == doctest::Approx(0.841192).epsilon(1e-5));
    CHECK(g2.data()[1] == doctest::Approx(-0.045402).epsilon(1e-4));
    CHECK(g.data()[1] == 0.0f);
}

TEST_CASE("activations: extreme inputs stay finite") {
    Tensor x = Tensor::from_values({4}, {-1000.0f, -90.0f, 90.0f, 1000.0f});
    for (Tensor y : {relu(x), gelu(x), sigmoid(x), silu(x)})
        for (size_t i = 0; i < y.numel(); ++i) CHECK(std::isfinite(y.data()[i]));
    CHECK(sigmoid(x).data()[0] == 0.0f);
    CHECK(sigmoid(x).data()[3] == 1.0f);
}

TEST_CASE("gradcheck: relu, gelu, sigmoid, silu on awkward shapes") {
    Rng rng(7);
    for (const Shape& shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 5}, Shape{2, 1, 3, 7}}) {
        check_gradients([](const std::vector<Tensor>& in) { return relu(in[0]); }, {away_from_zero(shape, rng)});
        check_gradients([](const std::vector<Tensor>& in) { return gelu(in[0]); }, {random_tensor(shape, rng, 1.5f)});
        check_gradients([](const std::vector<Tensor>& in) { return sigmoid(in[0]); },
                        {random_tensor(shape, rng, 2.0f)});
        check_gradients([](const std::vector<Tensor>& in) { return silu(in[0]); }, {random_tensor(shape, rng, 2.0f)});
    }
}

// ---- the fused gate of the GLU family ----
namespace {
// The gate composed from ops, as Shazeer (2020) eq. (6) writes it: mul(act(a), b).
Tensor composed_gate(FfnKind kind, const Tensor& a, const Tensor& b) {
    switch (kind) {
        case FfnKind::GLU: return mul(sigmoid(a), b);
        case FfnKind::Bilinear: return mul(a, b);
        case FfnKind::ReGLU: return mul(relu(a), b);
        case FfnKind::GEGLU: return mul(gelu(a), b);
        default: return mul(silu(a), b);  // SwiGLU
    }
}
const FfnKind kGatedKinds[] = {FfnKind::GLU, FfnKind::Bilinear, FfnKind::ReGLU, FfnKind::GEGLU, FfnKind::SwiGLU};

// Runs f(a, b) forward and backward (seeded with a fixed projection R): y, da and db.
struct GateRun {
    std::vector<float> y, da, db;
};
GateRun run_gate(const std::function<Tensor(const Tensor&, const Tensor&)>& f, Tensor a, Tensor b) {
    a.zero_grad();
    b.zero_grad();
    Tensor y = f(a, b);
    Rng rng(99);
    std::vector<float> R(y.numel());
    for (float& r : R) r = rng.normal();
    backward(y, R.data());
    return {std::vector<float>(y.data(), y.data() + y.numel()), a.grad_vector(), b.grad_vector()};
}

}  // namespace

// The same numbers, to the last bits: on GCC 12 -O3 they are bit-identical except GEGLU's da,
// where the compiler fuses GELU's multiply-adds into FMAs differently in the two loops
// (contraction is on by default), and other builds (-O1 under the sanitizers) may differ more.
TEST_CASE("gate: the same numbers as mul(act(a), b) for every gated variant, value and both gradients") {
    Rng rng(5);
    // 70,000 elements: above the size where the loops are split across threads.
    for (const Shape& shape : {Shape{7}, Shape{3, 5}, Shape{2, 35, 1000}}) {
        const Tensor a = away_from_zero(shape, rng), b = random_tensor(shape, rng);
        for (FfnKind kind : kGatedKinds) {
            INFO(ffn_name(kind), " ", a.shape_str());
            const GateRun fused = run_gate([kind](const Tensor& x, const Tensor& y) { return gate(kind, x, y); }, a, b);
            const GateRun composed =
                run_gate([kind](const Tensor& x, const Tensor& y) { return composed_gate(kind, x, y); }, a, b);
            check_close(fused.y, composed.y, 1e-6);
            check_close(fused.da, composed.da, 1e-6);
            check_close(fused.db, composed.db, 1e-6);
        }
    }
}

TEST_CASE("gradcheck: gate of every gated variant, and gate(a, a) with one input twice") {
    Rng rng(8);
    for (FfnKind kind : kGatedKinds) {
        INFO(ffn_name(kind));
        for (const Shape& shape : {Shape{7}, Shape{2, 3, 5}}) {
            check_gradients([kind](const std::vector<Tensor>& in) { return gate(kind, in[0], in[1]); },
                            {away_from_zero(shape, rng), random_tensor(shape, rng)});
            // Both gradients land in one buffer: the second pass must add to the first.
            check_gradients([kind](const std::vector<Tensor>& in) { return gate(kind, in[0], in[0]); },
                            {away_from_zero(shape, rng)});
        }
    }
}

TEST_CASE("gate: different shapes and non-gated variants are refused, naming the op") {
    Rng rng(2);
    const Tensor a = random_tensor({2, 3}, rng), b = random_tensor({3, 2}, rng);
    CHECK_THROWS_WITH_AS(gate(FfnKind::SwiGLU, a, b), doctest::Contains("swiglu_gate"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(gate(FfnKind::ReLU, a, a), doctest::Contains("relu is not a gated"), std::invalid_argument);
}
