// optim.cpp — AdamW, warm-up + cosine schedule, global-norm clipping.
#include "glulab/optim.h"

#include <cmath>
#include <vector>

#include "glulab/vecmath.h"

namespace glulab {

AdamW::AdamW(const ParameterList& params, AdamWConfig config) : config_(config) {
    for (const Parameter& p : params) {
        m_.emplace_back(p.value.numel(), 0.0f);
        v_.emplace_back(p.value.numel(), 0.0f);
    }
}

// For each parameter p with gradient g, at update t = 1, 2, ...:
//   p <- p - lr * wd * p                         decoupled weight decay (matrices and embeddings)
//   m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
//   p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
void AdamW::step(ParameterList& params, float lr) {
    ++t_;
    const float b1 = config_.beta1, b2 = config_.beta2;
    const float bias1 = 1.0f - static_cast<float>(std::pow(b1, t_));
    const float sqrt_bias2 = std::sqrt(1.0f - static_cast<float>(std::pow(b2, t_)));
    const float step_size = lr / bias1;
    for (size_t i = 0; i < params.size(); ++i) {
        Parameter& p = params[i];
        float* w = p.value.data();
        const float* g = p.value.grad();
        float* m = m_[i].data();
        float* v = v_[i].data();
        const float decay = p.decayed() ? 1.0f - lr * config_.weight_decay : 1.0f;
        const long n = static_cast<long>(p.value.numel());
        // Vectorised only because the build says -fno-math-errno (Makefile): otherwise sqrt's
        // errno check is a branch, and the loop did one sqrt and two divisions at a time.
#pragma omp parallel for schedule(static) if (n > kParallelMinElements)
        for (long j = 0; j < n; ++j) {
            w[j] *= decay;
            m[j] = b1 * m[j] + (1.0f - b1) * g[j];
            v[j] = b2 * v[j] + (1.0f - b2) * g[j] * g[j];
            w[j] -= step_size * m[j] / (std::sqrt(v[j]) / sqrt_bias2 + config_.eps);
        }
    }
}

float learning_rate(const ScheduleConfig& c, long s, long S) {
    if (s < c.warmup) return c.peak_lr * static_cast<float>(s) / static_cast<float>(c.warmup);
    // The spec's denominator S - 1 - warmup is 0 when S = warmup + 1; the only step then is s = warmup.
    const double span = std::max<long>(1, S - 1 - c.warmup);
    const double progress = static_cast<double>(s - c.warmup) / span;
    return static_cast<float>(c.min_lr + 0.5 * (c.peak_lr - c.min_lr) * (1.0 + std::cos(M_PI * progress)));
}

// The norm is summed parameter by parameter in registry order, each parameter's sum of squares
// in double and in 16 lanes (vecmath.h), on the calling thread: no buffer per step, and the same
// bits for any thread count. (Sharing the parameters among the threads, as until session 9, was
// no faster: make step-ab read 1.000 on small and tiny.) The scaling pass shares whole
// parameters among the threads (dynamic: their sizes differ by a factor of 1000); each element
// is scaled once either way.
double clip_grad_norm(ParameterList& params, double max_norm) {
    const long count = static_cast<long>(params.size());
    double total = 0.0;
    for (const Parameter& p : params) {
        const float* g = p.value.grad();
        total += dot_of(g, g, static_cast<int>(p.value.numel()));
    }
    const double norm = std::sqrt(total);
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        const float c = static_cast<float>(coef);
#pragma omp parallel for schedule(dynamic)
        for (long i = 0; i < count; ++i) {
            float* g = params[i].value.grad();
            for (size_t j = 0; j < params[i].value.numel(); ++j) g[j] *= c;
        }
    }
    return norm;
}

}  // namespace glulab
