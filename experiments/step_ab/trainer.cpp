// trainer.cpp — one training run of the recipe's step, behind a small interface without glulab's
// types, so that step_ab.cpp can link two builds of the library side by side. step_ab.sh compiles
// this file once per build, with that build's headers, `glulab` renamed to the build's namespace
// (-Dglulab=...) and STEP_AB_RUN naming the interface's namespace. Only public API that has been
// stable across recent revisions is used.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "glulab/config.h"
#include "glulab/data.h"
#include "glulab/model.h"
#include "glulab/optim.h"
#include "glulab/rng.h"
#include "glulab/train.h"
#if __has_include("glulab/buffer_pool.h")  // since the buffer pool: steps reuse their buffers, as in train()
#include "glulab/buffer_pool.h"
#define STEP_AB_BUFFER_POOL
#endif

namespace STEP_AB_RUN {

#include "trainer.h"

struct Trainer {
    glulab::Model model;
    glulab::AdamW optimizer;
    glulab::Rng batches{1};
#ifdef STEP_AB_BUFFER_POOL
    glulab::BufferPool buffers;
#endif

    Trainer(const std::string& preset, const std::string& ffn)
        : model(glulab::preset_config(preset, glulab::parse_ffn(ffn))), optimizer(model.parameters()) {
        model.init(1);
    }
};

std::shared_ptr<Trainer> make_trainer(const std::string& preset, const std::string& ffn) {
    return std::make_shared<Trainer>(preset, ffn);
}

int context(const Trainer& t) { return t.model.config().ctx; }

// The recipe's step on B windows of random bytes (as `glulab bench`), at a fixed learning rate.
// The batch is filled here, not by glulab::random_batch, because this file is also built against
// older revisions of the library, from before that function existed.
double timed_step(Trainer& t, int B) {
    const int T = context(t);
    glulab::Batch batch;
    batch.B = B;
    batch.T = T;
    for (int i = 0; i < B * T; ++i) {
        batch.tokens.push_back(static_cast<int>(t.batches.below(glulab::kVocab)));
        batch.targets.push_back(static_cast<int>(t.batches.below(glulab::kVocab)));
    }
#ifdef STEP_AB_BUFFER_POOL
    glulab::BufferPoolScope reuse(t.buffers);
#endif
    const auto start = std::chrono::steady_clock::now();
    const glulab::StepResult result = glulab::train_step(t.model, t.optimizer, batch, 1e-3f, 1.0);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!result.diverged.empty()) throw std::runtime_error("training diverged: " + result.diverged);
    return seconds;
}

}  // namespace STEP_AB_RUN
