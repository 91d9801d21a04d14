// sample.cpp — `glulab sample`: generate text from a checkpoint.
#include <cstdio>

#include "glulab/checkpoint.h"
#include "glulab/cli.h"
#include "glulab/options.h"
#include "glulab/sample.h"
#include "glulab/train_state.h"

namespace glulab::cli {

int cmd_sample(const Args& args) {
    static const CommandSpec spec{
        "sample",
        "Generate bytes from a checkpoint, continuing a prompt.",
        "glulab sample --ckpt runs/demo/checkpoint.bin --prompt \"ROMEO:\" --tokens 300 --temperature 0.8 --top-k 40",
        {{"ckpt", "FILE", "checkpoint written by glulab train", ""},
         {"prompt", "TEXT", "the text to continue (any bytes)", "a newline"},
         {"tokens", "N", "bytes to generate", "200"},
         {"temperature", "X", "0 is greedy; higher is more random", "1.0"},
         {"top-k", "K", "sample among the K most likely bytes only (0: all 256)", "0"},
         {"seed", "S", "seed of the sampler", "1"}},
        ""};
    return run_command(spec, args, [](const Options& opt) {
        const std::string path = opt.required("ckpt");
        SampleOptions o;
        o.tokens = static_cast<int>(opt.integer("tokens", 200, 0, 1000000));
        o.temperature = static_cast<float>(opt.real("temperature", 1.0, 0.0, 100.0));
        o.top_k = static_cast<int>(opt.integer("top-k", 0, 0, 256));
        o.seed = static_cast<uint64_t>(opt.integer("seed", 1, 0, 2147483647));
        const auto model = model_from_checkpoint(load_checkpoint(path), path);
        const std::string prompt = opt.text("prompt");
        const std::string text = generate(*model, prompt, o);
        std::fwrite(prompt.data(), 1, prompt.size(), stdout);
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fputc('\n', stdout);
        return 0;
    });
}

}  // namespace glulab::cli
