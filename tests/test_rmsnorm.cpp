// test_rmsnorm.cpp — RMSNorm: values, gradients, determinism, bad arguments.
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "glulab/ops.h"
#include "gradcheck.h"
#include "thread_count.h"

using namespace glulab;
using namespace glulab::testing;

TEST_CASE("rmsnorm: values of a hand-computed row") {
    // x = (1, 2, 3, 4): mean(x^2) = 30 / 4 = 7.5, so y = x / sqrt(7.5 + eps) * g.
    Tensor x = Tensor::from_values({1, 4}, {1, 2, 3, 4});
    Tensor g = Tensor::from_values({4}, {1, 2, 0.5f, -1});
    Tensor y = rmsnorm(x, g, 1e-5f);
    REQUIRE(y.shape() == Shape{1, 4});
    const double r = 1.0 / std::sqrt(7.5 + 1e-5);
    CHECK(y.data()[0] == doctest::Approx(1 * r * 1));
    CHECK(y.data()[1] == doctest::Approx(2 * r * 2));
    CHECK(y.data()[2] == doctest::Approx(3 * r * 0.5));
    CHECK(y.data()[3] == doctest::Approx(4 * r * -1));
    // With g = 1, each output row has mean square ~1.
    Tensor ones = Tensor::from_values({4}, {1, 1, 1, 1});
    Tensor z = rmsnorm(Tensor::from_values({2, 4}, {3, -3, 3, -3, 0.1f, 0.2f, 0.3f, 0.4f}), ones);
    for (int row = 0; row < 2; ++row) {
        double ms = 0;
        for (int j = 0; j < 4; ++j) ms += z.data()[row * 4 + j] * z.data()[row * 4 + j];
        CHECK(ms / 4 == doctest::Approx(1.0).epsilon(1e-3));
    }
    // A zero row stays zero (eps keeps it finite).
    Tensor zero = rmsnorm(Tensor::zeros({1, 4}), ones);
    for (float v : zero.to_vector()) CHECK(v == 0.0f);
}

TEST_CASE("gradcheck: rmsnorm on awkward shapes (x and g)") {
    Rng rng(21);
    for (const Shape& shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 5}, Shape{2, 1, 3, 7}}) {
        CAPTURE(shape_to_string(shape));
        Tensor x = random_tensor(shape, rng);
        Tensor g = random_tensor({shape.back()}, rng, 0.5f);
        for (size_t j = 0; j < g.numel(); ++j) g.data()[j] += 1.0f;
        check_gradients([](const std::vector<Tensor>& in) { return rmsnorm(in[0], in[1]); }, {x, g});
    }
    // A large eps changes the formula noticeably: check it is used consistently.
    check_gradients([](const std::vector<Tensor>& in) { return rmsnorm(in[0], in[1], 0.5f); },
                    {random_tensor({3, 6}, rng), random_tensor({6}, rng)});
}

TEST_CASE("rmsnorm: only the inputs that require a gradient get one") {
    Rng rng(22);
    Tensor x = random_tensor({3, 5}, rng, 1.0f, false);
    Tensor g = random_tensor({5}, rng, 1.0f, true);
    sum(rmsnorm(x, g)).backward();
    CHECK_FALSE(x.has_grad());
    CHECK(g.has_grad());
}

TEST_CASE("rmsnorm: gradients are bit-identical across thread counts") {
    Rng rng(23);
    Tensor x0 = random_tensor({8, 100, 96}, rng);  // 76,800 elements: the parallel path
    Tensor g0 = random_tensor({96}, rng);
    auto run = [&](int threads) {
        ThreadCountGuard guard;
        omp_set_num_threads(threads);
        Tensor x = Tensor::from_values(x0.shape(), x0.to_vector(), true);
        Tensor g = Tensor::from_values(g0.shape(), g0.to_vector(), true);
        Tensor y = rmsnorm(x, g);
        std::vector<float> seed(y.numel());
        for (size_t i = 0; i < seed.size(); ++i) seed[i] = std::cos(0.11f * static_cast<float>(i));
        std::vector<float> all = y.to_vector();
        backward(y, seed.data());
        for (float v : x.grad_vector()) all.push_back(v);
        for (float v : g.grad_vector()) all.push_back(v);
        return all;
    };
    const std::vector<float> one = run(1), two = run(2);
    REQUIRE(one.size() == two.size());
    CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
}

TEST_CASE("rmsnorm: bad arguments throw") {
    Tensor x = Tensor::zeros({2, 3, 4});
    CHECK_THROWS_AS(rmsnorm(x, Tensor::zeros({3})), std::invalid_argument);
    CHECK_THROWS_AS(rmsnorm(x, Tensor::zeros({1, 4})), std::invalid_argument);
    CHECK_THROWS_AS(rmsnorm(x, Tensor::zeros({4}), -1.0f), std::invalid_argument);
    CHECK_THROWS_WITH(rmsnorm(x, Tensor::zeros({3})), doctest::Contains("rmsnorm: "));
    CHECK_THROWS_WITH(rmsnorm(x, Tensor::zeros({3})), doctest::Contains("(2, 3, 4) and (3)"));
}
