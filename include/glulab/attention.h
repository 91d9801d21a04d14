// attention.h — causal multi-head self-attention (Vaswani et al. 2017), no biases.
#pragma once
#include "glulab/tensor.h"

namespace glulab {

struct AttentionWeights {
    Tensor Wq, Wk, Wv, Wo;  // each (d, d)
};

// x (B, T, d) -> (B, T, d), with H heads of width d / H and a causal mask: the model's version,
// using the fused causal_attention() op (ops.h, src/ops/attention.cpp).
Tensor causal_self_attention(const Tensor& x, const AttentionWeights& w, int n_head);

// The same function composed from ops, as the paper writes it: the readable reference that the
// fused op is tested against.
Tensor causal_self_attention_reference(const Tensor& x, const AttentionWeights& w, int n_head);

// Attention(Q, K, V) = softmax(Q K^T / sqrt(hd)) V for every head, composed from ops (split_heads,
// matmul, scale, causal softmax, matmul, merge_heads). q, k, v (B, T, d) -> (B, T, d); the
// arguments and result of causal_attention().
Tensor causal_attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, int n_head);

}  // namespace glulab
