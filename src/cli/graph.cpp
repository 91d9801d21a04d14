// graph.cpp — `glulab graph`: the autograd graph of one forward pass as Graphviz DOT (issue 7),
// so a class can see where the FFN variants differ: SwiGLU's third matrix V and its elementwise
// product are two extra nodes beside ReLU's graph.
//
// Scopes (B = 1 sequence of T = 8 positions, the weights of a real model of the preset):
//   ffn    feed_forward on x (1, T, d): the paper's formula alone (src/nn/ffn.cpp);
//   block  one pre-norm block, as in Model::logits:
//            h = x + Attention(RMSNorm(x; g1));  y = h + FFN(RMSNorm(h; g2));
//   model  the whole model.loss on T tokens and their T next-byte targets.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "glulab/dot.h"
#include "glulab/fileio.h"
#include "glulab/model.h"
#include "glulab/ops.h"
#include "glulab/options.h"

namespace glulab::cli {

namespace {

constexpr int kGraphT = 8;  // positions: small enough to read, 8 > 1 so shapes show T

const CommandSpec& graph_spec() {
    static const CommandSpec spec{
        "graph",
        "Write the autograd graph of one forward pass in Graphviz DOT: an ellipse per op (name, output shape),\n"
        "a filled box per parameter (name, shape), rounded boxes for data; arrows follow the data.\n"
        "Render it with: dot -Tsvg FILE.dot -o FILE.svg",
        "glulab graph --ffn swiglu --scope ffn --out ffn_swiglu.dot",
        {{"ffn", "NAME", "relu, gelu, swish, glu, bilinear, reglu, geglu or swiglu", "swiglu"},
         {"scope", "WHAT", "ffn (the FFN alone), block (one Transformer block) or model (the whole loss)", "ffn"},
         {"preset", "NAME", "model size: tiny, small or base", "tiny"},
         {"out", "FILE", "the DOT file to write, or - for standard output", ""}},
        ""};
    return spec;
}

// A parameter of the model by its registry name ("blocks.0.ffn.w1.weight").
Tensor parameter(const Model& model, const std::string& name) {
    for (const Parameter& p : model.parameters())
        if (p.name == name) return p.value;
    throw std::logic_error("graph: the model has no parameter " + name);
}

// The input of the ffn and block scopes: data, so it needs no gradient (the parameters do).
Tensor input_x(const ModelConfig& c) {
    Tensor x = Tensor::zeros({1, kGraphT, c.d_model});
    x.set_name("x");
    return x;
}

Tensor block0_ffn(const Model& model, const Tensor& x) {
    FfnWeights w;
    w.W = parameter(model, "blocks.0.ffn.w1.weight");
    if (is_gated(model.config().ffn)) w.V = parameter(model, "blocks.0.ffn.v.weight");
    w.W2 = parameter(model, "blocks.0.ffn.w2.weight");
    return feed_forward(model.config().ffn, x, w);  // (1, T, d)
}

Tensor block0(const Model& model, const Tensor& x) {
    const AttentionWeights attn{parameter(model, "blocks.0.attn.q.weight"), parameter(model, "blocks.0.attn.k.weight"),
                                parameter(model, "blocks.0.attn.v.weight"), parameter(model, "blocks.0.attn.o.weight")};
    const Tensor h = add(x, causal_self_attention(rmsnorm(x, parameter(model, "blocks.0.norm1.weight")), attn,
                                                  model.config().n_head));                    // (1, T, d)
    return add(h, block0_ffn(model, rmsnorm(h, parameter(model, "blocks.0.norm2.weight"))));  // (1, T, d)
}

Tensor whole_loss(const Model& model) {
    const std::string text = "To be, or not";  // T + 1 bytes: T inputs, T shifted targets
    std::vector<int> tokens(text.begin(), text.begin() + kGraphT),
        targets(text.begin() + 1, text.begin() + kGraphT + 1);
    return model.loss(tokens, targets, 1, kGraphT);  // (1)
}

// Names the integer inputs of the model scope: token and position ids, and the targets.
std::string id_input_label(const Node& node, const TensorImpl& out) {
    const std::string op = node.op;
    if (op == "embedding") {
        const Shape ids(out.shape.begin(), out.shape.end() - 1);  // the output without its last dim, d
        return (node.inputs[0]->name == "pos_emb.weight" ? "positions\n" : "tokens\n") + shape_to_string(ids);
    }
    if (op == "cross_entropy") return "targets\n" + shape_to_string({node.inputs[0]->shape[0]});
    return "";
}

// "ffn.dot" -> "ffn.svg": where the render command of the closing hint writes.
std::string svg_name(const std::string& dot_path) {
    const bool dot_ext = dot_path.size() > 4 && dot_path.compare(dot_path.size() - 4, 4, ".dot") == 0;
    return (dot_ext ? dot_path.substr(0, dot_path.size() - 4) : dot_path) + ".svg";
}

}  // namespace

int cmd_graph(const Args& args) {
    return run_command(graph_spec(), args, [](const Options& opt) {
        const std::string scope = opt.text("scope", "ffn");
        if (scope != "ffn" && scope != "block" && scope != "model")
            throw UsageError("--scope must be ffn, block or model, got '" + scope + "'");
        const std::string out = opt.required("out");
        const Model model(preset_config(opt.text("preset", "tiny"), parse_ffn(opt.text("ffn", "swiglu"))));
        const ModelConfig& c = model.config();

        const Tensor y = scope == "ffn"     ? block0_ffn(model, input_x(c))
                         : scope == "block" ? block0(model, input_x(c))
                                            : whole_loss(model);
        const std::string title = "glulab " + scope + ": " + ffn_name(c.ffn) + ", preset " + c.preset + " (d " +
                                  std::to_string(c.d_model) + ", d_ff " + std::to_string(c.d_ff()) + "), B 1, T " +
                                  std::to_string(kGraphT);
        const std::string dot = graph_to_dot(y, title, id_input_label);
        if (out == "-") {
            std::fputs(dot.c_str(), stdout);
            return 0;
        }
        write_file_atomic(out, dot);
        std::printf("wrote %s; render it with: dot -Tsvg %s -o %s\n", out.c_str(), out.c_str(), svg_name(out).c_str());
        return 0;
    });
}

}  // namespace glulab::cli
