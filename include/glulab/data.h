// data.h — a byte corpus, its train/validation split, random training windows and the
// fixed validation windows of ../shared/reference-model.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "glulab/rng.h"

namespace glulab {

struct Corpus {
    std::string path;
    std::vector<uint8_t> train;  // the first 90% of the bytes
    std::vector<uint8_t> val;    // the last 10%
};

// Reads any file as bytes and splits it. Throws std::runtime_error naming the file when it
// cannot be read, is empty, or either split is too short for one window of `ctx` + 1 bytes.
Corpus load_corpus(const std::string& path, int ctx);
Corpus split_corpus(std::vector<uint8_t> bytes, int ctx, const std::string& name);

// One training batch: B windows of T inputs and their T next-byte targets, row-major (B, T).
struct Batch {
    int B = 0, T = 0;
    std::vector<int> tokens, targets;
};

// Windows start at uniformly random offsets in [0, n_train - T - 1], drawn from its own
// seeded generator (whose state goes into checkpoints, so resumed runs draw the same batches).
class BatchSampler {
public:
    BatchSampler(const std::vector<uint8_t>& train, int B, int T, uint64_t seed);
    // Fills `batch` with the next B windows, reusing its vectors' memory.
    void next(Batch& batch);
    Rng& rng() { return rng_; }

private:
    const std::vector<uint8_t>& train_;
    int B_, T_;
    Rng rng_;
};

// Fills `batch` with B windows of T + 1 uniformly random bytes (T inputs, their T next-byte
// targets), reusing its vectors' memory: the input of `glulab bench` and of tests that time or
// count a training step without a corpus.
void random_batch(Rng& rng, int B, int T, Batch& batch);

// Validation window i reads val[iT, iT+T) and predicts val[iT+1, iT+T+1), for
// i = 0 .. floor((n_val - 1) / T) - 1. Returns those windows grouped into batches of at most B.
std::vector<Batch> validation_batches(const std::vector<uint8_t>& val, int T, int B);

}  // namespace glulab
