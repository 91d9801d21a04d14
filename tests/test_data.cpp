// test_data.cpp — the 90/10 split, training windows, the spec's validation windows and random batches.
#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>

#include "glulab/data.h"

using namespace glulab;

namespace {
std::vector<uint8_t> counting_bytes(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i % 251);
    return v;
}
}  // namespace

TEST_CASE("data: the first 90% trains, the last 10% validates") {
    const Corpus c = split_corpus(counting_bytes(1000), 8, "test");
    CHECK(c.train.size() == 900);
    CHECK(c.val.size() == 100);
    CHECK(c.val[0] == 900 % 251);
}

TEST_CASE("data: a corpus too short for one window in either split is refused with the sizes") {
    CHECK_THROWS_WITH_AS(split_corpus({}, 8, "empty.txt"), doctest::Contains("empty"), std::runtime_error);
    CHECK_THROWS_WITH_AS(split_corpus(counting_bytes(80), 8, "short.txt"), doctest::Contains("at least 90 bytes"),
                         std::runtime_error);
    CHECK_NOTHROW(split_corpus(counting_bytes(90), 8, "ok.txt"));
}

TEST_CASE("data: validation windows are consecutive, T long, the short tail dropped") {
    const std::vector<uint8_t> val = counting_bytes(23);  // (23 - 1) / 5 = 4 windows
    const std::vector<Batch> batches = validation_batches(val, 5, 3);
    REQUIRE(batches.size() == 2);
    CHECK(batches[0].B == 3);
    CHECK(batches[1].B == 1);
    CHECK(batches[1].tokens.front() == 15);   // window 3 reads val[15, 20)
    CHECK(batches[1].targets.back() == 20);   // and predicts val[16, 21)
}

TEST_CASE("data: training windows are shifted by one, in range, and reproducible from the seed") {
    const std::vector<uint8_t> train = counting_bytes(200);
    BatchSampler a(train, 4, 10, 42), b(train, 4, 10, 42);
    for (int step = 0; step < 50; ++step) {
        Batch x, y;
        a.next(x);
        b.next(y);
        CHECK(x.tokens == y.tokens);
        for (int i = 0; i < 40; ++i)
            if (i % 10 != 9) CHECK(x.targets[i] == x.tokens[i + 1]);
    }
}

TEST_CASE("data: random batches are next-byte windows of any byte, reproducible from the seed, reusing memory") {
    Rng a(7), b(7);
    Batch x, y;
    random_batch(a, 3, 50, x);
    random_batch(b, 3, 50, y);
    CHECK(x.B == 3);
    CHECK(x.T == 50);
    REQUIRE(x.tokens.size() == 150);
    REQUIRE(x.targets.size() == 150);
    CHECK(x.tokens == y.tokens);
    CHECK(x.targets == y.targets);
    std::vector<bool> seen(256, false);
    for (int i = 0; i < 150; ++i) {
        CHECK((x.tokens[i] >= 0 && x.tokens[i] < 256));
        seen[x.tokens[i]] = true;
        if (i % 50 != 49) CHECK(x.targets[i] == x.tokens[i + 1]);
    }
    CHECK(std::count(seen.begin(), seen.end(), true) > 100);  // 150 draws of 256 values: about 113 distinct
    const int* before = x.tokens.data();
    random_batch(a, 2, 50, x);  // smaller: no new memory
    CHECK(x.tokens.data() == before);
    CHECK(x.tokens.size() == 100);
    CHECK(x.tokens != std::vector<int>(y.tokens.begin(), y.tokens.begin() + 100));  // the next draws
}
