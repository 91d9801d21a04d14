// attention.cpp — causal multi-head self-attention, as in
//   Vaswani et al., "Attention Is All You Need" (2017), section 3.2:
//     Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V                           (eq. 1)
//     MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
//         head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)
// For self-attention Q = K = V = x. The H heads' projections W_i^Q are the column blocks of
// one (d, d) matrix Wq, so one matmul computes all heads and a reshape splits them.
// Causal: position t attends to positions <= t only (the decoder's mask, section 3.2.3).
// Left out: biases, dropout, key/value caching for generation (sampling recomputes the window).
#include "glulab/attention.h"

#include <cmath>

#include "glulab/ops.h"

namespace glulab {

namespace {
// (B, T, d) -> (B, H, T, hd): head h is columns [h hd, (h + 1) hd) of the last dim.
Tensor split_heads(const Tensor& x, int n_head) {
    const int B = x.size(0), T = x.size(1), d = x.size(2);
    return transpose12(reshape(x, {B, T, n_head, d / n_head}));  // (B, T, H, hd) -> (B, H, T, hd)
}

// (B, H, T, hd) -> (B, T, d): Concat(head_1, ..., head_h).
Tensor merge_heads(const Tensor& x) {
    const int B = x.size(0), H = x.size(1), T = x.size(2), hd = x.size(3);
    return reshape(transpose12(x), {B, T, H * hd});  // (B, T, H, hd) -> (B, T, d)
}
}  // namespace

Tensor causal_self_attention(const Tensor& x, const AttentionWeights& w, int n_head) {
    const int hd = x.size(2) / n_head;
    Tensor q = split_heads(matmul(x, w.Wq), n_head);  // (B, T, d) @ (d, d) -> (B, H, T, hd)
    Tensor k = split_heads(matmul(x, w.Wk), n_head);  // (B, H, T, hd)
    Tensor v = split_heads(matmul(x, w.Wv), n_head);  // (B, H, T, hd)
    Tensor scores = scale(matmul(q, k, false, true), 1.0f / std::sqrt(static_cast<float>(hd)));  // q k^T: (B, H, T, T)
    Tensor weights = softmax(scores, /*causal=*/true);  // each row sums to 1 over positions <= t
    Tensor heads = matmul(weights, v);                  // (B, H, T, T) @ (B, H, T, hd) -> (B, H, T, hd)
    return matmul(merge_heads(heads), w.Wo);            // (B, T, d) @ (d, d) -> (B, T, d)
}

}  // namespace glulab
