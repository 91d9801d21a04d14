// dot.h — the autograd graph of one forward pass, drawn as Graphviz DOT (issue 7), and the
// `glulab graph` command that draws the FFN, a block or the whole model.
//
// Render a file with Graphviz:  dot -Tsvg ffn_swiglu.dot -o ffn_swiglu.svg
#pragma once
#include <functional>
#include <string>

#include "glulab/autograd.h"
#include "glulab/cli.h"

namespace glulab {

// Integer inputs are not tensors, so the graph does not hold them: an embedding's ids, the
// targets of cross_entropy. This optional function names them: given an op's Node and output, it
// returns the label of a data node to draw into the op, or "" for none.
using IdInputLabel = std::function<std::string(const Node& node, const TensorImpl& out)>;

// The graph that produced `output`, walked back from it through Node::inputs, in DOT:
//   op         ellipse: the op's name and its output's shape (the output op has a double border);
//   parameter  filled box: a leaf that requires a gradient, with its name (TensorImpl::name) and shape;
//   data       rounded box: any other leaf (its name, or "input") and the labels of `id_inputs`;
// arrows point in the direction of data flow, from an input to the op that reads it. Nodes are
// numbered n0, n1, ... in the order of a depth-first walk from `output` that visits inputs in
// order, so the same graph always gives the same text.
std::string graph_to_dot(const Tensor& output, const std::string& title, const IdInputLabel& id_inputs = {});

}  // namespace glulab

namespace glulab::cli {

int cmd_graph(const Args& args);  // src/cli/graph.cpp

}  // namespace glulab::cli
