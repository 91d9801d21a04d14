// eval.cpp — `glulab eval`: the validation loss of a checkpoint (the spec's fixed windows).
#include <cmath>
#include <cstdio>

#include "glulab/checkpoint.h"
#include "glulab/cli.h"
#include "glulab/json.h"
#include "glulab/options.h"
#include "glulab/train.h"
#include "glulab/train_state.h"

namespace glulab::cli {

int cmd_eval(const Args& args) {
    static const CommandSpec spec{
        "eval",
        "Validation loss of a checkpoint: mean next-byte cross-entropy over the last 10% of the corpus.",
        "glulab eval --ckpt runs/demo/checkpoint.bin --data data/tinyshakespeare.txt --json",
        {{"ckpt", "FILE", "checkpoint written by glulab train", ""},
         {"data", "PATH", "corpus (the same split as training: its last 10%)", "data/tinyshakespeare.txt"},
         {"batch", "B", "windows evaluated together (does not change the result)", "16"},
         {"json", "", "print one JSON object {val_loss, bits_per_byte, perplexity}", ""}},
        ""};
    return run_command(spec, args, [](const Options& opt) {
        const std::string path = opt.required("ckpt");
        const auto model = model_from_checkpoint(load_checkpoint(path), path);
        const Corpus corpus = load_corpus(opt.text("data", "data/tinyshakespeare.txt"), model->config().ctx);
        const int B = static_cast<int>(opt.integer("batch", 16, 1, 65536));
        const double loss = evaluate(*model, validation_batches(corpus.val, model->config().ctx, B));
        if (opt.flag("json")) {
            json::Writer w;
            w.add("val_loss", loss).add("bits_per_byte", loss / std::log(2.0)).add("perplexity", std::exp(loss));
            std::printf("%s\n", w.str().c_str());
        } else {
            std::printf("val loss %.6f nats/byte, %.6f bits/byte, perplexity %.4f\n", loss, loss / std::log(2.0),
                        std::exp(loss));
        }
        return 0;
    });
}

}  // namespace glulab::cli
