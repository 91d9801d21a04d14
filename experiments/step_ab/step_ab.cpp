// step_ab.cpp — a paired comparison of whole training steps between two builds of the library.
//
// The machine's slow spells make two benchmark runs, one after the other, disagree by up to 1.5x,
// which hides a 5% change. Here both builds train in one process (step_ab.sh compiles the
// library of two revisions, each in a namespace of its own), and their steps alternate one by
// one, in the order base, new, new, base, ...: a slow spell slows both steps of a pair. The figure
// to read is the median over pairs of t_base / t_new (> 1: the new build is faster) with its
// quartiles; the medians of each build's own step times are printed for scale.
//
// Both builds allocate from one heap. With glibc's default settings, which hand big blocks back
// to the system (munmap, or trimming the heap top) and adapt those thresholds as they go, two
// builds whose tensors have different sizes kept taking each other's freed memory and paid
// page faults at every step (about 1,500 per pair of steps, tiny preset), which a program
// running one build alone does not: the comparison then favoured one build by up to 1.4x.
// So every block comes from the heap and the heap is never trimmed (keep_freed_memory below):
// after the warm-up neither build takes a page fault.
//
// With BASE_THREADS, the base build's steps run on that many threads and the new build's on
// THREADS: with REV = HEAD and a clean tree (the same library twice), the ratio is the speed-up
// of THREADS over BASE_THREADS threads, paired step by step, which two separate runs cannot
// show on this machine (make step-ab REV=HEAD THREADS=2 BASE_THREADS=1).
//
// usage: step_ab PRESET FFN THREADS STEPS [BASE_THREADS]   (see step_ab.sh)
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>
#if defined(__GLIBC__)  // defined by the C library's headers, so tested after them
#include <malloc.h>
#endif

#include "../paired.h"

// The two builds' trainers (trainer.cpp, compiled once per build).
namespace base_run {
#include "trainer.h"
}  // namespace base_run
namespace new_run {
#include "trainer.h"
}  // namespace new_run

// Freed memory stays in the process for the next allocation, of either build (see the top).
void keep_freed_memory() {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest: blocks below 32 MB from the heap
    mallopt(M_TRIM_THRESHOLD, 1 << 30);   // give the heap top back only past 1 GB free
#endif
}

int main(int argc, char** argv) {
    keep_freed_memory();
    const bool two_counts = argc == 6;
    if ((argc != 5 && !two_counts) || std::atoi(argv[3]) < 1 || std::atoi(argv[4]) < 4 ||
        (two_counts && std::atoi(argv[5]) < 1)) {
        std::fprintf(stderr, "usage: step_ab PRESET FFN THREADS STEPS [BASE_THREADS] (STEPS >= 4, threads >= 1)\n");
        return 2;
    }
    const std::string preset = argv[1], ffn = argv[2];
    const int new_threads = std::atoi(argv[3]), base_threads = two_counts ? std::atoi(argv[5]) : new_threads;
    const int steps = std::atoi(argv[4]), batch = 16, warmup = 3;
    auto base_step = [&](base_run::Trainer& trainer) {
        omp_set_num_threads(base_threads);
        return base_run::timed_step(trainer, batch);
    };
    auto new_step = [&](new_run::Trainer& trainer) {
        omp_set_num_threads(new_threads);
        return new_run::timed_step(trainer, batch);
    };
    try {
        std::shared_ptr<base_run::Trainer> base = base_run::make_trainer(preset, ffn);
        std::shared_ptr<new_run::Trainer> fresh = new_run::make_trainer(preset, ffn);
        PairedTimes t;
        for (int s = 0; s < warmup + steps; ++s) {
            double tb, tn;
            if (s % 2 == 0) {
                tb = base_step(*base);
                tn = new_step(*fresh);
            } else {
                tn = new_step(*fresh);
                tb = base_step(*base);
            }
            if (s < warmup) continue;
            t.add(tb, tn);
        }
        const double tokens = static_cast<double>(batch) * base_run::context(*base);
        const std::string threads = two_counts ? "base " + std::to_string(base_threads) + ", new " +
                                                     std::to_string(new_threads)
                                               : std::to_string(new_threads);
        std::printf("%s %s, %s thread(s), %d paired steps after %d warm-up: base %.0f tokens/s, new %.0f tokens/s "
                    "(medians); new/base speed %.3f, quartiles %.3f-%.3f\n",
                    preset.c_str(), ffn.c_str(), threads.c_str(), steps, warmup, tokens / quantile(t.base, 0.5),
                    tokens / quantile(t.fresh, 0.5), quantile(t.ratio, 0.5), quantile(t.ratio, 0.25),
                    quantile(t.ratio, 0.75));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "step_ab: %s\n", e.what());
        return 1;
    }
    return 0;
}
