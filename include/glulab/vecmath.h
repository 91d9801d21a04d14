// vecmath.h — exp, sigmoid and tanh written so that a loop over an array vectorises, and the
// row reductions (max, sum, dot) that softmax and the loss need, in a fixed order.
//
// Why not std::exp? A call to libm's expf cannot be vectorised by the compiler, so a loop over
// a million elements makes a million calls (about 3 ns each here): in the small preset that was
// 15% of a training step (softmax, SiLU, GELU, the loss). The functions below are branch-free
// inline code, so GCC and Clang turn `for (i...) y[i] = exp_approx(x[i]);` into AVX-512 or AVX2
// code at -O3 (16 or 8 elements per instruction) with no intrinsics and no run-time dispatch.
//
// Accuracy (tests/test_vecmath.cpp checks it over the whole float range):
//   exp_approx:     relative error below 2e-7 (about 2 ulp) for results that are normal floats;
//                   0 below exp(-87.34) (where exp underflows to subnormals), +inf above 88.72,
//                   NaN for NaN. std::exp is correctly rounded or nearly (< 1 ulp).
//   sigmoid_approx: absolute error below 2e-7.
//   tanh_approx:    absolute error below 3e-7 (relative error grows near 0, where tanh(u) ~ u:
//                   it is computed as 1 - 2 / (exp(2u) + 1)); GELU only uses 1 + tanh.
//
// Reductions: summing in 16 independent lanes (then the lanes in order) lets the compiler keep
// 16 partial sums in one vector register instead of waiting for each add to finish; the order is
// fixed by the code, not by the number of threads or the instruction set, so the bits are the
// same everywhere (as long as the compiler does not reassociate: no -ffast-math).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace glulab {

// 2^e as a float, for integer e in [-126, 127]: the exponent field of the IEEE-754 format.
inline float pow2_int(int32_t e) {
    const int32_t bits = (e + 127) << 23;
    float f;
    std::memcpy(&f, &bits, sizeof f);  // a bit cast; compiles to nothing
    return f;
}

// exp(x) = 2^n exp(r),  n = round(x / ln 2),  r = x - n ln 2 in [-ln2/2, ln2/2]
//   (Cody & Waite's reduction: ln 2 is split in a part with few bits, kLn2Hi, so that n kLn2Hi
//   is exact, and the rest, kLn2Lo; then a degree-6 polynomial for exp(r): Moshier's Cephes
//   coefficients, a minimax fit on that interval). 2^n is built in two halves, because n may
//   reach 128 where 2^n alone is not a float.
inline float exp_approx(float x) {
    constexpr float kMaxArg = 88.72283f;   // ln(FLT_MAX): above, exp overflows
    constexpr float kMinArg = -87.33654f;  // ln(FLT_MIN): below, exp is subnormal; we give 0
    constexpr float kLog2e = 1.44269504088896341f;
    constexpr float kLn2Hi = 0.693359375f;
    constexpr float kLn2Lo = -2.12194440e-4f;
    // Clamped so that n below is a small integer: this argument order also sends NaN to kMinArg
    // (std::max(a, b) returns a when the comparison fails), since converting NaN to an integer
    // is undefined behaviour (UBSan reports it). The result for NaN is chosen at the end.
    const float xc = std::min(kMaxArg, std::max(kMinArg, x));
    // n = round(xc / ln 2), by adding and subtracting 1.5 * 2^23: the sum has no bits below 1, so
    // the FPU rounds it (to nearest even). std::floor would do, but GCC does not vectorise it.
    constexpr float kRoundShift = 12582912.0f;
    const float n = (xc * kLog2e + kRoundShift) - kRoundShift;
    const float r = (xc - n * kLn2Hi) - n * kLn2Lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float exp_r = (p * r) * r + r + 1.0f;
    const int32_t ni = static_cast<int32_t>(n);
    const float y = exp_r * pow2_int(ni >> 1) * pow2_int(ni - (ni >> 1));
    // Selects, not branches: the loop stays vectorised. NaN fails every comparison.
    const float out_of_range = x < kMinArg ? 0.0f : HUGE_VALF;
    return (x >= kMinArg && x <= kMaxArg) ? y : (x != x ? x : out_of_range);
}

// sigmoid(x) = 1 / (1 + exp(-x)): tends to 0 and 1 without overflow (exp(+inf) = inf, 1/inf = 0).
inline float sigmoid_approx(float x) { return 1.0f / (1.0f + exp_approx(-x)); }

// tanh(u) = 1 - 2 / (exp(2u) + 1): -1 and 1 in the limits, exact 0 at 0.
inline float tanh_approx(float u) { return 1.0f - 2.0f / (exp_approx(2.0f * u) + 1.0f); }

// ---- row reductions in a fixed order ----
constexpr int kReduceLanes = 16;

// max_j x[j], n >= 1. (max is exact, so the order changes no bits; lanes are for speed only.)
inline float max_of(const float* x, int n) {
    float m = x[0];
    int j = 0;
    if (n >= kReduceLanes) {
        float lane[kReduceLanes];
        for (int l = 0; l < kReduceLanes; ++l) lane[l] = x[l];
        // `omp simd`: without it GCC 12 keeps the 16 lanes in 16 scalar registers, one vmaxss
        // each, and a row softmax (attention's, by rows until 2b4f6c1) spent more time on its max
        // than on its exps.
        for (j = kReduceLanes; j + kReduceLanes <= n; j += kReduceLanes)
#pragma omp simd
            for (int l = 0; l < kReduceLanes; ++l) lane[l] = std::max(lane[l], x[j + l]);
        for (int width = kReduceLanes / 2; width >= 1; width /= 2)  // a tree, not a chain of 16
            for (int l = 0; l < width; ++l) lane[l] = std::max(lane[l], lane[l + width]);
        m = lane[0];
    }
    for (; j < n; ++j) m = std::max(m, x[j]);
    return m;
}

// sum_j term(j) for j in [0, n), accumulated in double: lane l sums the terms j = l (mod 16)
// of the full blocks, then the lanes are combined and the tail added in order.
template <class Term>
double sum_in_lanes(int n, Term term) {
    double lane[kReduceLanes] = {};
    int j = 0;
    for (; j + kReduceLanes <= n; j += kReduceLanes)
        for (int l = 0; l < kReduceLanes; ++l) lane[l] += term(j + l);
    // The lanes pairwise (8 sums of two, 4, 2, 1): a tree of 4 dependent adds instead of a chain
    // of 16, which matters for short rows (attention's average 64). Still a fixed order.
    for (int width = kReduceLanes / 2; width >= 1; width /= 2)
        for (int l = 0; l < width; ++l) lane[l] += lane[l + width];
    double s = lane[0];
    for (; j < n; ++j) s += term(j);
    return s;
}

// sum_j x[j] y[j] and sum_j x[j], in double.
inline double dot_of(const float* x, const float* y, int n) {
    return sum_in_lanes(n, [x, y](int j) { return static_cast<double>(x[j]) * static_cast<double>(y[j]); });
}
inline double sum_of(const float* x, int n) {
    return sum_in_lanes(n, [x](int j) { return static_cast<double>(x[j]); });
}

}  // namespace glulab
