// ffn.cpp — the paper's file: the eight feed-forward variants of
//   Noam Shazeer, "GLU Variants Improve Transformer", arXiv:2002.05202 (2020).
//
// Hold this file next to the paper. Biases are omitted, as in the paper's Table 1 models.
// Shapes: x (B, T, d), W and V (d, F), W2 (F, d); F = d_ff is 4d for the 2-matrix variants and
// 8d/3 for the gated ones, so every variant has the same parameter count (config.h).
//
// Non-gated (eq. 2, 3):
//   FFN_ReLU(x, W1, W2)  = max(0, x W1) W2
//   FFN_GELU(x, W1, W2)  = GELU(x W1) W2
//   FFN_Swish(x, W1, W2) = Swish_1(x W1) W2
// Gated, "GLU variants" (eq. 6), the activation always on the x W branch:
//   FFN_GLU(x, W, V, W2)      = (sigmoid(x W) * x V) W2
//   FFN_Bilinear(x, W, V, W2) = (x W * x V) W2
//   FFN_ReGLU(x, W, V, W2)    = (max(0, x W) * x V) W2
//   FFN_GEGLU(x, W, V, W2)    = (GELU(x W) * x V) W2
//   FFN_SwiGLU(x, W, V, W2)   = (Swish_1(x W) * x V) W2
// where * is the elementwise product and Swish_1(z) = z sigmoid(z) = SiLU(z).
//
// feed_forward_reference() composes the equations from ops (matmul, activation, mul).
// feed_forward(), which the model runs, computes a gated variant's act(x W) * x V as one fused
// op, gate() in src/ops/activations.cpp: one pass over memory instead of an activation and a
// mul, and nothing saved for the backward. The two give the same bits (tests/test_model.cpp).
#include "glulab/ffn.h"

#include "glulab/ops.h"

namespace glulab {

namespace {
// The activation applied to x W, by variant. Bilinear has none (the identity).
Tensor activate(FfnKind kind, const Tensor& xW) {
    switch (kind) {
        case FfnKind::ReLU:
        case FfnKind::ReGLU: return relu(xW);       // max(0, z)
        case FfnKind::GELU:
        case FfnKind::GEGLU: return gelu(xW);       // GELU(z), tanh form
        case FfnKind::Swish:
        case FfnKind::SwiGLU: return silu(xW);      // Swish_1(z) = z sigmoid(z)
        case FfnKind::GLU: return sigmoid(xW);      // sigmoid(z)
        case FfnKind::Bilinear: return xW;          // z
    }
    return xW;
}
}  // namespace

// The formulas above, op by op: read this one first.
Tensor feed_forward_reference(FfnKind kind, const Tensor& x, const FfnWeights& w) {
    Tensor h = activate(kind, matmul(x, w.W));       // (B, T, d) @ (d, F) -> (B, T, F)
    if (is_gated(kind)) h = mul(h, matmul(x, w.V));  // gate: act(x W) * x V, (B, T, F)
    return matmul(h, w.W2);                          // (B, T, F) @ (F, d) -> (B, T, d)
}

// The same numbers with the gate fused: what the model runs.
Tensor feed_forward(FfnKind kind, const Tensor& x, const FfnWeights& w) {
    const Tensor xW = matmul(x, w.W);  // (B, T, d) @ (d, F) -> (B, T, F)
    if (!is_gated(kind)) return matmul(activate(kind, xW), w.W2);  // (B, T, F) @ (F, d) -> (B, T, d)
    const Tensor xV = matmul(x, w.V);  // (B, T, d) @ (d, F) -> (B, T, F)
    return matmul(gate(kind, xW, xV), w.W2);  // act(x W) * x V: (B, T, F) @ (F, d) -> (B, T, d)
}

}  // namespace glulab
