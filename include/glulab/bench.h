// bench.h — `glulab bench`: the speed of a real training step (issue 5), in tokens/s, ms per step
// and model-FLOPs utilisation against the FMA peak the command measures itself, with the per-op
// profile of profile.h and the peak memory.
#pragma once
#include "glulab/cli.h"
#include "glulab/model.h"

namespace glulab {

// Model FLOPs per trained token, the convention of issue 5 (and of PaLM's MFU):
//   6 P + 12 N T d
// 6 P: every parameter takes part in one multiply-add per token forward (2 FLOPs) and two
// backward (4 FLOPs); 12 N T d: attention's q k^T and p v, which have no parameters, 2 T d FLOPs
// each per token and layer forward, times 3 for forward and backward. A convention for comparing
// runs rather than an exact count: it includes E's lookup (no FLOPs) and the masked half of the
// causal scores, and leaves out every elementwise op.
double model_flops_per_token(const Model& model);

}  // namespace glulab

namespace glulab::cli {

int cmd_bench(const Args& args);  // src/cli/bench.cpp

}  // namespace glulab::cli
