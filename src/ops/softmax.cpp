// softmax.cpp — softmax over the last dim, with an optional causal mask (for attention).
//
// Legend (tensor.h): B batch, T context, d model width, H heads, hd head width, F d_ff, V vocab.
//
// Fused with the causal mask rather than composed from "add -inf, then softmax": masked entries
// are never read, come out exactly 0 and get no gradient, and no infinities are ever formed.
// Stable: each row subtracts its max before exp, so logits of +-1000 stay finite.
// Fast: exp and the row sums are vecmath.h's vectorised, fixed-order versions.
// Left out: softmax over other dims, temperature (use scale() first).
#include <algorithm>
#include <stdexcept>

#include "glulab/autograd.h"
#include "glulab/ops.h"
#include "glulab/vecmath.h"

namespace glulab {

// ---- softmax ----
// y_j = exp(x_j - m) / sum_k exp(x_k - m),  m = max_k x_k,  over the visible columns k of a row
// dx_j = y_j (dy_j - sum_k dy_k y_k)
// A row is x's last dim; with `causal`, x is (..., T, T) and row i of each T x T matrix sees
// columns 0..i (the present and the past), so its length is i + 1.
Tensor softmax(const Tensor& x, bool causal) {
    const int n = x.size(-1);  // row length
    if (causal && (x.rank() < 2 || x.size(-2) != n))
        throw std::invalid_argument("softmax: a causal softmax needs square (..., T, T) input, shape " + x.shape_str());
    const long rows = static_cast<long>(x.numel() / n);
    // Visible columns of a row: all n, or (row mod T) + 1 under the causal mask.
    auto visible = [n, causal](long row) { return causal ? static_cast<int>(row % n) + 1 : n; };

    Tensor y = Tensor::zeros(x.shape());  // (..., n); masked entries stay 0
    const float* xd = x.data();
    float* yd = y.data();
#pragma omp parallel for schedule(static) if (x.numel() > kParallelMinElements)
    for (long row = 0; row < rows; ++row) {
        const float* xr = xd + row * n;
        float* yr = yd + row * n;
        const int len = visible(row);
        const float m = max_of(xr, len);
        for (int j = 0; j < len; ++j) yr[j] = exp_approx(xr[j] - m);
        const double z = sum_of(yr, len);  // the partition sum, >= 1 since the max term is exp(0)
        const float inv_z = static_cast<float>(1.0 / z);
        for (int j = 0; j < len; ++j) yr[j] *= inv_z;
    }

    // Backward from the saved output y (out): rows independent, masked columns untouched.
    return record(y, causal ? "softmax_causal" : "softmax", {x}, [x, n, rows, visible](TensorImpl& out) {
        if (!x.requires_grad()) return;
        const float* yv = out.data();
        const float* dy = out.grad.data();
        const TensorImpl::GradBuffer dx = x.impl()->grad_buffer();
#pragma omp parallel for schedule(static) if (out.numel() > kParallelMinElements)
        for (long row = 0; row < rows; ++row) {
            const float* yr = yv + row * n;
            const float* dyr = dy + row * n;
            float* dxr = dx.data + row * n;
            const int len = visible(row);
            const float s = static_cast<float>(dot_of(dyr, yr, len));  // sum_k dy_k y_k
            store_grad(dxr, len, dx.accumulate, [&](long j) { return yr[j] * (dyr[j] - s); });
            if (!dx.accumulate) std::fill(dxr + len, dxr + n, 0.0f);  // masked: no gradient
        }
    });
}

}  // namespace glulab
