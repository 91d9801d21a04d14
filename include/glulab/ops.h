// ops.h — every differentiable op, one line each with its math.
//
// Each op lives in src/ops/<family>.cpp with its forward kernel, its backward kernel and the
// graph record side by side, under a comment giving f and its derivative. Shapes use the legend
// of tensor.h. Ops check their arguments and throw std::invalid_argument naming the op and the
// shapes; they never read out of bounds.
#pragma once
#include <vector>

#include "glulab/config.h"
#include "glulab/tensor.h"

namespace glulab {

// ---- matmul (src/ops/matmul.cpp; kernels in src/ops/gemm.cpp) ----
// y = op(a) @ op(b), op(m) = m^T when the flag is set (the transpose is never materialised).
//   a (..., M, K) [trans_a: (..., K, M)]   b (K, N) [trans_b: (N, K)] shared by every batch item,
//   or b (..., K, N) with the same leading dims as a (batched).          -> y (..., M, N)
//   dL/da = dL/dy @ b^T,  dL/db = a^T @ dL/dy (transposed to match when a flag is set).
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

// ---- elementwise (src/ops/elementwise.cpp) ----
// Broadcasting: b's shape is a suffix of a's (a gain (d) over (B, T, d), positions (T, d)
// over (B, T, d)); b's gradient is summed over the leading dims it was repeated along.
Tensor add(const Tensor& a, const Tensor& b);    // y = a + b;  da = dy, db = dy
Tensor mul(const Tensor& a, const Tensor& b);    // y = a * b;  da = dy * b, db = dy * a
Tensor scale(const Tensor& x, float s);          // y = s x;    dx = s dy
Tensor sum(const Tensor& x);                     // y = sum_i x_i -> (1);  dx_i = dy
Tensor mean(const Tensor& x);                    // y = sum_i x_i / n -> (1);  dx_i = dy / n

// ---- activations (src/ops/activations.cpp) ----
Tensor relu(const Tensor& x);      // max(0, x);  dx = dy * [x > 0]
Tensor gelu(const Tensor& x);      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
Tensor sigmoid(const Tensor& x);   // 1 / (1 + exp(-x));  dx = dy * y (1 - y)
Tensor silu(const Tensor& x);      // Swish_1(x) = x sigmoid(x);  dx = dy * s (1 + x (1 - s))

// The GLU family's gate (Shazeer 2020, eq. 6), fused: y = act(a) * b with the variant's act
// (GLU sigmoid, Bilinear none, ReGLU relu, GEGLU gelu, SwiGLU silu), a = x W and b = x V.
// The same numbers as mul(act(a), b) in one pass.  da = dy * b * act'(a), db = dy * act(a).
// a, b (..., F) of one shape -> (..., F). Throws for a non-gated kind.
Tensor gate(FfnKind kind, const Tensor& a, const Tensor& b);

// ---- normalisation (src/ops/rmsnorm.cpp) ----
// y = x / sqrt(mean(x^2) + eps) * g over the last dim.  x (..., d), g (d) -> (..., d)
Tensor rmsnorm(const Tensor& x, const Tensor& g, float eps = 1e-5f);

// ---- softmax (src/ops/softmax.cpp) ----
// y_ij = exp(x_ij) / sum_k exp(x_ik) over the last dim; with `causal`, x (..., T, T) and
// entries j > i (the future) are excluded (y = 0).  dx = y * (dy - sum_k dy_k y_k)
Tensor softmax(const Tensor& x, bool causal = false);

// ---- loss (src/ops/cross_entropy.cpp) ----
// Mean over rows of -log softmax(logits)[target], fused for stability.
//   logits (N, V), targets N ids in [0, V) -> (1);  dlogits = (softmax - onehot) / N
Tensor cross_entropy(const Tensor& logits, const std::vector<int>& targets);

// ---- embedding (src/ops/embedding.cpp) ----
// y[i] = table[ids[i]]: a gather; the backward scatter-adds dy rows into table's gradient.
//   table (V, d), ids (numel of ids_shape) -> (ids_shape..., d)
Tensor embedding(const Tensor& table, const std::vector<int>& ids, const Shape& ids_shape);

// ---- attention (src/ops/attention.cpp) ----
// Attention(Q, K, V) = softmax(Q K^T / sqrt(hd)) V per head, causal (query t sees keys <= t), fused.
//   q, k, v (B, T, d), head h = columns [h hd, (h+1) hd) -> (B, T, d) = Concat(head_1, ..., head_H)
Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, int n_head);
double causal_attention_flops(int B, int T, int d);  // its forward FLOPs (2 products), for the profiler

// ---- shape (src/ops/shape.cpp) ----
Tensor reshape(const Tensor& x, const Shape& shape);  // same numbers, new shape; dx = reshape(dy)
// (A, B, C, D) -> (A, C, B, D): splits heads, (B, T, H, hd) -> (B, H, T, hd), and merges them back.
Tensor transpose12(const Tensor& x);

}  // namespace glulab
