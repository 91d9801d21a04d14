// params.h — the one named registry of a model's parameters.
//
// Every place that must visit "all parameters" — counting, initialisation, weight decay,
// AdamW, gradient clipping, checkpoints, export — walks this list, so adding a parameter is
// one line in model.cpp and nothing else.
#pragma once
#include <string>
#include <vector>

#include "glulab/tensor.h"

namespace glulab {

enum class ParamKind {
    Embedding,  // E, P: rows are looked up; initialised N(0, 0.02), decayed
    Linear,     // a matrix used as x @ W, stored (in, out); initialised N(0, 0.02), decayed
    Residual,   // Wo and W2, the projections onto the residual stream: N(0, 0.02 / sqrt(2N)), decayed
    Gain,       // RMSNorm gains g: start at 1, not decayed
};

struct Parameter {
    std::string name;  // PyTorch-style: "blocks.0.ffn.w1.weight"
    Tensor value;
    ParamKind kind;

    bool decayed() const { return kind != ParamKind::Gain; }
    // Stored as (in, out) for x @ W; PyTorch's nn.Linear stores [out, in].
    bool is_matrix() const { return kind == ParamKind::Linear || kind == ParamKind::Residual; }
};

using ParameterList = std::vector<Parameter>;

size_t count_parameters(const ParameterList& params);
void zero_gradients(ParameterList& params);

}  // namespace glulab
