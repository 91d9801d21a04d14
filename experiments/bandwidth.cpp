// bandwidth.cpp — how fast can this machine move data to and from memory, and what does that
// allow attention's products?
//
// usage: make bandwidth [REPS=15]
//
// A roofline (Williams, Waterman & Patterson 2009, "Roofline: an insightful visual performance
// model"): a product that moves `bytes` to and from memory for its `flops` runs at most at
// bandwidth x flops / bytes, however good its arithmetic. The gemm benchmark's attention rows
// (tests/test_matmul.cpp) run 96 items whose operands (9 MB) often come from memory on the VMs
// we measured (experiments/results/speed/qk-items-2404d9e.md). Is their bandwidth what holds
// them back? If a product stays well under its ceiling here, no: it then waits on memory's
// latency, with too few cache lines on their way at a time.
//
// Each pattern streams through buffers far larger than any cache (kBytes read, up to twice that
// stored), every thread over its own contiguous share. (The buffers are filled by the threads in
// static shares too, so on a machine with one memory node per core most reads stay local; this
// one has a single node.) The rate counts the bytes the program reads and stores. A store to a line that is not in cache makes the core read the line first
// (read for ownership), then write it back: stored bytes cost twice on the memory bus, which is
// why the store row reads below the read row. The patterns:
//   read             sum every float of a buffer;
//   store            write every float of a buffer;
//   q k^T's mix      per 64 bytes read, 128 stored: one item of S^T = k q^T (or q k^T) reads q
//                    and k (2 x 128 x 32 floats, 32 KB) and writes S (128 x 128, 64 KB);
//   P v's mix        per 80 bytes read, 16 stored: P (64 KB) and v (16 KB) in, O (16 KB) out.
// Both products do 2 x 128 x 128 x 32 FLOPs per item over 96 KB of operands: 10.7 FLOPs per byte.
// The last two columns: that times the mix's median rate, the most such a product can do from
// memory, as GFLOP/s and as a share of the FMA peak (src/ops/peak.cpp; the median of the peaks
// measured before each pass).
// Each rate is the median of REPS passes; one pass moves hundreds of megabytes, so a short
// stall of the shared machine barely shows in it.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <vector>

#include "glulab/gemm.h"
#include "paired.h"
#include "storage_floats.h"

namespace {

constexpr size_t kBytes = size_t{256} << 20;  // read per pass: 256 MB, far beyond any cache here
constexpr int kLine = 16;                     // floats per 64-byte line
// q k^T and P v per item: 2 x 128 x 128 x 32 FLOPs over 96 KB of operands (see the top).
constexpr double kAttentionFlopsPerByte = 2.0 * 128 * 128 * 32 / (96 * 1024);

// What a pattern does per unit: reads `read_lines` lines of the source and adds them into the
// thread's running sum `line`, and stores that sum into `store_lines` lines of the destination,
// adding 1 to it after each. Every store depends on the reads and on the stores before it, so
// the compiler can neither drop the reads nor turn the stores into a memset (which may bypass
// the cache).
struct Pattern {
    const char* name;
    int read_lines, store_lines;
    double flops_per_byte;  // of the product it stands for; 0: none

    double bytes_per_unit() const { return 64.0 * (read_lines + store_lines); }
};

void unit(const Pattern& p, const float* src, float* dst, float (&line)[kLine]) {
    for (int r = 0; r < p.read_lines; ++r)
#pragma omp simd
        for (int j = 0; j < kLine; ++j) line[j] += src[r * kLine + j];
    for (int s = 0; s < p.store_lines; ++s) {
#pragma omp simd
        for (int j = 0; j < kLine; ++j) dst[s * kLine + j] = line[j];
        line[0] += 1.0f;
    }
}

// GB/s of one pass of `p` over src and dst, on the current team of threads, each taking a
// contiguous share of the units. Each thread's running sum ends in sums[thread].
double pass_gbps(const Pattern& p, const float* src, float* dst, std::vector<float>& sums) {
    const long units = static_cast<long>(kBytes / 64) / std::max(1, p.read_lines);
    const auto start = std::chrono::steady_clock::now();
#pragma omp parallel
    {
        float line[kLine] = {};
#pragma omp for schedule(static)
        for (long u = 0; u < units; ++u) unit(p, src + u * p.read_lines * kLine, dst + u * p.store_lines * kLine, line);
        sums[omp_get_thread_num()] = std::accumulate(line, line + kLine, 0.0f);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return units * p.bytes_per_unit() / s * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
    const int reps = reps_argument(argc, argv, 15, "bandwidth");
    if (reps == 0) return 2;
    const Pattern patterns[] = {{"read", 1, 0, 0.0},
                                {"store", 0, 1, 0.0},
                                {"q k^T's mix (read 1 : store 2)", 1, 2, kAttentionFlopsPerByte},
                                {"P v's mix (read 5 : store 1)", 5, 1, kAttentionFlopsPerByte}};
    const StorageFloats src(kBytes / sizeof(float), 1e-3f), dst(2 * kBytes / sizeof(float), 0.0f);
    const int max_threads = omp_get_max_threads();
    std::vector<float> sums(max_threads);  // each thread's running sum: keeps its reads alive
    std::printf("memory bandwidth: passes over %zu MB read and up to %zu MB stored, median (quartiles) of %d\n\n",
                kBytes >> 20, 2 * kBytes >> 20, reps);
    std::printf("| threads | pattern | GB/s | quartiles | ceiling of a %.1f FLOP/byte product | of the FMA peak |\n",
                kAttentionFlopsPerByte);
    std::printf("|--:|---|--:|--:|--:|--:|\n");
    for (int threads = 1; threads <= std::min(2, max_threads); ++threads) {
        omp_set_num_threads(threads);
        for (const Pattern& p : patterns) {
            std::vector<double> rates, peaks;
            for (int rep = 0; rep < reps; ++rep) {
                peaks.push_back(glulab::measure_fma_peak_gflops(threads));
                rates.push_back(pass_gbps(p, src.data(), dst.data(), sums));
            }
            const double median = quantile(rates, 0.5);
            std::printf("| %d | %s | %.1f | %.1f-%.1f |", threads, p.name, median, quantile(rates, 0.25),
                        quantile(rates, 0.75));
            if (p.flops_per_byte > 0) {
                const double ceiling = median * p.flops_per_byte;
                std::printf(" %.0f GFLOP/s | %.0f%% |\n", ceiling, 100.0 * ceiling / quantile(peaks, 0.5));
            } else {
                std::printf(" | |\n");
            }
        }
    }
    volatile float sink = sums[0];  // the compiler cannot prove the sums unused
    (void)sink;
    return 0;
}
