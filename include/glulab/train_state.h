// train_state.h — a model (and optionally its optimiser and sampler) to and from a checkpoint.
#pragma once
#include <memory>
#include <string>

#include "glulab/checkpoint.h"
#include "glulab/model.h"
#include "glulab/optim.h"
#include "glulab/rng.h"

namespace glulab {

// What training needs beyond the weights to continue exactly where it stopped.
struct TrainingProgress {
    long step = 0;  // steps of the schedule completed
    uint64_t seed = 0;
    long total_steps = 0;
    const AdamW* optimizer = nullptr;  // moments; null for weights-only checkpoints
    const Rng* sampler = nullptr;      // the batch sampler's generator state
};

CheckpointContents make_checkpoint(const Model& model, const TrainingProgress& progress);

// Rebuilds the model a checkpoint describes and loads its weights. Throws CheckpointError.
std::unique_ptr<Model> model_from_checkpoint(const CheckpointContents& c, const std::string& path);

// Restores optimiser moments, sampler state and the step into existing objects; checks that
// the checkpoint's model matches `model` (same config, same shapes). Returns the step.
long restore_training(const CheckpointContents& c, const std::string& path, Model& model, AdamW& optimizer,
                      Rng& sampler);

}  // namespace glulab
