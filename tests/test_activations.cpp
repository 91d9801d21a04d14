// test_activations.cpp — ReLU, GELU, sigmoid, SiLU: values and finite-difference gradients.
#include <doctest/doctest.h>

#include <cmath>

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
        check_gradients([](const std::vector<Tensor>& in) { return sigmoid(in[0]); }, {random_tensor(shape, rng, 2.0f)});
        check_gradients([](const std::vector<Tensor>& in) { return silu(in[0]); }, {random_tensor(shape, rng, 2.0f)});
    }
}
