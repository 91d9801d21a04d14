// config.cpp — preset sizes and FFN names, from the table in ../shared/reference-model.md.
#include "glulab/config.h"

#include <stdexcept>

namespace glulab {

const std::vector<FfnKind>& all_ffn_kinds() {
    static const std::vector<FfnKind> kinds = {FfnKind::ReLU,     FfnKind::GELU,  FfnKind::Swish, FfnKind::GLU,
                                               FfnKind::Bilinear, FfnKind::ReGLU, FfnKind::GEGLU, FfnKind::SwiGLU};
    return kinds;
}

std::string ffn_name(FfnKind kind) {
    switch (kind) {
        case FfnKind::ReLU: return "relu";
        case FfnKind::GELU: return "gelu";
        case FfnKind::Swish: return "swish";
        case FfnKind::GLU: return "glu";
        case FfnKind::Bilinear: return "bilinear";
        case FfnKind::ReGLU: return "reglu";
        case FfnKind::GEGLU: return "geglu";
        case FfnKind::SwiGLU: return "swiglu";
    }
    return "?";
}

FfnKind parse_ffn(const std::string& name) {
    std::string choices;
    for (FfnKind kind : all_ffn_kinds()) {
        if (ffn_name(kind) == name) return kind;
        choices += (choices.empty() ? "" : ", ") + ffn_name(kind);
    }
    throw std::invalid_argument("unknown FFN '" + name + "' (choose from " + choices + ")");
}

bool is_gated(FfnKind kind) { return static_cast<int>(kind) >= static_cast<int>(FfnKind::GLU); }
int ffn_matrices(FfnKind kind) { return is_gated(kind) ? 3 : 2; }

int ModelConfig::d_ff() const { return is_gated(ffn) ? 8 * d_model / 3 : 4 * d_model; }

void ModelConfig::validate() const {
    auto fail = [](const std::string& what) { throw std::invalid_argument("model config: " + what); };
    if (d_model < 1 || n_head < 1 || n_layer < 1 || ctx < 1) fail("every size must be >= 1");
    if (d_model % n_head != 0)
        fail("d_model " + std::to_string(d_model) + " is not divisible by n_head " + std::to_string(n_head));
    if (is_gated(ffn) && d_model % 3 != 0)
        fail("gated FFNs need d_model divisible by 3 (d_ff = 8d/3), got " + std::to_string(d_model));
}

const std::vector<std::string>& preset_names() {
    static const std::vector<std::string> names = {"tiny", "small", "base"};
    return names;
}

ModelConfig preset_config(const std::string& preset, FfnKind ffn) {
    ModelConfig c;
    c.preset = preset;
    c.ffn = ffn;
    if (preset == "tiny") { c.d_model = 48;  c.n_head = 4; c.n_layer = 2; c.ctx = 64; }
    else if (preset == "small") { c.d_model = 192; c.n_head = 6; c.n_layer = 4; c.ctx = 128; }
    else if (preset == "base") { c.d_model = 384; c.n_head = 6; c.n_layer = 6; c.ctx = 256; }
    else throw std::invalid_argument("unknown preset '" + preset + "' (choose from tiny, small, base)");
    return c;
}

}  // namespace glulab
