// test_elementwise.cpp — add, mul (with suffix broadcasting), scale, sum, mean.
#include <doctest/doctest.h>
#include <omp.h>

#include <cstring>
#include <stdexcept>

#include "glulab/ops.h"
#include "gradcheck.h"
#include "thread_count.h"

using namespace glulab;
using namespace glulab::testing;

TEST_CASE("elementwise: add and mul values, same shape and broadcast") {
    Tensor a = Tensor::from_values({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor b = Tensor::from_values({2, 3}, {10, 20, 30, 40, 50, 60});
    CHECK(add(a, b).to_vector() == std::vector<float>{11, 22, 33, 44, 55, 66});
    CHECK(mul(a, b).to_vector() == std::vector<float>{10, 40, 90, 160, 250, 360});

    Tensor g = Tensor::from_values({3}, {1, 10, 100});  // a gain (d) over (2, d)
    CHECK(add(a, g).to_vector() == std::vector<float>{2, 12, 103, 5, 15, 106});
    CHECK(mul(a, g).to_vector() == std::vector<float>{1, 20, 300, 4, 50, 600});
    CHECK(add(a, g).shape() == Shape{2, 3});

    // positions (T, d) = (2, 2) over (B, T, d) = (2, 2, 2)
    Tensor h = Tensor::from_values({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
    Tensor P = Tensor::from_values({2, 2}, {100, 200, 300, 400});
    CHECK(add(h, P).to_vector() == std::vector<float>{101, 202, 303, 404, 105, 206, 307, 408});
}

TEST_CASE("elementwise: scale, sum, mean values") {
    Tensor x = Tensor::from_values({2, 2}, {1, -2, 3, 4.5f});
    CHECK(scale(x, -2.0f).to_vector() == std::vector<float>{-2, 4, -6, -9});
    CHECK(sum(x).shape() == Shape{1});
    CHECK(sum(x).item() == doctest::Approx(6.5));
    CHECK(mean(x).item() == doctest::Approx(6.5 / 4));
}

TEST_CASE("elementwise: broadcast gradient sums over the repeats") {
    Tensor a = Tensor::from_values({2, 3}, {1, 2, 3, 4, 5, 6}, true);
    Tensor g = Tensor::from_values({3}, {1, 10, 100}, true);
    sum(mul(a, g)).backward();
    CHECK(g.grad_vector() == std::vector<float>{5, 7, 9});                  // column sums of a
    CHECK(a.grad_vector() == std::vector<float>{1, 10, 100, 1, 10, 100});  // g repeated
    Tensor c = Tensor::from_values({2, 3}, {1, 2, 3, 4, 5, 6}, true);
    Tensor bias = Tensor::from_values({3}, {0, 0, 0}, true);
    sum(add(c, bias)).backward();
    CHECK(bias.grad_vector() == std::vector<float>{2, 2, 2});
}

TEST_CASE("gradcheck: add and mul on awkward shapes with (d) and (T, d) suffixes") {
    Rng rng(11);
    const std::vector<std::pair<Shape, Shape>> cases = {
        {{7}, {7}},       {{3, 5}, {3, 5}},       {{3, 5}, {5}},          {{2, 3, 5}, {5}},
        {{2, 3, 5}, {3, 5}}, {{2, 1, 3, 7}, {7}}, {{2, 1, 3, 7}, {3, 7}}, {{2, 1, 3, 7}, {1, 3, 7}},
    };
    for (const auto& [sa, sb] : cases) {
        CAPTURE(shape_to_string(sa));
        CAPTURE(shape_to_string(sb));
        check_gradients([](const std::vector<Tensor>& in) { return add(in[0], in[1]); },
                        {random_tensor(sa, rng), random_tensor(sb, rng)});
        check_gradients([](const std::vector<Tensor>& in) { return mul(in[0], in[1]); },
                        {random_tensor(sa, rng), random_tensor(sb, rng)});
    }
}

TEST_CASE("gradcheck: scale, sum, mean") {
    Rng rng(12);
    for (const Shape& shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 5}, Shape{2, 1, 3, 7}}) {
        check_gradients([](const std::vector<Tensor>& in) { return scale(in[0], -1.7f); }, {random_tensor(shape, rng)});
        check_gradients([](const std::vector<Tensor>& in) { return sum(in[0]); }, {random_tensor(shape, rng)});
        check_gradients([](const std::vector<Tensor>& in) { return mean(in[0]); }, {random_tensor(shape, rng)});
    }
}

TEST_CASE("elementwise: inputs that do not require a gradient get none") {
    Rng rng(13);
    Tensor a = random_tensor({3, 4}, rng, 1.0f, true);
    Tensor b = random_tensor({4}, rng, 1.0f, false);
    sum(mul(a, b)).backward();
    CHECK(a.has_grad());
    CHECK_FALSE(b.has_grad());
    Tensor c = random_tensor({3, 4}, rng, 1.0f, false);
    Tensor d = random_tensor({4}, rng, 1.0f, true);
    sum(add(c, d)).backward();
    CHECK_FALSE(c.has_grad());
    CHECK(d.has_grad());
}

TEST_CASE("elementwise: broadcast gradients are bit-identical across thread counts") {
    // Big enough (> 65536 elements) that the elementwise loops run in parallel.
    Rng rng(14);
    Tensor a0 = random_tensor({16, 64, 48}, rng);
    Tensor b0 = random_tensor({48}, rng);
    Tensor p0 = random_tensor({64, 48}, rng);
    auto run = [&](int threads) {
        ThreadCountGuard guard;
        omp_set_num_threads(threads);
        Tensor a = Tensor::from_values(a0.shape(), a0.to_vector(), true);
        Tensor b = Tensor::from_values(b0.shape(), b0.to_vector(), true);
        Tensor p = Tensor::from_values(p0.shape(), p0.to_vector(), true);
        Tensor y = mul(add(a, p), b);
        std::vector<float> seed(y.numel());
        for (size_t i = 0; i < seed.size(); ++i) seed[i] = std::sin(0.37f * static_cast<float>(i));
        backward(y, seed.data());
        std::vector<float> all = a.grad_vector();
        for (float v : b.grad_vector()) all.push_back(v);
        for (float v : p.grad_vector()) all.push_back(v);
        return all;
    };
    const std::vector<float> one = run(1), two = run(2);
    REQUIRE(one.size() == two.size());
    CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
}

TEST_CASE("elementwise: bad shapes throw") {
    Tensor a = Tensor::zeros({2, 3});
    CHECK_THROWS_AS(add(a, Tensor::zeros({2})), std::invalid_argument);         // not a suffix
    CHECK_THROWS_AS(add(a, Tensor::zeros({3, 3})), std::invalid_argument);      // leading dim differs
    CHECK_THROWS_AS(add(Tensor::zeros({3}), a), std::invalid_argument);         // b longer than a
    CHECK_THROWS_AS(mul(a, Tensor::zeros({2, 2, 3})), std::invalid_argument);
    CHECK_THROWS_WITH(mul(a, Tensor::zeros({2})), doctest::Contains("mul: "));
    CHECK_THROWS_WITH(mul(a, Tensor::zeros({2})), doctest::Contains("(2, 3) and (2)"));
}
