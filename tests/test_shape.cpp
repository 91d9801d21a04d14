// test_shape.cpp — reshape (a view) and transpose12 (a copy).
#include <doctest/doctest.h>

#include <stdexcept>

#include "glulab/ops.h"
#include "gradcheck.h"

using namespace glulab;
using namespace glulab::testing;

TEST_CASE("reshape: same storage, new shape") {
    Tensor x = Tensor::from_values({2, 3}, {1, 2, 3, 4, 5, 6}, true);
    Tensor y = reshape(x, {3, 2});
    CHECK(y.shape() == Shape{3, 2});
    CHECK(y.data() == x.data());  // a view: no copy
    CHECK(y.to_vector() == x.to_vector());
    CHECK(reshape(x, {6}).shape() == Shape{6});
    CHECK(reshape(x, {1, 2, 1, 3}).shape() == Shape{1, 2, 1, 3});
}

TEST_CASE("reshape: the gradient is added back in x's shape") {
    Tensor x = Tensor::from_values({2, 3}, {1, 2, 3, 4, 5, 6}, true);
    Tensor g = Tensor::from_values({2}, {10, 100});
    // x used twice: once directly, once through a reshape.
    sum(add(reshape(mul(reshape(x, {3, 2}), g), {2, 3}), x)).backward();
    CHECK(x.has_grad());
    CHECK(x.grad_vector() == std::vector<float>{11, 101, 11, 101, 11, 101});
}

TEST_CASE("gradcheck: reshape") {
    Rng rng(61);
    check_gradients([](const std::vector<Tensor>& in) { return mul(reshape(in[0], {6, 4}), in[1]); },
                    {random_tensor({2, 3, 4}, rng), random_tensor({4}, rng)});
    check_gradients([](const std::vector<Tensor>& in) { return reshape(in[0], {2, 3, 1, 5}); },
                    {random_tensor({5, 6}, rng)});
}

TEST_CASE("transpose12: values, and twice is the identity") {
    Rng rng(62);
    const int A = 2, B = 3, C = 4, D = 5;
    Tensor x = random_tensor({A, B, C, D}, rng);
    Tensor y = transpose12(x);
    REQUIRE(y.shape() == Shape{A, C, B, D});
    for (int a = 0; a < A; ++a)
        for (int b = 0; b < B; ++b)
            for (int c = 0; c < C; ++c)
                for (int d = 0; d < D; ++d)
                    CHECK(y.data()[((a * C + c) * B + b) * D + d] == x.data()[((a * B + b) * C + c) * D + d]);
    CHECK(transpose12(y).to_vector() == x.to_vector());
    // A hand-sized case: (1, 2, 2, 1) swaps the middle two entries.
    CHECK(transpose12(Tensor::from_values({1, 2, 2, 1}, {1, 2, 3, 4})).to_vector() == std::vector<float>{1, 3, 2, 4});
}

TEST_CASE("gradcheck: transpose12 on awkward shapes") {
    Rng rng(63);
    for (const Shape& shape : {Shape{2, 3, 4, 5}, Shape{1, 5, 2, 3}, Shape{3, 2, 7, 1}}) {
        CAPTURE(shape_to_string(shape));
        check_gradients([](const std::vector<Tensor>& in) { return transpose12(in[0]); }, {random_tensor(shape, rng)});
    }
    // Split heads and merge them back, as attention does: (B, T, H, hd) -> (B, H, T, hd) -> back.
    check_gradients(
        [](const std::vector<Tensor>& in) {
            Tensor heads = transpose12(reshape(in[0], {2, 5, 3, 2}));  // (B, H, T, hd) = (2, 3, 5, 2)
            return reshape(transpose12(mul(heads, in[1])), {2, 5, 6});
        },
        {random_tensor({2, 5, 6}, rng), random_tensor({5, 2}, rng)});
}

TEST_CASE("shape ops: bad arguments throw") {
    Tensor x = Tensor::zeros({2, 3});
    CHECK_THROWS_AS(reshape(x, {4}), std::invalid_argument);
    CHECK_THROWS_AS(reshape(x, {6, 0}), std::invalid_argument);
    CHECK_THROWS_AS(reshape(x, {1, 1, 1, 2, 3}), std::invalid_argument);
    CHECK_THROWS_AS(reshape(x, {}), std::invalid_argument);
    CHECK_THROWS_WITH(reshape(x, {4}), doctest::Contains("reshape: "));
    CHECK_THROWS_WITH(reshape(x, {4}), doctest::Contains("(2, 3) and (4)"));
    CHECK_THROWS_AS(transpose12(Tensor::zeros({2, 3, 4})), std::invalid_argument);
    CHECK_THROWS_WITH(transpose12(Tensor::zeros({2, 3, 4})), doctest::Contains("transpose12: "));
}
