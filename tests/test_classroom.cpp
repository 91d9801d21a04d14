// test_classroom.cpp — issue 7's classroom commands end to end, on the real binary, for both
// small presets (tiny, small) and all eight FFN variants of Shazeer (2020):
//   - `glulab inspect`: the printed total is the spec's parameter count (the same for every
//     variant of a preset), the rows add up to the printed totals, and block 0 lists the
//     variant's 2 or 3 FFN matrices;
//   - `glulab graph`: the ffn scope has the variant's matmuls, gate product and activation op;
//     the block and model scopes differ from ReLU's by exactly the FFN's extra ops; every file
//     of the 3 scopes parses with Graphviz dot when it is installed;
//   - `glulab train --profile` for a step or two: the op table lists matmul and the variant's
//     activation; then `glulab plot` over the eight run folders gives one valid SVG naming them.
// Kept fast (a few seconds on 2 cores): tiny trains 2 steps of batch 2, small 1 step of batch 1,
// both on one thread.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "glulab/model.h"
#include "svg_check.h"

using namespace glulab;
using namespace glulab::testing;

namespace {

struct Variant {
    const char* name;
    int matrices;            // 2, or 3 for the GLU family (W, V, W2)
    const char* activation;  // the op on x W (src/nn/ffn.cpp): the activation, or the fused gate act(x W) * x V
};

// The paper's order, written out here rather than taken from the code under test.
const Variant kVariants[] = {{"relu", 2, "relu"},         {"gelu", 2, "gelu"},
                             {"swish", 2, "silu"},        {"glu", 3, "glu_gate"},
                             {"bilinear", 3, "bilinear_gate"}, {"reglu", 3, "reglu_gate"},
                             {"geglu", 3, "geglu_gate"},  {"swiglu", 3, "swiglu_gate"}};
const char* const kActivations[] = {"relu",       "gelu",          "silu",       "sigmoid",    "glu_gate",
                                    "bilinear_gate", "reglu_gate", "geglu_gate", "swiglu_gate"};

struct Preset {
    const char* name;
    size_t params;  // reference-model.md, the same for every variant
    int layers;     // N
};
const Preset kPresets[] = {{"tiny", 70896, 2}, {"small", 1844928, 4}};

bool gated(const Variant& v) { return v.matrices == 3; }

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// The last whitespace-separated word of a line as a count; -1 if it is not a plain number.
long long last_number(const std::string& line) {
    const size_t start = line.find_last_of(' ') + 1;
    const std::string word = line.substr(start);
    if (word.empty() || word.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoll(word);
}

// Nodes drawn for `op` in a DOT file: their labels start with the op name and a line break.
long count_op_nodes(const std::string& dot, const std::string& op) {
    const std::string key = "label=\"" + op + "\\n";
    long n = 0;
    for (size_t at = dot.find(key); at != std::string::npos; at = dot.find(key, at + 1)) ++n;
    return n;
}

bool has_graphviz() { return std::system("command -v dot >/dev/null 2>&1") == 0; }

// The rows of the op table that `train --profile` prints: from the "op ... calls" header to the
// "total" row. Returns the op names, first word of each row.
std::vector<std::string> profile_ops(const std::string& out) {
    std::vector<std::string> ops;
    bool in_table = false;
    for (const std::string& line : lines_of(out)) {
        if (starts_with(line, "op ") && line.find("calls") != std::string::npos) {
            in_table = true;
            continue;
        }
        if (!in_table) continue;
        if (starts_with(line, "total")) break;
        ops.push_back(line.substr(0, line.find(' ')));
    }
    return ops;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    for (const std::string& x : v)
        if (x == s) return true;
    return false;
}

}  // namespace

TEST_CASE("classroom: the variants tested here are exactly the eight the program knows") {
    REQUIRE(all_ffn_kinds().size() == 8);
    for (size_t i = 0; i < 8; ++i) {
        const FfnKind kind = all_ffn_kinds()[i];
        CAPTURE(i);
        CHECK(ffn_name(kind) == kVariants[i].name);
        CHECK(ffn_matrices(kind) == kVariants[i].matrices);
        CHECK(is_gated(kind) == gated(kVariants[i]));
    }
}

TEST_CASE("classroom: inspect prints the spec's parameter count and each FFN's matrices, tiny and small") {
    TempDir dir("classroom-inspect");
    for (const Preset& p : kPresets) {
        long long ffn_total_first = -1;
        for (const Variant& v : kVariants) {
            const std::string cmd = std::string("inspect --preset ") + p.name + " --ffn " + v.name;
            const RunResult r = run_glulab(cmd, dir);
            INFO("glulab " << cmd << "\nstderr: " << r.err);
            REQUIRE(r.exit_code == 0);
            const std::vector<std::string> lines = lines_of(r.out);
            REQUIRE(!lines.empty());
            CHECK(lines[0].find(std::string("preset ") + p.name + ", ffn " + v.name) != std::string::npos);
            CHECK(lines[0].find("(" + std::to_string(v.matrices) + " matrices)") != std::string::npos);

            long long total = -1, ffn_total = -1, row_sum = 0, ffn_row_sum = 0;
            int block0_ffn_rows = 0, total_lines = 0;
            std::vector<std::string> block0_ffn_names;
            for (const std::string& line : lines) {
                if (starts_with(line, "total")) {
                    total = last_number(line);
                    ++total_lines;
                } else if (starts_with(line, "FFN parameters")) {
                    ffn_total = last_number(line);
                } else if (line.find(".weight") != std::string::npos) {  // a parameter row
                    const long long count = last_number(line);
                    CHECK_MESSAGE(count > 0, line);
                    row_sum += count;
                    if (line.find(".ffn.") != std::string::npos) ffn_row_sum += count;
                    if (starts_with(line, "blocks.0.ffn.")) {
                        ++block0_ffn_rows;
                        block0_ffn_names.push_back(line.substr(0, line.find(' ')));
                    }
                }
            }
            CHECK(total_lines == 1);
            CHECK(total == static_cast<long long>(p.params));  // the spec's count
            CHECK(row_sum == total);                            // the rows add up to the total
            CHECK(ffn_row_sum == ffn_total);
            // Equal parameters: every variant's FFN has as many weights as the first one's.
            if (ffn_total_first < 0) ffn_total_first = ffn_total;
            CHECK(ffn_total == ffn_total_first);

            CHECK(block0_ffn_rows == v.matrices);
            CHECK(contains(block0_ffn_names, "blocks.0.ffn.w1.weight"));
            CHECK(contains(block0_ffn_names, "blocks.0.ffn.w2.weight"));
            CHECK(contains(block0_ffn_names, "blocks.0.ffn.v.weight") == gated(v));
            // Every block has the same FFN: the last block lists as many matrices as block 0.
            int last_block_rows = 0;
            const std::string last = "blocks." + std::to_string(p.layers - 1) + ".ffn.";
            for (const std::string& line : lines) last_block_rows += starts_with(line, last) ? 1 : 0;
            CHECK(last_block_rows == v.matrices);
        }
    }
}

TEST_CASE("classroom: graph draws each variant's FFN ops in every scope; dot parses every file") {
    TempDir dir("classroom-graph");
    const bool graphviz = has_graphviz();
    const char* const scopes[] = {"ffn", "block", "model"};
    for (const Preset& p : kPresets) {
        // ReLU's graph of each scope: the others differ from it only in the FFN.
        long relu_matmuls[3] = {0, 0, 0}, relu_muls[3] = {0, 0, 0};
        for (const Variant& v : kVariants) {
            for (int s = 0; s < 3; ++s) {
                const std::string scope = scopes[s];
                const std::string file = dir.file(std::string(p.name) + "-" + v.name + "-" + scope + ".dot");
                const std::string cmd =
                    std::string("graph --ffn ") + v.name + " --preset " + p.name +
                    " --scope " + scope + " --out " + file;
                const RunResult r = run_glulab(cmd, dir);
                INFO("glulab " << cmd << "\nstderr: " << r.err);
                REQUIRE(r.exit_code == 0);
                CHECK(r.out.find("dot -Tsvg " + file) != std::string::npos);  // the render hint
                const std::string dot = slurp(file);
                REQUIRE(starts_with(dot, "digraph "));
                CHECK(dot.find(std::string("preset ") + p.name) != std::string::npos);  // the title

                const long matmuls = count_op_nodes(dot, "matmul"), muls = count_op_nodes(dot, "mul");
                const int layers = scope == "ffn" || scope == "block" ? 1 : p.layers;  // FFNs in the graph
                if (std::string(v.name) == "relu") {
                    relu_matmuls[s] = matmuls;
                    relu_muls[s] = muls;
                }
                if (scope == "ffn") {
                    CHECK(matmuls == v.matrices);
                    CHECK(muls == 0);  // a gated variant's product is inside its fused gate
                } else {
                    CHECK(matmuls - relu_matmuls[s] == (v.matrices - 2) * layers);
                    CHECK(muls == relu_muls[s]);
                }
                for (const char* act : kActivations)
                    CHECK_MESSAGE(count_op_nodes(dot, act) == (std::string(act) == v.activation ? layers : 0), act);
                // The FFN's weights are drawn as parameters: V only for the gated variants.
                CHECK(dot.find("\"blocks.0.ffn.w1.weight\\n") != std::string::npos);
                CHECK(dot.find("\"blocks.0.ffn.w2.weight\\n") != std::string::npos);
                CHECK((dot.find("\"blocks.0.ffn.v.weight\\n") != std::string::npos) == gated(v));
                if (scope == "model") {
                    const std::string last = "\"blocks." + std::to_string(p.layers - 1) + ".ffn.w2.weight\\n";
                    CHECK(dot.find(last) != std::string::npos);
                    CHECK(count_op_nodes(dot, "cross_entropy") == 1);
                }

                if (!graphviz) continue;
                const std::string svg = file.substr(0, file.size() - 4) + ".svg", err = file + ".err";
                CHECK(std::system(("dot -Tsvg " + file + " -o " + svg + " 2>" + err).c_str()) == 0);
                CHECK(slurp(err).empty());  // not even a warning
                CHECK(slurp(svg).find("<svg") != std::string::npos);
            }
        }
    }
    if (!graphviz) MESSAGE("Graphviz dot is not on PATH: the parse check of the 48 DOT files was skipped");
}

namespace {
// Trains every variant of `preset` for a step or two with --profile, then plots the eight runs.
void train_and_plot(const Preset& p, const std::string& train_args) {
    TempDir dir(std::string("classroom-train-") + p.name);
    const std::string corpus = dir.file("corpus.txt");
    write_corpus(corpus, 20000);
    std::string run_dirs;
    for (const Variant& v : kVariants) {
        const std::string run = dir.file(std::string(p.name) + "-" + v.name);
        const std::string cmd = "train --data " + corpus + " --preset " + p.name +
                                " --ffn " + v.name + " " + train_args +
                                " --threads 1 --profile --out " + run;
        const RunResult r = run_glulab(cmd, dir);
        INFO("glulab " << cmd << "\nstderr: " << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find(std::to_string(p.params) + " parameters") != std::string::npos);
        CHECK(std::filesystem::exists(run + "/metrics.jsonl"));
        CHECK(std::filesystem::exists(run + "/summary.json"));
        const std::vector<std::string> ops = profile_ops(r.out);
        std::string op_list;
        for (const std::string& op : ops) op_list += op + " ";
        INFO("profiled ops: " << op_list);
        REQUIRE(!ops.empty());
        CHECK(contains(ops, "matmul"));
        for (const char* act : kActivations)
            CHECK_MESSAGE(contains(ops, act) == (std::string(act) == v.activation), act);
        run_dirs += " " + run;
    }

    const std::string svg = dir.file(std::string(p.name) + ".svg");
    const RunResult r = run_glulab("plot" + run_dirs + " --out " + svg, dir);
    INFO("glulab plot" << run_dirs << " --out " << svg << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.find("(8 runs)") != std::string::npos);
    const std::string doc = slurp(svg);
    CHECK(check_svg(doc) == "");
    for (const Variant& v : kVariants)
        CHECK_MESSAGE(doc.find(std::string(">") + p.name + "-" + v.name + "<") != std::string::npos, v.name);
}
}  // namespace

TEST_CASE("classroom: train --profile on tiny for every variant, then one plot of the eight runs") {
    train_and_plot(kPresets[0], "--steps 2 --batch 2");
}

TEST_CASE("classroom: train --profile on small for every variant, then one plot of the eight runs") {
    train_and_plot(kPresets[1], "--steps 1 --batch 1");
}
