// train.h — the training loop of the reference recipe, evaluation, and run folders.
#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "glulab/config.h"
#include "glulab/data.h"
#include "glulab/model.h"
#include "glulab/optim.h"

namespace glulab {

struct TrainOptions {
    std::string data_path;
    ModelConfig model;
    long steps = 1000;          // S, the length of the schedule
    uint64_t seed = 1;
    std::string out_dir;        // gets metrics.jsonl, checkpoint.bin, summary.json
    int batch = 16;
    ScheduleConfig schedule;    // peak 1e-3, min 1e-4, 100 warm-up steps
    double clip = 1.0;          // global gradient norm
    long eval_every = 0;        // 0: at the end only
    long log_every = 10;        // console lines; metrics.jsonl gets every step
    int threads = 0;            // 0: what OpenMP would use
    long stop_after = 0;        // > 0: stop (with a checkpoint) after this many steps of the schedule
    std::string resume_dir;     // non-empty: continue from resume_dir/checkpoint.bin
    bool profile = false;       // print the per-op profile of the training steps at the end (profile.h)
};

struct TrainResult {
    long steps_done = 0;        // the step count reached (== steps when finished)
    bool finished = false;      // reached the end of the schedule (summary.json written)
    bool interrupted = false;   // stopped by SIGINT/SIGTERM
    double val_loss = 0.0;      // at the end, when finished
    double tokens_per_sec = 0.0;
    double wall_s = 0.0;
};

// Runs (or resumes) training, printing progress to `log`. Throws std::runtime_error with a
// one-line message on bad input or divergence.
TrainResult train(const TrainOptions& options, std::ostream& log);

// One optimiser step of the recipe on one batch: zero the gradients, forward, backward, clip
// the global gradient norm to `clip`, AdamW at learning rate `lr`. The same code for `train` and
// `glulab bench`. With a profiler, the ops from the forward to AdamW are charged to it.
// Stops before the update if the loss or a gradient is not finite (see StepResult::diverged).
struct StepResult {
    double loss = 0.0;
    double grad_norm = 0.0;  // before clipping
    std::string diverged;    // empty, or what went non-finite: "the loss is nan", "the gradient of W is not finite"
};
class Profiler;
StepResult train_step(Model& model, AdamW& optimizer, const Batch& batch, float lr, double clip,
                      Profiler* profiler = nullptr);

// Mean next-byte cross-entropy (nats) over the validation windows; no graph is recorded.
double evaluate(const Model& model, const std::vector<Batch>& batches);

// The seeds of the run's two generators: model initialisation and batch sampling.
uint64_t init_seed(uint64_t seed);
uint64_t sampler_seed(uint64_t seed);

}  // namespace glulab
