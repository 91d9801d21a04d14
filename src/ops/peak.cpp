// peak.cpp — measures the FP32 fused-multiply-add peak, the yardstick for gemm's GFLOP/s.
//
// The loop keeps kChains independent accumulators in vector registers and updates each with one
// FMA per step. Independent chains matter: an FMA takes 4 cycles before its result can be used,
// and a core starts two per cycle, so at least 8 chains are needed to keep both FMA units busy;
// we use 16 (AVX-512) or 10 (AVX2). Nothing is loaded or stored in the loop, so no cache or memory
// effect can hide in the number: it is what the FMA units can do at the current clock.
//
// Each run is short (4 million FMA instructions per thread, about 1 ms with AVX-512); the best of
// four runs is kept, since a shared machine can only make a run slower, never faster. Without
// AVX2 the loop is plain float code and the number only says what the compiler made of it.
//
// Deliberately left out: the clock frequency (not portably readable), hyper-threading effects.
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "glulab/gemm.h"

namespace glulab {

namespace {

constexpr long kSteps = 1 << 18;  // FMA steps per chain per run

// Runs the chains for kSteps and returns a value that depends on all of them, so that the
// compiler cannot drop the work. x <- x * m + a converges to a / (1 - m): no overflow, no
// denormals (which would be slow and measure something else).
// Returns the FLOPs done by one call in *flops.
float fma_chains(double* flops) {
#if defined(__AVX512F__)
    constexpr int kChains = 16;
    __m512 x[kChains];
    for (int i = 0; i < kChains; ++i) x[i] = _mm512_set1_ps(0.01f * static_cast<float>(i));
    const __m512 m = _mm512_set1_ps(0.999f), a = _mm512_set1_ps(0.001f);
    for (long s = 0; s < kSteps; ++s)
        for (int i = 0; i < kChains; ++i) x[i] = _mm512_fmadd_ps(x[i], m, a);
    for (int i = 1; i < kChains; ++i) x[0] = _mm512_add_ps(x[0], x[i]);
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, x[0]);
    *flops = 2.0 * 16 * kChains * kSteps;
    return lanes[0];
#elif defined(__AVX2__) && defined(__FMA__)
    constexpr int kChains = 10;
    __m256 x[kChains];
    for (int i = 0; i < kChains; ++i) x[i] = _mm256_set1_ps(0.01f * static_cast<float>(i));
    const __m256 m = _mm256_set1_ps(0.999f), a = _mm256_set1_ps(0.001f);
    for (long s = 0; s < kSteps; ++s)
        for (int i = 0; i < kChains; ++i) x[i] = _mm256_fmadd_ps(x[i], m, a);
    for (int i = 1; i < kChains; ++i) x[0] = _mm256_add_ps(x[0], x[i]);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, x[0]);
    *flops = 2.0 * 8 * kChains * kSteps;
    return lanes[0];
#else
    constexpr int kChains = 16;
    float x[kChains];
    for (int i = 0; i < kChains; ++i) x[i] = 0.01f * static_cast<float>(i);
    for (long s = 0; s < kSteps; ++s)
        for (int i = 0; i < kChains; ++i) x[i] = x[i] * 0.999f + 0.001f;
    *flops = 2.0 * kChains * kSteps;
    return x[0] + x[kChains - 1];
#endif
}

}  // namespace

double measure_fma_peak_gflops(int threads) {
    threads = std::max(1, threads);
    double best = 0.0;
    std::vector<float> results(threads);  // one per thread: keeps every chain's work alive
    for (int run = 0; run < 4; ++run) {   // the first run also wakes the cores up
        double flops = 0.0;
        const auto start = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
        {
            double f = 0.0;
            results[omp_get_thread_num()] = fma_chains(&f);
#pragma omp master
            flops = f * omp_get_num_threads();  // the team may be smaller than asked
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        best = std::max(best, flops / seconds * 1e-9);
    }
    volatile float sink = results[0];  // the compiler cannot prove the results unused
    (void)sink;
    return best;
}

}  // namespace glulab
