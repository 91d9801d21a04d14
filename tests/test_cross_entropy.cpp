// test_cross_entropy.cpp — the fused log-softmax + negative log-likelihood loss.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "glulab/ops.h"
#include "gradcheck.h"

using namespace glulab;
using namespace glulab::testing;

TEST_CASE("cross_entropy: values of hand-computed rows") {
    // Row 0: uniform over 3 classes -> ln 3.  Row 1: lse(1, 2, 3) - 3.
    Tensor logits = Tensor::from_values({2, 3}, {0, 0, 0, 1, 2, 3});
    Tensor L = cross_entropy(logits, {1, 2});
    REQUIRE(L.shape() == Shape{1});
    const double row1 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
    CHECK(L.item() == doctest::Approx((std::log(3.0) + row1) / 2));
    // Uniform logits over the byte vocabulary: ln 256, the expected initial loss of the model.
    Tensor u = Tensor::zeros({4, 256});
    CHECK(cross_entropy(u, {0, 97, 255, 10}).item() == doctest::Approx(std::log(256.0)));
    // One class: the loss is exactly 0.
    CHECK(cross_entropy(Tensor::from_values({2, 1}, {5, -5}), {0, 0}).item() == 0.0f);
}

TEST_CASE("cross_entropy: gradient is (softmax - onehot) / N") {
    Tensor logits = Tensor::from_values({2, 3}, {0, 0, 0, 1, 2, 3}, true);
    cross_entropy(logits, {1, 2}).backward();
    const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    const std::vector<double> expect = {1.0 / 6, (1.0 / 3 - 1) / 2, 1.0 / 6,
                                        std::exp(1.0) / z / 2, std::exp(2.0) / z / 2, (std::exp(3.0) / z - 1) / 2};
    for (int k = 0; k < 6; ++k) CHECK(logits.grad()[k] == doctest::Approx(expect[k]));
}

TEST_CASE("gradcheck: cross_entropy on awkward shapes, with an upstream factor") {
    Rng rng(41);
    const std::vector<std::pair<Shape, std::vector<int>>> cases = {
        {{1, 4}, {3}}, {{3, 5}, {0, 4, 2}}, {{7, 3}, {2, 2, 0, 1, 0, 1, 2}}, {{5, 11}, {10, 0, 5, 5, 7}}};
    for (const auto& [shape, targets] : cases) {
        CAPTURE(shape_to_string(shape));
        const std::vector<int> t = targets;
        check_gradients([t](const std::vector<Tensor>& in) { return cross_entropy(in[0], t); },
                        {random_tensor(shape, rng, 2.0f)});
        // dL != 1: the loss scaled after the fact.
        check_gradients([t](const std::vector<Tensor>& in) { return scale(cross_entropy(in[0], t), -2.5f); },
                        {random_tensor(shape, rng, 2.0f)});
    }
}

TEST_CASE("cross_entropy: logits of +-1000 stay finite and exact") {
    Tensor logits = Tensor::from_values({3, 3}, {1000, -1000, 0, 1000, -1000, 0, 1000, 1000, -1000}, true);
    Tensor L = cross_entropy(logits, {0, 1, 2});
    // Row 0: 0.  Row 1: lse = 1000, so 1000 - (-1000) = 2000.  Row 2: 1000 + ln 2 - (-1000).
    const double expect = (0.0 + 2000.0 + 2000.0 + std::log(2.0)) / 3;
    CHECK(std::isfinite(L.item()));
    CHECK(L.item() == doctest::Approx(expect));
    L.backward();
    const std::vector<double> grad = {0, 0, 0, 1.0 / 3, -1.0 / 3, 0, 0.5 / 3, 0.5 / 3, -1.0 / 3};
    for (int k = 0; k < 9; ++k) {
        CHECK(std::isfinite(logits.grad()[k]));
        CHECK(logits.grad()[k] == doctest::Approx(grad[k]));
    }
}

TEST_CASE("cross_entropy: bad arguments throw") {
    Tensor logits = Tensor::zeros({3, 4});
    CHECK_THROWS_AS(cross_entropy(logits, {0, 1}), std::invalid_argument);         // too few targets
    CHECK_THROWS_AS(cross_entropy(logits, {0, 1, 2, 3}), std::invalid_argument);   // too many
    CHECK_THROWS_AS(cross_entropy(logits, {0, 4, 1}), std::invalid_argument);      // == V
    CHECK_THROWS_AS(cross_entropy(logits, {0, -1, 1}), std::invalid_argument);     // negative
    CHECK_THROWS_AS(cross_entropy(Tensor::zeros({2, 3, 4}), {0, 1, 2, 3, 0, 1}), std::invalid_argument);
    CHECK_THROWS_AS(cross_entropy(Tensor::zeros({4}), {0}), std::invalid_argument);
    CHECK_THROWS_WITH(cross_entropy(logits, {0, 4, 1}), doctest::Contains("cross_entropy: target 4 at row 1"));
    CHECK_THROWS_WITH(cross_entropy(logits, {0, 1}), doctest::Contains("(3, 4) and (2)"));
}
