// train.cpp — `glulab train`: the training run of the reference recipe into a run folder.
#include <omp.h>

#include <iostream>

#include "glulab/cli.h"
#include "glulab/options.h"
#include "glulab/train.h"

namespace glulab::cli {

namespace {
const CommandSpec& train_spec() {
    static const CommandSpec spec{
        "train",
        "Train a byte-level Transformer with the chosen FFN variant (the recipe of reference-model.md).\n"
        "Writes DIR/metrics.jsonl (every step), DIR/checkpoint.bin and, at the end, DIR/summary.json.",
        "glulab train --data data/tinyshakespeare.txt --preset tiny --ffn swiglu --steps 300 --out runs/demo",
        {{"data", "PATH", "the corpus: any file, bytes are tokens, 90% train / 10% validation",
          "data/tinyshakespeare.txt"},
         {"preset", "NAME", "model size: tiny, small or base", "small"},
         {"ffn", "NAME", "relu, gelu, swish, glu, bilinear, reglu, geglu or swiglu", "swiglu"},
         {"steps", "N", "length of the schedule in optimiser steps", "1000"},
         {"seed", "S", "seed of the initialisation and of the batch sampler", "1"},
         {"out", "DIR", "run folder", "runs/<preset>-<ffn>-s<seed>"},
         {"batch", "B", "sequences per step", "16"},
         {"lr", "X", "peak learning rate (the cosine ends at lr/10)", "1e-3"},
         {"warmup", "N", "linear warm-up steps", "100"},
         {"eval-every", "N", "validation loss every N steps (and always at the end)", "steps/4"},
         {"log-every", "N", "a progress line every N steps", "10"},
         {"threads", "K", "OpenMP threads", "what OpenMP would use"},
         {"stop-after", "K", "run K steps of the schedule, checkpoint, and stop (resume later)", ""},
         {"resume", "DIR", "continue the run whose checkpoint is DIR/checkpoint.bin", ""},
         {"profile", "", "at the end, print the time, FLOPs and GFLOP/s of each op type in the steps", ""}},
        ""};
    return spec;
}
}  // namespace

int cmd_train(const Args& args) {
    return run_command(train_spec(), args, [](const Options& opt) {
        TrainOptions o;
        o.data_path = opt.text("data", "data/tinyshakespeare.txt");
        o.model = preset_config(opt.text("preset", "small"), parse_ffn(opt.text("ffn", "swiglu")));
        o.steps = opt.integer("steps", 1000, 1, 100000000);
        o.seed = static_cast<uint64_t>(opt.integer("seed", 1, 0, 2147483647));
        o.out_dir =
            opt.text("out", "runs/" + o.model.preset + "-" + ffn_name(o.model.ffn) + "-s" + std::to_string(o.seed));
        o.batch = static_cast<int>(opt.integer("batch", 16, 1, 65536));
        o.schedule.peak_lr = static_cast<float>(opt.real("lr", 1e-3, 1e-9, 10.0));
        o.schedule.min_lr = o.schedule.peak_lr / 10.0f;
        o.schedule.warmup = static_cast<int>(opt.integer("warmup", 100, 0, 100000000));
        o.eval_every = opt.integer("eval-every", std::max(1L, o.steps / 4), 1, 100000000);
        o.log_every = opt.integer("log-every", 10, 1, 100000000);
        o.threads = static_cast<int>(opt.integer("threads", omp_get_max_threads(), 1, 1024));
        o.stop_after = opt.integer("stop-after", 0, 1, 100000000);
        o.resume_dir = opt.text("resume");
        o.profile = opt.flag("profile");
        if (o.resume_dir.empty() && opt.has("resume")) throw UsageError("--resume needs a run folder");
        if (!opt.has("out") && !o.resume_dir.empty()) o.out_dir = o.resume_dir;
        const TrainResult r = train(o, std::cout);
        return r.interrupted ? 130 : 0;
    });
}

}  // namespace glulab::cli
