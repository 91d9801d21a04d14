// attention.cpp — causal multi-head self-attention, as in
//   Vaswani et al., "Attention Is All You Need" (2017), section 3.2:
//     Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V                           (eq. 1)
//     MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
//         head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)
// For self-attention Q = K = V = x. The H heads' projections W_i^Q are the column blocks of
// one (d, d) matrix Wq, so one matmul computes all heads and a reshape splits them.
// Causal: position t attends to positions <= t only (the decoder's mask, section 3.2.3).
//
// Two versions of eq. 1 with the same arguments and result: causal_attention_reference() below,
// composed from ops line by line as the paper writes it (read this one), and the fused op
// causal_attention() (src/ops/attention.cpp), which the model uses. They agree up to rounding
// (tests/test_attention.cpp); the fused one copies no heads, keeps each head's (T, T) scores in
// cache and skips the masked future: in the small preset it takes about 0.7 of the composed
// version's time and a quarter less peak memory for the whole step.
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

// Eq. 1 for all heads at once: q, k, v (B, T, d) -> (B, T, d), the heads side by side.
using AttentionFn = Tensor (*)(const Tensor& q, const Tensor& k, const Tensor& v, int n_head);

// MultiHead(x) = Concat(head_1, ..., head_h) W^O with all heads' Q, K, V from one matmul each;
// `attention` gives the Concat(...) part, composed or fused.
Tensor multi_head(const Tensor& x, const AttentionWeights& w, int n_head, AttentionFn attention) {
    Tensor q = matmul(x, w.Wq);  // (B, T, d) @ (d, d) -> (B, T, d): head h is columns [h hd, (h+1) hd)
    Tensor k = matmul(x, w.Wk);  // (B, T, d)
    Tensor v = matmul(x, w.Wv);  // (B, T, d)
    return matmul(attention(q, k, v, n_head), w.Wo);  // (B, T, d) @ (d, d) -> (B, T, d)
}
}  // namespace

// ---- eq. 1, composed from ops: the reference ----
Tensor causal_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, int n_head) {
    const int hd = q.size(2) / n_head;
    Tensor qh = split_heads(q, n_head);  // (B, T, d) -> (B, H, T, hd)
    Tensor kh = split_heads(k, n_head);  // (B, H, T, hd)
    Tensor vh = split_heads(v, n_head);  // (B, H, T, hd)
    // q k^T / sqrt(d_k): (B, H, T, hd) @ (B, H, hd, T) -> (B, H, T, T)
    Tensor scores = scale(matmul(qh, kh, false, true), 1.0f / std::sqrt(static_cast<float>(hd)));
    Tensor weights = softmax(scores, /*causal=*/true);  // each row sums to 1 over positions <= t
    Tensor heads = matmul(weights, vh);                 // (B, H, T, T) @ (B, H, T, hd) -> (B, H, T, hd)
    return merge_heads(heads);                          // (B, T, d)
}

// ---- multi-head self-attention: the reference, and the model's (fused) version ----
Tensor causal_self_attention_reference(const Tensor& x, const AttentionWeights& w, int n_head) {
    return multi_head(x, w, n_head, causal_attention_reference);
}

Tensor causal_self_attention(const Tensor& x, const AttentionWeights& w, int n_head) {
    return multi_head(x, w, n_head, causal_attention);
}

}  // namespace glulab
