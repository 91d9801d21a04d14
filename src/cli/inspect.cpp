// inspect.cpp — `glulab inspect`: every parameter's name, shape and count, by block, and the
// totals, so the equal-parameter design of Shazeer (2020) is visible for each variant.
#include <cstdio>

#include "glulab/cli.h"
#include "glulab/model.h"
#include "glulab/options.h"

namespace glulab::cli {

int cmd_inspect(const Args& args) {
    static const CommandSpec spec{
        "inspect",
        "Print the parameter table of a model: name, shape (as stored, x @ W), count, and totals.",
        "glulab inspect --preset tiny --ffn swiglu",
        {{"preset", "NAME", "tiny, small or base", "small"},
         {"ffn", "NAME", "one of the eight FFN variants", "swiglu"}},
        ""};
    return run_command(spec, args, [](const Options& opt) {
        const Model model(preset_config(opt.text("preset", "small"), parse_ffn(opt.text("ffn", "swiglu"))));
        const ModelConfig& c = model.config();
        std::printf("preset %s, ffn %s: d %d, H %d, N %d, T %d, d_ff %d (%d matrices)\n\n", c.preset.c_str(),
                    ffn_name(c.ffn).c_str(), c.d_model, c.n_head, c.n_layer, c.ctx, c.d_ff(), ffn_matrices(c.ffn));
        std::printf("%-28s %-14s %12s\n", "name", "shape", "count");
        size_t ffn_total = 0;
        std::string group;
        for (const Parameter& p : model.parameters()) {
            // A blank line before each block's first parameter groups the table by block.
            const std::string g = p.name.rfind("blocks.", 0) == 0 ? p.name.substr(0, p.name.find('.', 7)) : "";
            if (g != group) std::printf("\n");
            group = g;
            std::printf("%-28s %-14s %12zu\n", p.name.c_str(), p.value.shape_str().c_str(), p.value.numel());
            if (p.name.find(".ffn.") != std::string::npos) ffn_total += p.value.numel();
        }
        std::printf("\nFFN parameters  %zu\ntotal           %zu\n", ffn_total, model.parameter_count());
        return 0;
    });
}

}  // namespace glulab::cli
