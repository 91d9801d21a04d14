// optim.h — AdamW, the learning-rate schedule and gradient clipping of the training recipe.
#pragma once
#include <vector>

#include "glulab/params.h"

namespace glulab {

struct AdamWConfig {
    float beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f, weight_decay = 0.1f;
};

// AdamW (Loshchilov & Hutter 2019) with bias-corrected moments and decoupled weight decay,
// in the order PyTorch's torch.optim.AdamW applies them.
class AdamW {
public:
    AdamW(const ParameterList& params, AdamWConfig config = {});
    // One update of every parameter from its gradient, at learning rate `lr`.
    void step(ParameterList& params, float lr);

    long steps_taken() const { return t_; }
    // Moments m and v of parameter i, for checkpoints.
    std::vector<float>& m(size_t i) { return m_[i]; }
    std::vector<float>& v(size_t i) { return v_[i]; }
    const std::vector<float>& m(size_t i) const { return m_[i]; }
    const std::vector<float>& v(size_t i) const { return v_[i]; }
    void set_steps_taken(long t) { t_ = t; }

private:
    AdamWConfig config_;
    long t_ = 0;  // updates so far
    std::vector<std::vector<float>> m_, v_;
};

struct ScheduleConfig {
    float peak_lr = 1e-3f;
    float min_lr = 1e-4f;
    int warmup = 100;
};

// lr at 0-based step s of S: peak * s / warmup while s < warmup, then cosine from peak (at
// s = warmup) down to exactly min_lr at the last step s = S - 1.
float learning_rate(const ScheduleConfig& c, long s, long S);

// Scales all gradients so their global L2 norm is at most max_norm (as torch's
// clip_grad_norm_: coefficient max_norm / (norm + 1e-6) when below 1). Returns the norm before
// (infinite or NaN when a gradient is).
double clip_grad_norm(ParameterList& params, double max_norm);

}  // namespace glulab
