// attention.h — causal multi-head self-attention (Vaswani et al. 2017), no biases.
#pragma once
#include "glulab/tensor.h"

namespace glulab {

struct AttentionWeights {
    Tensor Wq, Wk, Wv, Wo;  // each (d, d)
};

// x (B, T, d) -> (B, T, d), with H heads of width d / H and a causal mask.
Tensor causal_self_attention(const Tensor& x, const AttentionWeights& w, int n_head);

}  // namespace glulab
