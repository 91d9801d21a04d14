// core_balance.cpp — do the cores of this machine run at the same speed, side by side?
//
// usage: make core-balance [REPS=60]
//
// Every thread of an OpenMP team runs the FMA peak's loop (fma_chains of src/ops/peak.cpp, about
// 1 ms, nothing loaded or stored) at the same moment, and times its own run. On dedicated cores
// the times would be equal. On a shared VM each virtual core is a thread on some host core, which
// other guests may share, so they need not be. It matters because gemm and every op split their
// work into equal shares (static schedules, for fixed bits and little overhead): each parallel
// region ends when the slower thread finishes, and the faster one waits at the barrier, so two
// threads lose about half the gap between them against a perfect split.
//
// Prints, for three batches of REPS side-by-side runs (one process, one team), the median and
// quartiles of slowest / fastest per run, and how often each thread was the faster one. Which
// core is faster can change as the host moves the virtual cores around: here it changed between
// runs of the program, not between the batches of one (experiments/results/speed/core-balance.md).
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include "../src/ops/peak.cpp"
#include "paired.h"

namespace {

// One side-by-side run: seconds[t] is thread t's time for one call of the FMA loop.
std::vector<double> side_by_side(int threads, std::vector<float>& sink) {
    std::vector<double> seconds(threads, 0.0);
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num();
        double flops = 0.0;
#pragma omp barrier
        const auto start = std::chrono::steady_clock::now();
        sink[t] = glulab::fma_chains(&flops);
        seconds[t] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    return seconds;
}

}  // namespace

int main(int argc, char** argv) {
    const int reps = reps_argument(argc, argv, 60, "core_balance");
    if (reps == 0) return 2;
    const int threads = omp_get_max_threads();
    if (threads < 2) {
        std::fprintf(stderr, "core_balance: needs at least 2 threads (OMP_NUM_THREADS), got %d\n", threads);
        return 2;
    }
    std::vector<float> sink(threads);
    side_by_side(threads, sink);  // wakes the cores and starts the team
    std::printf("%d threads side by side, the FMA peak's loop (about 1 ms) each; %d runs per batch\n\n", threads, reps);
    std::printf("| batch | slowest / fastest: median | quartiles | max | "
                "runs in which thread 0, 1, ... was fastest |\n");
    std::printf("|--:|--:|--:|--:|---|\n");
    for (int batch = 1; batch <= 3; ++batch) {
        std::vector<double> spread;
        std::vector<int> fastest(threads, 0);
        for (int r = 0; r < reps; ++r) {
            const std::vector<double> s = side_by_side(threads, sink);
            int lo = 0, hi = 0;
            for (int t = 1; t < threads; ++t) {
                if (s[t] < s[lo]) lo = t;
                if (s[t] > s[hi]) hi = t;
            }
            spread.push_back(s[hi] / s[lo]);
            ++fastest[lo];
        }
        std::printf("| %d | %.3f | %.3f-%.3f | %.3f |", batch, quantile(spread, 0.5), quantile(spread, 0.25),
                    quantile(spread, 0.75), quantile(spread, 1.0));
        for (int t = 0; t < threads; ++t) std::printf(" %d", fastest[t]);
        std::printf(" |\n");
    }
    volatile float keep = sink[0];  // the results must look used
    (void)keep;
    return 0;
}
