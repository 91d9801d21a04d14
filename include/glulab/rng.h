// rng.h — a small, self-contained random number generator.
//
// Why our own: std::normal_distribution and friends are implementation-defined, so the
// same seed would give different models under libstdc++ and libc++. xoshiro256** (Blackman
// & Vigna, 2018) seeded through splitmix64 is tiny, fast and fully specified.
#pragma once
#include <array>
#include <cstdint>

namespace glulab {

class Rng {
public:
    explicit Rng(uint64_t seed = 0);

    uint64_t next_u64();
    // Uniform in [0, 1), 24 random bits: every value is an exact float.
    float uniform();
    // Uniform integer in [0, n), n > 0, without modulo bias (rejection sampling).
    uint64_t below(uint64_t n);
    // Standard normal by Box-Muller; no cached second value, so the state is only `s`.
    float normal();

    // The whole state, for checkpoints: restoring it resumes the exact stream.
    std::array<uint64_t, 4> state() const { return s_; }
    void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

private:
    std::array<uint64_t, 4> s_;
};

}  // namespace glulab
