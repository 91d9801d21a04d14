// dot.cpp — writes an autograd graph (autograd.h) as Graphviz DOT; see dot.h for the drawing.
//
// The walk is the engine's own (autograd.cpp's topological_order) extended to leaves: an
// iterative post-order depth-first search from the output over Node::inputs, so every tensor is
// numbered after the tensors it was computed from and the file reads from inputs to output.
#include "glulab/dot.h"

#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace glulab {

namespace {

// A DOT string literal: quotes and backslashes escaped, a newline written as DOT's line break.
std::string quoted(const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
        if (c == '\n') {
            q += "\\n";
            continue;
        }
        if (c == '"' || c == '\\') q += '\\';
        q += c;
    }
    return q + "\"";
}

// Two lines: a name and a shape, "matmul\n(1, 8, 128)".
std::string label(const std::string& name, const Shape& shape) { return quoted(name + "\n" + shape_to_string(shape)); }

// The three kinds of node, styled so that a student tells them apart at a glance.
const char* const kOpStyle = "shape=ellipse";
const char* const kMatmulStyle = "shape=ellipse, style=filled, fillcolor=\"#fde9c9\"";  // where the FLOPs are
const char* const kParameterStyle = "shape=box, style=filled, fillcolor=\"#cfe2f3\"";
const char* const kDataStyle = "shape=box, style=rounded";

class DotWriter {
public:
    DotWriter(const std::string& title, const IdInputLabel& id_inputs) : id_inputs_(id_inputs) {
        out_ = "digraph " + quoted(title) + " {\n  label=" + quoted(title) +
               "; labelloc=t; fontname=\"Helvetica\"; rankdir=TB;\n"
               "  node [fontname=\"Helvetica\", fontsize=11]; edge [color=\"#555555\"];\n";
    }

    // Numbers every tensor reachable from `root` after all its inputs, writing each node as it
    // is numbered and its incoming arrows right after it.
    void walk(TensorImpl* root) {
        std::vector<std::pair<TensorImpl*, size_t>> stack{{root, 0}};
        std::unordered_set<TensorImpl*> entered{root};
        while (!stack.empty()) {
            auto& [t, next_input] = stack.back();
            const Node* node = t->grad_fn.get();
            if (node && next_input < node->inputs.size()) {
                TensorImpl* in = node->inputs[next_input++].get();
                if (entered.insert(in).second) stack.push_back({in, 0});
            } else {
                write_node(*t, t == root);
                stack.pop_back();
            }
        }
    }

    std::string finish() { return out_ + "}\n"; }

private:
    void write_node(const TensorImpl& t, bool is_output) {
        const Node* node = t.grad_fn.get();
        if (!node) {  // a leaf: a trained parameter, or data
            const char* style = t.requires_grad ? kParameterStyle : kDataStyle;
            out_ += "  " + number(t) + " [label=" + label(t.name.empty() ? "input" : t.name, t.shape) + ", " +
                    style + "];\n";
            return;
        }
        // Integer ids (tokens, targets) are drawn as data, numbered just before the op reading them.
        std::string ids_node;
        const std::string ids = id_inputs_ ? id_inputs_(*node, t) : "";
        if (!ids.empty()) {
            ids_node = next_id();
            out_ += "  " + ids_node + " [label=" + quoted(ids) + ", " + kDataStyle + "];\n";
        }
        const std::string op = node->op, id = number(t);
        out_ += "  " + id + " [label=" + label(op, t.shape) + ", " + (op == "matmul" ? kMatmulStyle : kOpStyle) +
                (is_output ? ", peripheries=2" : "") + "];\n";
        if (!ids_node.empty()) out_ += "  " + ids_node + " -> " + id + ";\n";
        for (const auto& in : node->inputs) out_ += "  " + ids_.at(in.get()) + " -> " + id + ";\n";
    }

    std::string next_id() { return "n" + std::to_string(next_id_++); }
    // A tensor's id, given the first time it is written; its arrows out use it later.
    const std::string& number(const TensorImpl& t) { return ids_[&t] = next_id(); }

    const IdInputLabel& id_inputs_;
    std::string out_;
    std::unordered_map<const TensorImpl*, std::string> ids_;
    int next_id_ = 0;
};

}  // namespace

std::string graph_to_dot(const Tensor& output, const std::string& title, const IdInputLabel& id_inputs) {
    DotWriter writer(title, id_inputs);
    writer.walk(output.impl());
    return writer.finish();
}

}  // namespace glulab
