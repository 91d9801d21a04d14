// cross_entropy.cpp — the loss: mean over rows of -log softmax(logits)[target], fused.
//
// Legend (tensor.h): B batch, T context, d model width, H heads, hd head width, F d_ff, V vocab.
//
// Fused because log(softmax(x)) composed from softmax then log underflows: a probability of
// 1e-50 rounds to 0 in float and its log is -inf. Written as log-sum-exp it is exact:
//   -log softmax(x)_t = lse(x) - x_t,   lse(x) = m + log sum_k exp(x_k - m),  m = max_k x_k.
// Left out: label smoothing, ignore-index, class weights, reductions other than the mean.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "glulab/autograd.h"
#include "glulab/ops.h"
#include "glulab/thread_scratch.h"
#include "glulab/vecmath.h"

namespace glulab {

// ---- cross_entropy ----
// L = (1/N) sum_i (lse(x_i) - x_i[t_i])                    logits (N, V), targets (N) -> (1)
// dL/dx_ij = (softmax(x_i)_j - [j == t_i]) / N,  times the incoming dL (usually 1)
// Rows of logits are independent (parallel); the mean sums the per-row losses in order.
Tensor cross_entropy(const Tensor& logits, const std::vector<int>& targets) {
    const std::string shapes = ", shapes " + logits.shape_str() + " and (" + std::to_string(targets.size()) + ")";
    if (logits.rank() != 2)
        throw std::invalid_argument("cross_entropy: logits must be (N, V); reshape them first" + shapes);
    const int N = logits.size(0);
    const int V = logits.size(1);
    if (static_cast<size_t>(N) != targets.size())
        throw std::invalid_argument("cross_entropy: need one target per row of logits" + shapes);
    for (int i = 0; i < N; ++i)
        if (targets[i] < 0 || targets[i] >= V)
            throw std::invalid_argument("cross_entropy: target " + std::to_string(targets[i]) + " at row " +
                                        std::to_string(i) + " is outside [0, " + std::to_string(V) + ")" + shapes);

    const float* xd = logits.data();
    // Saved per row for the backward, which recomputes softmax_j = exp((x_j - m) - log z):
    // x_j - m is exact for nearby values, so even logits of 1000 keep full precision.
    Storage row_max(N), log_z(N);  // (N), (N)
    Buffer<double> loss(N);        // (N): per-row loss, summed in order below
    const bool parallel = logits.numel() > kParallelMinElements;
    ThreadScratch exps(parallel, V);  // exp(x_j - m) of one row: stored, so the exp loop vectorises
#pragma omp parallel if (parallel)
    {
        float* e = exps.mine();
#pragma omp for schedule(static)
        for (int i = 0; i < N; ++i) {
            const float* xr = xd + static_cast<size_t>(i) * V;
            const float m = max_of(xr, V);
            for (int j = 0; j < V; ++j) e[j] = exp_approx(xr[j] - m);
            const double z = sum_of(e, V);  // >= 1: the max term is exp(0)
            row_max[i] = m;
            log_z[i] = static_cast<float>(std::log(z));
            loss[i] = std::log(z) - (static_cast<double>(xr[targets[i]]) - m);  // lse - x_t
        }
    }
    double total = 0.0;
    for (int i = 0; i < N; ++i) total += loss[i];  // fixed order: reproducible bits
    Tensor L = Tensor::from_values({1}, {static_cast<float>(total / N)});  // (1)

    Buffer<int> saved_targets(targets.begin(), targets.end());  // the caller's may be gone by the backward
    auto backward = [logits, targets = std::move(saved_targets), row_max = std::move(row_max),
                     log_z = std::move(log_z), N, V](TensorImpl& out) {
        if (!logits.requires_grad()) return;
        const float dL = out.grad[0];
        const float* xv = logits.data();
        const TensorImpl::GradBuffer dx = logits.impl()->grad_buffer();  // (N, V)
        const float c = dL / static_cast<float>(N);
#pragma omp parallel for schedule(static) if (logits.numel() > kParallelMinElements)
        for (int i = 0; i < N; ++i) {
            const float* xr = xv + static_cast<size_t>(i) * V;
            float* dxr = dx.data + static_cast<size_t>(i) * V;
            const float m = row_max[i], lz = log_z[i];
            store_grad(dxr, V, dx.accumulate, [&](long j) { return c * exp_approx((xr[j] - m) - lz); });  // softmax_j
            dxr[targets[i]] -= c;  // - onehot
        }
    };
    return record(L, "cross_entropy", {logits}, std::move(backward));
}

}  // namespace glulab
