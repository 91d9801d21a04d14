// data.cpp — bytes in, batches out.
#include "glulab/data.h"

#include <stdexcept>

#include "glulab/fileio.h"

namespace glulab {

Corpus split_corpus(std::vector<uint8_t> bytes, int ctx, const std::string& name) {
    if (bytes.empty()) throw std::runtime_error("corpus " + name + " is empty");
    const size_t n_train = bytes.size() * 9 / 10;
    Corpus c;
    c.path = name;
    c.train.assign(bytes.begin(), bytes.begin() + static_cast<long>(n_train));
    c.val.assign(bytes.begin() + static_cast<long>(n_train), bytes.end());
    // One window needs T inputs plus the byte after them.
    const size_t need = static_cast<size_t>(ctx) + 1;
    if (c.train.size() < need || c.val.size() < need)
        throw std::runtime_error("corpus " + name + " is too short: " + std::to_string(bytes.size()) +
                                 " bytes give a " + std::to_string(c.train.size()) + "-byte train and a " +
                                 std::to_string(c.val.size()) + "-byte validation split; each needs at least " +
                                 std::to_string(need) + " (context " + std::to_string(ctx) + " + 1), so at least " +
                                 std::to_string(need * 10) + " bytes in all");
    return c;
}

Corpus load_corpus(const std::string& path, int ctx) {
    const std::string text = read_file(path);
    return split_corpus(std::vector<uint8_t>(text.begin(), text.end()), ctx, path);
}

BatchSampler::BatchSampler(const std::vector<uint8_t>& train, int B, int T, uint64_t seed)
    : train_(train), B_(B), T_(T), rng_(seed) {}

void BatchSampler::next(Batch& b) {
    b.B = B_;
    b.T = T_;
    b.tokens.resize(static_cast<size_t>(B_) * T_);
    b.targets.resize(b.tokens.size());
    const uint64_t offsets = train_.size() - T_;  // offsets 0 .. n_train - T - 1
    for (int row = 0; row < B_; ++row) {
        const size_t start = rng_.below(offsets);
        for (int t = 0; t < T_; ++t) {
            b.tokens[row * T_ + t] = train_[start + t];
            b.targets[row * T_ + t] = train_[start + t + 1];
        }
    }
}

void random_batch(Rng& rng, int B, int T, Batch& b) {
    b.B = B;
    b.T = T;
    b.tokens.resize(static_cast<size_t>(B) * T);
    b.targets.resize(b.tokens.size());
    for (int row = 0; row < B; ++row) {
        int byte = static_cast<int>(rng.below(256));  // any byte: window position 0
        for (int t = 0; t < T; ++t) {
            b.tokens[row * T + t] = byte;
            byte = static_cast<int>(rng.below(256));  // position t + 1
            b.targets[row * T + t] = byte;
        }
    }
}

std::vector<Batch> validation_batches(const std::vector<uint8_t>& val, int T, int B) {
    const size_t windows = (val.size() - 1) / T;
    std::vector<Batch> batches;
    for (size_t first = 0; first < windows; first += B) {
        Batch b;
        b.B = static_cast<int>(std::min<size_t>(B, windows - first));
        b.T = T;
        for (size_t i = first; i < first + b.B; ++i)
            for (int t = 0; t < T; ++t) {
                b.tokens.push_back(val[i * T + t]);
                b.targets.push_back(val[i * T + t + 1]);
            }
        batches.push_back(std::move(b));
    }
    return batches;
}

}  // namespace glulab
