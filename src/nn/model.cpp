// model.cpp — the byte-level Transformer, following ../shared/reference-model.md:
//
//   h = E[token] + P[position]
//   for each of N blocks:
//       h = h + Attention(RMSNorm(h; g1))         pre-norm residual blocks
//       h = h + FFN_variant(RMSNorm(h; g2))
//   logits = RMSNorm(h; gf) E^T                   output projection tied to E
//
// Left out on purpose: biases, dropout, weight tying other than E, key/value caches.
#include "glulab/model.h"

#include <cmath>
#include <stdexcept>

#include "glulab/ops.h"
#include "glulab/rng.h"

namespace glulab {

Tensor Model::add_parameter(const std::string& name, const Shape& shape, ParamKind kind) {
    Tensor t = Tensor::zeros(shape, /*requires_grad=*/true);
    t.set_name(name);
    params_.push_back({name, t, kind});
    return t;
}

Model::Model(const ModelConfig& config) : config_(config) {
    config_.validate();
    const int d = config_.d_model, F = config_.d_ff();
    E = add_parameter("tok_emb.weight", {kVocab, d}, ParamKind::Embedding);
    P = add_parameter("pos_emb.weight", {config_.ctx, d}, ParamKind::Embedding);
    for (int i = 0; i < config_.n_layer; ++i) {
        const std::string b = "blocks." + std::to_string(i) + ".";
        Block blk;
        blk.g1 = add_parameter(b + "norm1.weight", {d}, ParamKind::Gain);
        blk.attn.Wq = add_parameter(b + "attn.q.weight", {d, d}, ParamKind::Linear);
        blk.attn.Wk = add_parameter(b + "attn.k.weight", {d, d}, ParamKind::Linear);
        blk.attn.Wv = add_parameter(b + "attn.v.weight", {d, d}, ParamKind::Linear);
        blk.attn.Wo = add_parameter(b + "attn.o.weight", {d, d}, ParamKind::Residual);
        blk.g2 = add_parameter(b + "norm2.weight", {d}, ParamKind::Gain);
        blk.ffn.W = add_parameter(b + "ffn.w1.weight", {d, F}, ParamKind::Linear);
        if (is_gated(config_.ffn)) blk.ffn.V = add_parameter(b + "ffn.v.weight", {d, F}, ParamKind::Linear);
        blk.ffn.W2 = add_parameter(b + "ffn.w2.weight", {F, d}, ParamKind::Residual);
        blocks_.push_back(blk);
    }
    gf = add_parameter("norm_f.weight", {d}, ParamKind::Gain);
}

void Model::init(uint64_t seed) {
    // One generator walks the registry in order, so the same seed gives the same model.
    Rng rng(seed);
    const float residual_std = 0.02f / std::sqrt(2.0f * static_cast<float>(config_.n_layer));
    for (Parameter& p : params_) {
        float* w = p.value.data();
        const size_t n = p.value.numel();
        if (p.kind == ParamKind::Gain) {
            for (size_t i = 0; i < n; ++i) w[i] = 1.0f;
            continue;
        }
        const float std = p.kind == ParamKind::Residual ? residual_std : 0.02f;
        for (size_t i = 0; i < n; ++i) w[i] = std * rng.normal();
    }
}

Tensor Model::logits(const std::vector<int>& tokens, int B, int T) const {
    if (T < 1 || T > config_.ctx)
        throw std::invalid_argument("model: sequence length " + std::to_string(T) + " outside 1.." +
                                    std::to_string(config_.ctx));
    if (B < 1 || tokens.size() != static_cast<size_t>(B) * T)
        throw std::invalid_argument("model: expected " + std::to_string(B) + " x " + std::to_string(T) +
                                    " tokens, got " + std::to_string(tokens.size()));
    // Positions 0..T-1 are the first T rows of P: a (T, d) view when T < ctx.
    std::vector<int> positions(T);
    for (int t = 0; t < T; ++t) positions[t] = t;

    Tensor h = add(embedding(E, tokens, {B, T}), embedding(P, positions, {T}));  // (B, T, d) + (T, d)
    for (const Block& blk : blocks_) {
        h = add(h, causal_self_attention(rmsnorm(h, blk.g1), blk.attn, config_.n_head));  // (B, T, d)
        h = add(h, feed_forward(config_.ffn, rmsnorm(h, blk.g2), blk.ffn));               // (B, T, d)
    }
    return matmul(rmsnorm(h, gf), E, false, true);  // (B, T, d) @ (d, 256) -> (B, T, 256), E tied
}

Tensor Model::loss(const std::vector<int>& tokens, const std::vector<int>& targets, int B, int T) const {
    Tensor y = logits(tokens, B, T);                             // (B, T, 256)
    return cross_entropy(reshape(y, {B * T, kVocab}), targets);  // mean over B*T predictions
}

}  // namespace glulab
