// config.h — the model presets and FFN variants of ../shared/reference-model.md.
#pragma once
#include <string>
#include <vector>

namespace glulab {

// The eight position-wise feed-forward layers compared by Shazeer (2020), Table 1.
enum class FfnKind { ReLU, GELU, Swish, GLU, Bilinear, ReGLU, GEGLU, SwiGLU };

const std::vector<FfnKind>& all_ffn_kinds();  // in the paper's order
std::string ffn_name(FfnKind kind);           // "relu", "gelu", ..., "swiglu"
FfnKind parse_ffn(const std::string& name);   // throws std::invalid_argument listing the choices
bool is_gated(FfnKind kind);                  // the GLU family: three matrices W, V, W2
int ffn_matrices(FfnKind kind);               // 2 or 3

struct ModelConfig {
    std::string preset;  // "tiny", "small", "base" (or "custom" in tests)
    int d_model = 0;     // d
    int n_head = 0;      // H
    int n_layer = 0;     // N
    int ctx = 0;         // T, the context length
    FfnKind ffn = FfnKind::ReLU;

    // 2-matrix variants: 4d; 3-matrix variants: 8d/3, so 2 * d * 4d == 3 * d * (8d/3).
    int d_ff() const;
    int head_dim() const { return d_model / n_head; }
    void validate() const;  // throws std::invalid_argument on inconsistent sizes
};

// tiny (d 48, H 4, N 2, T 64), small (192, 6, 4, 128), base (384, 6, 6, 256).
ModelConfig preset_config(const std::string& preset, FfnKind ffn);
const std::vector<std::string>& preset_names();

}  // namespace glulab
