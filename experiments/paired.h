// paired.h — what the paired speed comparisons share (gemm_ab.cpp, step_ab/step_ab.cpp): the
// times of two versions taken in pairs, and the quantiles that summarise them.
#pragma once
#include <algorithm>
#include <vector>

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
