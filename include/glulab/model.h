// model.h — the pre-norm decoder-only byte-level Transformer of ../shared/reference-model.md.
#pragma once
#include <cstdint>
#include <vector>

#include "glulab/attention.h"
#include "glulab/config.h"
#include "glulab/ffn.h"
#include "glulab/params.h"

namespace glulab {

constexpr int kVocab = 256;  // tokens are bytes

class Model {
public:
    explicit Model(const ModelConfig& config);  // parameters allocated, zero; call init()

    // E, P and every matrix from N(0, 0.02); Wo and W2 from N(0, 0.02 / sqrt(2N)); gains 1.
    void init(uint64_t seed);

    // tokens: B*T byte values (row b is sequence b) -> logits (B, T, 256). 1 <= T <= ctx.
    Tensor logits(const std::vector<int>& tokens, int B, int T) const;
    // Mean next-byte cross-entropy of logits(tokens) against targets (B*T values) -> (1).
    Tensor loss(const std::vector<int>& tokens, const std::vector<int>& targets, int B, int T) const;

    const ModelConfig& config() const { return config_; }
    ParameterList& parameters() { return params_; }
    const ParameterList& parameters() const { return params_; }
    size_t parameter_count() const { return count_parameters(params_); }

private:
    struct Block {
        Tensor g1;               // (d) RMSNorm gain before attention
        AttentionWeights attn;   // Wq, Wk, Wv, Wo
        Tensor g2;               // (d) RMSNorm gain before the FFN
        FfnWeights ffn;          // W, V (gated only), W2
    };

    Tensor add_parameter(const std::string& name, const Shape& shape, ParamKind kind);

    ModelConfig config_;
    ParameterList params_;  // the registry: every parameter, in a fixed order
    Tensor E;               // (256, d) token embedding, also the output projection (tied)
    Tensor P;               // (T, d) learned positions
    std::vector<Block> blocks_;
    Tensor gf;              // (d) final RMSNorm gain
};

}  // namespace glulab
