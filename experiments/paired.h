// paired.h — what the paired speed comparisons share (gemm_ab.cpp, step_ab/step_ab.cpp,
// kernel_alone.cpp, core_balance.cpp): the times of two versions taken in pairs, the quantiles
// that summarise them, and the REPS argument.
#pragma once
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

// REPS, the optional first argument of a measuring program: `fallback` when absent. Returns 0
// after printing one line naming `program` when it is below 3 (too few for quartiles).
inline int reps_argument(int argc, char** argv, int fallback, const char* program) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : fallback;
    if (reps < 3) std::fprintf(stderr, "%s: REPS must be at least 3, got %s\n", program, argv[1]);
    return reps < 3 ? 0 : reps;
}

// The q-quantile of a sample, 0 <= q <= 1: its element of rank q (n - 1), rounded down.
inline double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(q * (v.size() - 1))];
}

// Seconds of the base and the new version, one pair at a time; ratio > 1: the new one is faster.
struct PairedTimes {
    std::vector<double> base, fresh, ratio;

    void add(double t_base, double t_new) {
        base.push_back(t_base);
        fresh.push_back(t_new);
        ratio.push_back(t_base / t_new);
    }
};
