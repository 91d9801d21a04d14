// test_softmax.cpp — softmax over the last dim, with and without the causal mask.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "glulab/ops.h"
#include "gradcheck.h"

using namespace glulab;
using namespace glulab::testing;

TEST_CASE("softmax: values of hand-computed rows") {
    Tensor x = Tensor::from_values({2, 3}, {1, 2, 3, 0, 0, 0});
    Tensor y = softmax(x);
    const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    CHECK(y.data()[0] == doctest::Approx(std::exp(1.0) / z));
    CHECK(y.data()[1] == doctest::Approx(std::exp(2.0) / z));
    CHECK(y.data()[2] == doctest::Approx(std::exp(3.0) / z));
    for (int j = 3; j < 6; ++j) CHECK(y.data()[j] == doctest::Approx(1.0 / 3));
    // Shift invariance: adding a constant to a row changes nothing.
    Tensor shifted = softmax(Tensor::from_values({3}, {101, 102, 103}));
    for (int j = 0; j < 3; ++j) CHECK(shifted.data()[j] == doctest::Approx(y.data()[j]));
}

TEST_CASE("softmax: extreme inputs stay finite") {
    Tensor x = Tensor::from_values({3, 3}, {1000, -1000, 0, 1000, 1000, 1000, -1000, -1000, -999}, true);
    Tensor y = softmax(x);
    for (float v : y.to_vector()) CHECK(std::isfinite(v));
    CHECK(y.data()[0] == 1.0f);
    CHECK(y.data()[1] == 0.0f);
    CHECK(y.data()[3] == doctest::Approx(1.0 / 3));
    CHECK(y.data()[8] == doctest::Approx(std::exp(1.0) / (2.0 + std::exp(1.0))));
    std::vector<float> seed(9);
    for (int i = 0; i < 9; ++i) seed[i] = static_cast<float>(i) - 4.0f;
    backward(y, seed.data());
    for (float v : x.grad_vector()) CHECK(std::isfinite(v));
    // Causal rows of +-1000 too.
    Tensor c = softmax(Tensor::from_values({2, 2}, {-1000, 1000, 1000, -1000}), true);
    CHECK(c.to_vector() == std::vector<float>{1, 0, 1, 0});
}

TEST_CASE("gradcheck: softmax on awkward shapes") {
    Rng rng(31);
    for (const Shape& shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 5}, Shape{2, 1, 3, 7}}) {
        CAPTURE(shape_to_string(shape));
        check_gradients([](const std::vector<Tensor>& in) { return softmax(in[0]); },
                        {random_tensor(shape, rng, 2.0f)});
    }
}

TEST_CASE("gradcheck: causal softmax on (..., T, T)") {
    Rng rng(32);
    for (const Shape& shape : {Shape{5, 5}, Shape{2, 3, 3}, Shape{2, 3, 4, 4}, Shape{1, 2, 7, 7}}) {
        CAPTURE(shape_to_string(shape));
        check_gradients([](const std::vector<Tensor>& in) { return softmax(in[0], true); },
                        {random_tensor(shape, rng, 2.0f)});
    }
}

TEST_CASE("softmax: the causal mask zeroes the future and blocks its gradient") {
    Rng rng(33);
    const int T = 5;
    Tensor x = random_tensor({2, 3, T, T}, rng, 3.0f);
    Tensor y = softmax(x, true);
    for (int m = 0; m < 6; ++m)
        for (int i = 0; i < T; ++i) {
            const float* row = y.data() + (m * T + i) * T;
            double total = 0;
            for (int j = 0; j < T; ++j) {
                if (j > i) CHECK(row[j] == 0.0f);  // exactly zero, not just small
                total += row[j];
            }
            CHECK(total == doctest::Approx(1.0));
        }
    // Row 0 sees only itself.
    CHECK(y.data()[0] == 1.0f);

    // Masked inputs do not influence the output at all, even when huge.
    Tensor x2 = Tensor::from_values(x.shape(), x.to_vector());
    for (int m = 0; m < 6; ++m)
        for (int i = 0; i < T; ++i)
            for (int j = i + 1; j < T; ++j) x2.data()[(m * T + i) * T + j] = 1e30f;
    CHECK(softmax(x2, true).to_vector() == y.to_vector());

    // The gradient of a masked input is exactly zero, whatever flows into its output.
    std::vector<float> seed(y.numel(), 1.0f);
    for (size_t k = 0; k < seed.size(); ++k) seed[k] = static_cast<float>(k % 7) - 3.0f;
    backward(y, seed.data());
    for (int m = 0; m < 6; ++m)
        for (int i = 0; i < T; ++i)
            for (int j = i + 1; j < T; ++j) CHECK(x.grad()[(m * T + i) * T + j] == 0.0f);
    // ... and the visible part is not all zero.
    CHECK(x.grad()[1 * T + 0] != 0.0f);
}

TEST_CASE("softmax: causal mask on a big (parallel) input matches the serial loop") {
    Rng rng(34);
    Tensor x = random_tensor({4, 4, 64, 64}, rng);  // 65,536+ elements
    Tensor x1 = random_tensor({1, 1, 64, 64}, rng);
    std::copy(x.data() + 5 * 64 * 64, x.data() + 6 * 64 * 64, x1.data());  // the 6th matrix alone
    Tensor y = softmax(x, true), y1 = softmax(x1, true);
    CHECK(std::equal(y1.data(), y1.data() + 64 * 64, y.data() + 5 * 64 * 64));
}

TEST_CASE("softmax: bad arguments throw") {
    CHECK_THROWS_AS(softmax(Tensor::zeros({3, 4}), true), std::invalid_argument);
    CHECK_THROWS_AS(softmax(Tensor::zeros({2, 4, 3}), true), std::invalid_argument);
    CHECK_THROWS_AS(softmax(Tensor::zeros({5}), true), std::invalid_argument);
    CHECK_THROWS_WITH(softmax(Tensor::zeros({3, 4}), true), doctest::Contains("softmax: "));
    CHECK_NOTHROW(softmax(Tensor::zeros({5})));
}
