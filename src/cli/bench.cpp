// bench.cpp — `glulab bench`: how fast a real training step runs (issue 5).
//
// Runs warm-up steps, then timed steps of the training recipe (forward, backward, clipping,
// AdamW) on random bytes, so no corpus is needed, and reports:
//   - tokens/s and ms per step, both the median over the timed steps (robust to a noisy machine);
//   - model FLOPs per token (bench.h), achieved GFLOP/s, and the utilisation (MFU) against the
//     FMA peak measured by the command itself (gemm.h), with the same number of threads, before
//     and after the timed steps (the larger of the two);
//   - the per-op profile of the timed steps and the GFLOP/s of each matmul shape (profile.h);
//   - the peak resident memory of the process, against what training needs: the most tensor
//     storage alive at once (tensor.h) plus the optimiser moments;
//   - the share of CPU time the hypervisor stole during the timed steps, where Linux counts it
//     (profile.h): on a shared virtual machine, the sign of a disturbed run.
// `--peak` prints only the measured FMA peak for 1..K threads; `--json` one object instead of text.
//
// Deliberately left out: data loading (random bytes cost nothing to sample), evaluation, and
// checkpointing, which are not part of the step.
#include "glulab/bench.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "glulab/buffer_pool.h"
#include "glulab/data.h"
#include "glulab/gemm.h"
#include "glulab/json.h"
#include "glulab/optim.h"
#include "glulab/options.h"
#include "glulab/profile.h"
#include "glulab/rng.h"
#include "glulab/stats.h"
#include "glulab/train.h"

namespace glulab {

double model_flops_per_token(const Model& model) {
    const ModelConfig& c = model.config();
    return 6.0 * static_cast<double>(model.parameter_count()) + 12.0 * c.n_layer * c.ctx * c.d_model;
}

}  // namespace glulab

namespace glulab::cli {

namespace {

const CommandSpec& bench_spec() {
    static const CommandSpec spec{
        "bench",
        "Time real training steps (forward, backward, clipping, AdamW) on random bytes: tokens/s, ms per step,\n"
        "model FLOPs utilisation against the measured FMA peak, the per-op profile, and peak memory against\n"
        "what training needs (tensors at most alive at once plus the optimiser moments). The FMA peak is\n"
        "measured again after the timed steps, and the CPU time stolen by a hypervisor (Linux) is reported:\n"
        "on a shared machine they tell a run on a changing machine from a change in the code.",
        "glulab bench --preset small --ffn swiglu --steps 20 --threads 2",
        {{"preset", "NAME", "model size: tiny, small or base", "small"},
         {"ffn", "NAME", "relu, gelu, swish, glu, bilinear, reglu, geglu or swiglu", "swiglu"},
         {"steps", "N", "timed steps, over which the medians are taken", "20"},
         {"warmup", "N", "untimed steps first (caches, allocator, thread pool)", "3"},
         {"batch", "B", "sequences per step", "16"},
         {"threads", "K", "OpenMP threads", "what OpenMP would use"},
         {"json", "", "print one JSON object instead of the text report", ""},
         {"peak", "", "print only the measured FMA peak GFLOP/s for 1..K threads", ""},
         {"peak-gflops", "X", "the FMA peak to compare with, measured earlier (then none is probed here)",
          "measured now"}},
        ""};
    return spec;
}

struct BenchRun {
    std::vector<double> step_s;  // the timed steps, in seconds
    Profiler profiler;           // the timed steps' ops
    std::optional<double> steal;  // the share of CPU time stolen during them, where known
};

// The training recipe's step, as train.cpp runs it, `warmup + steps` times; the timed steps are
// also profiled (the profiler adds two clock reads per op, well under 1% of a step).
BenchRun run_steps(Model& model, int batch, long warmup, long steps) {
    AdamW optimizer(model.parameters());
    BufferPool buffers;  // as train() reuses them
    BufferPoolScope reuse(buffers);
    const ScheduleConfig schedule;
    Rng rng(1);
    BenchRun run;
    std::optional<CpuTimes> before;
    Batch b;
    for (long s = 0; s < warmup + steps; ++s) {
        if (s == warmup) before = read_cpu_times();
        random_batch(rng, batch, model.config().ctx, b);
        const auto t0 = std::chrono::steady_clock::now();
        const StepResult result = train_step(model, optimizer, b, learning_rate(schedule, s, warmup + steps), 1.0,
                                             s >= warmup ? &run.profiler : nullptr);
        if (!result.diverged.empty()) throw std::runtime_error("bench: training diverged: " + result.diverged);
        if (s >= warmup)
            run.step_s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const std::optional<CpuTimes> after = read_cpu_times();
    if (before && after) run.steal = steal_fraction(*before, *after);
    return run;
}

// What training needs in memory against what the process used (issue 5: within 1.5x).
struct Memory {
    double tensors_mb = 0.0;  // the most tensor storage alive at once (tensor.h)
    double moments_mb = 0.0;  // AdamW's m and v, kept outside tensors
    double peak_rss_mb = 0.0;
    double needed_mb() const { return tensors_mb + moments_mb; }
    double ratio() const { return peak_rss_mb / needed_mb(); }
};

Memory memory_needed(const Model& model) {
    constexpr double kMiB = 1024.0 * 1024.0;
    Memory m;
    m.tensors_mb = static_cast<double>(peak_tensor_bytes()) / kMiB;
    m.moments_mb = 2.0 * static_cast<double>(model.parameter_count()) * sizeof(float) / kMiB;
    m.peak_rss_mb = peak_rss_mb();
    return m;
}

int print_peaks(int threads, bool as_json) {
    std::string list;
    for (int t = 1; t <= threads; ++t) {
        const double peak = measure_fma_peak_gflops(t);
        if (!as_json) std::printf("FMA peak, %d thread%s: %.1f GFLOP/s\n", t, t == 1 ? "" : "s", peak);
        list += (t > 1 ? "," : "") + json::number_to_string(peak);
    }
    if (as_json)
        std::printf("%s\n", json::Writer()
                                .add("kernel", gemm_kernel_name())
                                .add_raw("peak_gflops", "[" + list + "]")
                                .str()
                                .c_str());
    return 0;
}

}  // namespace

int cmd_bench(const Args& args) {
    return run_command(bench_spec(), args, [](const Options& opt) {
        const ModelConfig config = preset_config(opt.text("preset", "small"), parse_ffn(opt.text("ffn", "swiglu")));
        const long steps = opt.integer("steps", 20, 1, 1000000);
        const long warmup = opt.integer("warmup", 3, 0, 1000000);
        const int batch = static_cast<int>(opt.integer("batch", 16, 1, 65536));
        const int threads = static_cast<int>(opt.integer("threads", omp_get_max_threads(), 1, 1024));
        const bool as_json = opt.flag("json");
        omp_set_num_threads(threads);
        if (opt.flag("peak")) return print_peaks(threads, as_json);

        Model model(config);
        model.init(1);
        // Before the run (it also wakes the cores), unless the caller gives a peak it measured.
        const double peak_before = opt.has("peak-gflops") ? opt.real("peak-gflops", 0.0, 1e-3, 1e9)
                                                          : measure_fma_peak_gflops(threads);
        reset_peak_tensor_bytes();
        const BenchRun run = run_steps(model, batch, warmup, steps);
        // Measured again after the steps: on a shared machine the FMA units' speed can change by 2x
        // from one minute to the next, and a run whose two probes disagree ran on a changing machine.
        // (Not when the peak was given.) 0: not measured. make bench keeps the highest probe of all
        // its runs as the peak of its whole table.
        const double peak_after = opt.has("peak-gflops") ? 0.0 : measure_fma_peak_gflops(threads);
        // The utilisation is taken against the larger: a probe can be slowed down, never sped up
        // (one read 67 GFLOP/s before a normal run and 323 after it).
        const double peak = std::max(peak_before, peak_after);
        const Memory memory = memory_needed(model);

        const double step_s = stats::median(run.step_s);
        const double tokens_per_step = static_cast<double>(batch) * config.ctx;
        const double tokens_per_sec = tokens_per_step / step_s;
        const double flops_per_token = model_flops_per_token(model);
        const double gflops = flops_per_token * tokens_per_sec * 1e-9;
        if (as_json) {
            json::Writer w;
            w.add("preset", config.preset).add("ffn", ffn_name(config.ffn)).add("threads", threads);
            w.add("batch", batch).add("steps", steps).add("warmup", warmup);
            w.add("params", static_cast<long long>(model.parameter_count())).add("flops_per_token", flops_per_token);
            w.add("tokens_per_sec", tokens_per_sec).add("step_ms", step_s * 1e3);
            w.add("step_ms_min", *std::min_element(run.step_s.begin(), run.step_s.end()) * 1e3);
            w.add("gflops", gflops).add("mfu", gflops / peak).add("peak_gflops", peak);
            w.add("peak_rss_mb", memory.peak_rss_mb).add("needed_mb", memory.needed_mb());
            w.add("memory_ratio", memory.ratio()).add("kernel", gemm_kernel_name());
            if (peak_after > 0.0) w.add("peak_gflops_before", peak_before).add("peak_gflops_after", peak_after);
            if (run.steal) w.add("steal_fraction", *run.steal);
            std::printf("%s\n", w.str().c_str());
            return 0;
        }
        std::printf("glulab bench: %s / %s (d %d, H %d, N %d, T %d, d_ff %d), %zu parameters\n", config.preset.c_str(),
                    ffn_name(config.ffn).c_str(), config.d_model, config.n_head, config.n_layer, config.ctx,
                    config.d_ff(), model.parameter_count());
        std::printf("  %d thread%s, batch %d x %d tokens, %ld warm-up + %ld timed steps, gemm %s\n\n", threads,
                    threads == 1 ? "" : "s", batch, config.ctx, warmup, steps, gemm_kernel_name());
        std::printf("step time        %.2f ms (median; min %.2f, max %.2f)\n", step_s * 1e3,
                    *std::min_element(run.step_s.begin(), run.step_s.end()) * 1e3,
                    *std::max_element(run.step_s.begin(), run.step_s.end()) * 1e3);
        std::printf("throughput       %.0f tokens/s\n", tokens_per_sec);
        std::printf("model FLOPs      6 x %zu params + 12 x N %d x T %d x d %d = %.3f MFLOP per token\n",
                    model.parameter_count(), config.n_layer, config.ctx, config.d_model, flops_per_token * 1e-6);
        std::printf("achieved         %.1f GFLOP/s = %.1f%% of the measured FMA peak (%.1f GFLOP/s, %d thread%s)\n",
                    gflops, 100.0 * gflops / peak, peak, threads, threads == 1 ? "" : "s");
        if (peak_after > 0.0)
            std::printf("machine check    FMA peak %.1f GFLOP/s before the timed steps, %.1f after "
                        "(MFU uses the larger)%s\n",
                        peak_before, peak_after, std::abs(peak_after / peak_before - 1.0) > 0.1 ? ": it changed" : "");
        if (run.steal)
            std::printf("                 %.1f%% of the CPU time stolen by the hypervisor during them (/proc/stat)\n",
                        100.0 * *run.steal);
        std::printf("\n");
        print_profile(std::cout, run.profiler, steps);
        std::printf("memory needed: %.1f MiB = tensors at most %.1f MiB at once (parameters, gradients, activations\n"
                    "  saved for the backward) + AdamW moments %.1f MiB; peak resident / needed = %.2f\n",
                    memory.needed_mb(), memory.tensors_mb, memory.moments_mb, memory.ratio());
        return 0;
    });
}

}  // namespace glulab::cli
