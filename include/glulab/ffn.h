// ffn.h — the position-wise feed-forward layer, in all eight variants of Shazeer (2020).
// One FFN with a kind, not eight classes: the variants differ only in their formula lines
// (src/nn/ffn.cpp, the paper's file).
#pragma once
#include "glulab/config.h"
#include "glulab/tensor.h"

namespace glulab {

struct FfnWeights {
    Tensor W;   // (d, F): the projection that is activated (or gated)  — W1 in eq. (2)-(3), W in eq. (6)
    Tensor V;   // (d, F): the linear branch of a gated variant; undefined for 2-matrix variants
    Tensor W2;  // (F, d): back to the model width
};

// x (..., d) -> (..., d), the gate fused (what the model runs)
Tensor feed_forward(FfnKind kind, const Tensor& x, const FfnWeights& w);
// The same, composed op by op as in the paper: activation, then mul for the gate
Tensor feed_forward_reference(FfnKind kind, const Tensor& x, const FfnWeights& w);

}  // namespace glulab
