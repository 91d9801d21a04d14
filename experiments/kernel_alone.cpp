// kernel_alone.cpp — how fast is gemm's micro-kernel by itself, without the product around it?
//
// usage: make kernel-alone [REPS=41] [KC=192]
//
// Times the micro-kernel of src/ops/gemm.cpp (the file is compiled into this program, so its
// internals are in reach) on one thread, on whole kMR x kNR tiles with kc = KC steps of the sum
// (default 192, the K of the small preset's x W; 32 is attention's q k^T), fed three ways:
//   B in L1   the same packed B panel every call (kc x kNR floats: 24 KB at kc = 192);
//   B from L2 24 packed panels in turn (590 KB at kc = 192), as the product's B block (x W, N = 768);
//   B in L1, 16 bytes off a cache line: what malloc's alignment would give, were the panels
//             not 64-byte aligned (every vector load then touches two lines);
// the A panel (kMR rows of kc floats) stays in L1 and C is one row of tiles (kMR x 768 floats).
// Each measurement is the best of four runs of about 1 ms, the estimator measure_fma_peak_gflops
// (src/ops/peak.cpp) uses for the peak: on a shared machine a run can only be slowed down (a
// single 2 ms run read anywhere from 0.35 to 0.96 of the peak). Each is paired with a measurement
// of the peak just before it, and the median and quartiles of the ratios are printed: the
// machine's speed swings between spells, a ratio taken in the same moment does not.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../src/ops/gemm.cpp"
#include "paired.h"

namespace {

constexpr int kLdc = 768;

// GFLOP/s of `calls` micro-kernel calls that take their B panel from `panels` panels in turn.
double kernel_gflops(int kc, const float* a, const float* b, int panels, float* c, int calls) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) {
        const int p = i % panels;
        glulab::micro_kernel<glulab::kMR, false, 2>(kc, a, kc, b + static_cast<long>(p) * kc * glulab::kNR,
                                                    glulab::kNR, c + p % (kLdc / glulab::kNR) * glulab::kNR, kLdc,
                                                    false);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return 2.0 * glulab::kMR * glulab::kNR * kc * calls / s * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
    const int reps = reps_argument(argc, argv, 41, "kernel_alone");
    if (reps == 0) return 2;
    // At most a packed slice of the sum (kKC): longer, one B panel would no longer fit L1.
    const int kc = argc > 2 ? std::atoi(argv[2]) : 192;
    if (kc < 1 || kc > glulab::kKC) {
        std::fprintf(stderr, "kernel_alone: KC must be between 1 and %d, got %s\n", glulab::kKC, argv[2]);
        return 2;
    }
    constexpr int kPanelsL2 = 24;
    // 64-byte aligned, as the product's packed B is: gemm's own scratch areas (gemm.cpp), with
    // four floats of slack for the misaligned feed. Small values, so the sums stay far from overflow.
    const size_t a_size = static_cast<size_t>(glulab::kMR) * kc, c_size = static_cast<size_t>(glulab::kMR) * kLdc;
    const size_t b_size = static_cast<size_t>(kPanelsL2) * kc * glulab::kNR + 4;
    glulab::Scratch a_area, b_area, c_area;
    float *a = a_area.get(a_size), *b = b_area.get(b_size), *c = c_area.get(c_size);
    std::fill(a, a + a_size, 1e-3f);
    std::fill(b, b + b_size, 1e-3f);
    std::fill(c, c + c_size, 0.0f);
    const int calls = 1000 * 192 / kc;  // about 1 ms at 150 GFLOP/s, as one run of the peak's loop

    struct Feed {
        const char* what;
        int panels;
        int offset;  // floats from the start of the (aligned) buffer
        std::vector<double> ratios;
    } feeds[] = {{"B in L1 (one panel)", 1, 0, {}},
                 {"B from L2 (24 panels)", kPanelsL2, 0, {}},
                 {"B in L1, 16 bytes off a cache line", 1, 4, {}}};
    for (int rep = 0; rep < reps; ++rep)
        for (Feed& f : feeds) {
            const double peak = glulab::measure_fma_peak_gflops(1);
            double best = 0.0;  // the same estimator as the peak's: the best of four short runs
            for (int run = 0; run < 4; ++run)
                best = std::max(best, kernel_gflops(kc, a, b + f.offset, f.panels, c, calls));
            f.ratios.push_back(best / peak);
        }

    std::printf("micro-kernel %s, kc %d, 1 thread, %d pairs; fraction of the FMA peak measured next to each run\n\n",
                glulab::gemm_kernel_name(), kc, reps);
    std::printf("| feed | median | quartiles |\n|---|--:|--:|\n");
    for (const Feed& f : feeds)
        std::printf("| %s | %.3f | %.3f-%.3f |\n", f.what, quantile(f.ratios, 0.5), quantile(f.ratios, 0.25),
                    quantile(f.ratios, 0.75));
    return 0;
}
