// test_embedding.cpp — gather forward, scatter-add backward, with repeated ids.
#include <doctest/doctest.h>

#include <stdexcept>

#include "glulab/ops.h"
#include "gradcheck.h"

using namespace glulab;
using namespace glulab::testing;

TEST_CASE("embedding: gathers rows into the ids' shape") {
    Tensor table = Tensor::from_values({4, 3}, {0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32});
    Tensor y = embedding(table, {2, 0, 2}, {3});
    CHECK(y.shape() == Shape{3, 3});
    CHECK(y.to_vector() == std::vector<float>{20, 21, 22, 0, 1, 2, 20, 21, 22});
    Tensor y2 = embedding(table, {3, 1, 0, 0, 2, 3}, {2, 3});  // (B, T) -> (B, T, d)
    CHECK(y2.shape() == Shape{2, 3, 3});
    CHECK(y2.data()[0] == 30.0f);
    CHECK(y2.data()[5] == 12.0f);
    CHECK(y2.data()[17] == 32.0f);
    Tensor y3 = embedding(table, {1, 2}, {1, 1, 2});
    CHECK(y3.shape() == Shape{1, 1, 2, 3});
}

TEST_CASE("embedding: repeated ids accumulate their gradients") {
    Tensor table = Tensor::zeros({4, 2}, true);
    Tensor y = embedding(table, {2, 0, 2, 2}, {4});
    std::vector<float> seed = {1, 2, 3, 4, 5, 6, 7, 8};  // one (d = 2) row per id
    backward(y, seed.data());
    // Row 2 gets rows 0, 2 and 3 of dy; row 0 gets row 1; rows 1 and 3 get nothing.
    CHECK(table.grad_vector() == std::vector<float>{3, 4, 0, 0, 1 + 5 + 7, 2 + 6 + 8, 0, 0});
}

TEST_CASE("gradcheck: embedding with repeated ids on awkward shapes") {
    Rng rng(51);
    check_gradients([](const std::vector<Tensor>& in) { return embedding(in[0], {4, 1, 4, 0, 4, 2, 1, 1}, {2, 4}); },
                    {random_tensor({5, 3}, rng)});
    check_gradients([](const std::vector<Tensor>& in) { return embedding(in[0], {6, 6, 0}, {1, 3}); },
                    {random_tensor({7, 5}, rng)});
    check_gradients([](const std::vector<Tensor>& in) { return embedding(in[0], {0, 2, 2, 1, 0, 2}, {2, 1, 3}); },
                    {random_tensor({3, 6}, rng)});
}

TEST_CASE("embedding: a frozen table records nothing") {
    Tensor table = Tensor::from_values({2, 2}, {1, 2, 3, 4});
    Tensor y = embedding(table, {1}, {1});
    CHECK_FALSE(y.requires_grad());
    CHECK_FALSE(static_cast<bool>(y.impl()->grad_fn));
}

TEST_CASE("embedding: bad arguments throw") {
    Tensor table = Tensor::zeros({4, 3});
    CHECK_THROWS_AS(embedding(table, {0, 4}, {2}), std::invalid_argument);       // id == V
    CHECK_THROWS_AS(embedding(table, {-1, 0}, {2}), std::invalid_argument);      // negative id
    CHECK_THROWS_AS(embedding(table, {0, 1, 2}, {2}), std::invalid_argument);    // count != shape
    CHECK_THROWS_AS(embedding(table, {0}, {1, 1, 1, 1}), std::invalid_argument); // output rank 5
    CHECK_THROWS_AS(embedding(table, {}, {0}), std::invalid_argument);           // zero dim
    CHECK_THROWS_AS(embedding(Tensor::zeros({12}), {0}, {1}), std::invalid_argument);
    CHECK_THROWS_WITH(embedding(table, {0, 4}, {2}), doctest::Contains("embedding: id 4 at position 1"));
    CHECK_THROWS_WITH(embedding(table, {0, 4}, {2}), doctest::Contains("(4, 3) and (2)"));
}
