// dispatch.cpp — `glulab <subcommand> ...`: the list of subcommands and the top-level help.
#include <cstdio>
#include <string>

#include "glulab/bench.h"
#include "glulab/cli.h"
#include "glulab/dot.h"
#include "glulab/report.h"

namespace glulab::cli {

namespace {
struct Subcommand {
    const char* name;
    int (*run)(const Args&);
    const char* summary;
    const char* example;
};

const Subcommand kSubcommands[] = {
    {"train", cmd_train, "train a model with one of the eight FFN variants",
     "glulab train --preset tiny --ffn swiglu --steps 300 --out runs/demo"},
    {"eval", cmd_eval, "validation loss of a checkpoint", "glulab eval --ckpt runs/demo/checkpoint.bin --json"},
    {"sample", cmd_sample, "generate text from a checkpoint",
     "glulab sample --ckpt runs/demo/checkpoint.bin --prompt \"ROMEO:\" --tokens 300 --temperature 0.8 --top-k 40"},
    {"export", cmd_export, "write the weights as safetensors (PyTorch names and layout)",
     "glulab export --ckpt runs/demo/checkpoint.bin --out demo.safetensors"},
    {"inspect", cmd_inspect, "the parameter table of a model", "glulab inspect --preset small --ffn swiglu"},
    {"report", cmd_report, "the comparison table, statistics and plots of finished runs",
     "glulab report experiments/results/small --out experiments/results/small"},
    {"plot", cmd_plot, "loss curves of runs as an SVG", "glulab plot runs/demo --out demo.svg"},
    {"bench", cmd_bench, "speed of a training step: tokens/s, MFU, per-op profile, memory",
     "glulab bench --preset small --ffn swiglu --threads 2"},
    {"graph", cmd_graph, "the autograd graph of the FFN, a block or the model, as Graphviz DOT",
     "glulab graph --ffn swiglu --scope ffn --out ffn_swiglu.dot"},
};

void print_help() {
    std::printf(
        "glulab — GLU variants of the Transformer FFN (Shazeer 2020), trained from scratch in C++\n\n"
        "usage: glulab <command> [options]     (glulab <command> --help for its options)\n\ncommands:\n");
    for (const Subcommand& s : kSubcommands) std::printf("  %-9s %s\n            %s\n", s.name, s.summary, s.example);
}
}  // namespace

int run(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
        std::string(argv[1]) == "help") {
        print_help();
        return 0;
    }
    const std::string name = argv[1];
    for (const Subcommand& s : kSubcommands)
        if (name == s.name) return s.run(Args(argv + 2, argv + argc));
    std::fprintf(stderr, "error: unknown command '%s' (run glulab --help for the list)\n", name.c_str());
    return 2;
}

}  // namespace glulab::cli
