// test_graph.cpp — `glulab graph` and the DOT writer (dot.h): the FFN graphs show the paper's
// difference (SwiGLU: 3 matmuls and an elementwise product; ReLU: 2 matmuls, no product), every
// parameter is drawn, the output is deterministic and parses with Graphviz where it is installed,
// and bad input gives one error line.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>

#include "cli_runner.h"
#include "glulab/dot.h"
#include "glulab/model.h"
#include "glulab/ops.h"

using namespace glulab;
using namespace glulab::testing;

namespace {
// Nodes drawn for `op`: their labels start with the op name and a line break.
long count_op_nodes(const std::string& dot, const std::string& op) {
    long n = 0;
    for (size_t at = dot.find("label=\"" + op + "\\n"); at != std::string::npos;
         at = dot.find("label=\"" + op + "\\n", at + 1))
        ++n;
    return n;
}

bool has_graphviz() { return std::system("command -v dot >/dev/null 2>&1") == 0; }
}  // namespace

TEST_CASE("graph: the DOT writer draws ops, parameters and data, arrows in the direction of data flow") {
    Tensor x = Tensor::zeros({2, 3});
    x.set_name("x");
    Tensor W = Tensor::zeros({3, 4}, true);
    W.set_name("W \"quoted\"");
    const std::string dot = graph_to_dot(relu(matmul(x, W)), "t");
    CHECK(dot.rfind("digraph \"t\" {", 0) == 0);
    CHECK(dot.find("n0 [label=\"x\\n(2, 3)\", shape=box, style=rounded]") != std::string::npos);
    CHECK(dot.find("n1 [label=\"W \\\"quoted\\\"\\n(3, 4)\", shape=box, style=filled") != std::string::npos);
    CHECK(dot.find("n2 [label=\"matmul\\n(2, 4)\"") != std::string::npos);
    CHECK(dot.find("n3 [label=\"relu\\n(2, 4)\", shape=ellipse, peripheries=2]") != std::string::npos);
    for (const char* edge : {"n0 -> n2;", "n1 -> n2;", "n2 -> n3;"}) CHECK(dot.find(edge) != std::string::npos);
}

TEST_CASE("graph: each FFN variant's graph has its matrices and, when gated, one fused gate") {
    TempDir dir("graph-ffn");
    for (FfnKind kind : all_ffn_kinds()) {
        const RunResult r = run_glulab("graph --ffn " + ffn_name(kind) + " --scope ffn --out -", dir);
        INFO(ffn_name(kind) << ": " << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(count_op_nodes(r.out, "matmul") == ffn_matrices(kind));
        CHECK(count_op_nodes(r.out, ffn_name(kind) + "_gate") == (is_gated(kind) ? 1 : 0));
        CHECK(count_op_nodes(r.out, "mul") == 0);
        for (const char* name : {"blocks.0.ffn.w1.weight", "blocks.0.ffn.w2.weight"})
            CHECK(r.out.find(name) != std::string::npos);
        CHECK((r.out.find("blocks.0.ffn.v.weight") != std::string::npos) == is_gated(kind));
    }
    const RunResult swiglu = run_glulab("graph --ffn swiglu --out -", dir);  // ffn is the default scope
    CHECK(count_op_nodes(swiglu.out, "matmul") == 3);
    CHECK(count_op_nodes(swiglu.out, "swiglu_gate") == 1);
    CHECK(count_op_nodes(swiglu.out, "silu") == 0);
    const RunResult relu = run_glulab("graph --ffn relu --out -", dir);
    CHECK(count_op_nodes(relu.out, "matmul") == 2);
    CHECK(count_op_nodes(relu.out, "mul") == 0);
}

TEST_CASE("graph: the model scope draws every parameter and the token, position and target ids") {
    TempDir dir("graph-model");
    for (const char* ffn : {"relu", "swiglu"}) {
        const RunResult r = run_glulab(std::string("graph --scope model --preset tiny --ffn ") + ffn + " --out -", dir);
        REQUIRE(r.exit_code == 0);
        const Model model(preset_config("tiny", parse_ffn(ffn)));
        for (const Parameter& p : model.parameters())
            CHECK_MESSAGE(r.out.find("\"" + p.name + "\\n") != std::string::npos, p.name);
        for (const char* data : {"tokens\\n(1, 8)", "positions\\n(8)", "targets\\n(8)"})
            CHECK(r.out.find(data) != std::string::npos);
        CHECK(count_op_nodes(r.out, "cross_entropy") == 1);
        // Same command, same bytes: node ids come from the walk, not from addresses.
        CHECK(run_glulab(std::string("graph --scope model --preset tiny --ffn ") + ffn + " --out -", dir).out == r.out);
    }
}

TEST_CASE("graph: files for every scope parse with Graphviz dot (when it is installed)") {
    TempDir dir("graph-dot");
    for (const char* scope : {"ffn", "block", "model"}) {
        const std::string file = dir.file(std::string(scope) + ".dot");
        const RunResult r = run_glulab(std::string("graph --ffn geglu --scope ") + scope + " --out " + file, dir);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find("dot -Tsvg " + file) != std::string::npos);
        if (!has_graphviz()) continue;  // the rest needs Graphviz
        const std::string svg = dir.file(std::string(scope) + ".svg");
        CHECK(std::system(("dot -Tsvg " + file + " -o " + svg + " 2>" + dir.file("dot.err")).c_str()) == 0);
        CHECK(slurp(dir.file("dot.err")).empty());  // not even a warning
        CHECK(slurp(svg).find("<svg") != std::string::npos);
    }
    if (!has_graphviz()) MESSAGE("Graphviz dot is not on PATH: the parse check was skipped");
}

TEST_CASE("graph: bad --ffn, --scope, --preset or a missing --out give one error line") {
    TempDir dir("graph-bad");
    struct Case {
        const char* args;
        const char* mentions;
        int code;
    };
    for (const Case& c : {Case{"graph --ffn nope --out -", "unknown FFN 'nope'", 1},
                          Case{"graph --ffn relu --scope layer --out -",
                               "--scope must be ffn, block or model, got 'layer'", 2},
                          Case{"graph --ffn relu --preset huge --out -", "unknown preset 'huge'", 1},
                          Case{"graph --ffn relu", "--out is required", 2},
                          Case{"graph --ffn relu --out /nonexistent/dir/g.dot", "/nonexistent/dir", 1}}) {
        const RunResult r = run_glulab(c.args, dir);
        INFO(c.args << " -> " << r.err);
        CHECK(r.exit_code == c.code);
        CHECK(r.err.rfind("error: ", 0) == 0);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        CHECK(r.err.find(c.mentions) != std::string::npos);
        CHECK(r.out.empty());
    }
}
