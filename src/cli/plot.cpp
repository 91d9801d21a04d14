// plot.cpp — `glulab plot RUN_DIR... --out FILE.svg`: loss curves of one or more runs from their
// metrics.jsonl, also while they are still training (the same plotting code as the report).
#include <cstdio>

#include "glulab/fileio.h"
#include "glulab/options.h"
#include "glulab/report.h"

namespace glulab::cli {

int cmd_plot(const Args& args) {
    static const CommandSpec spec{
        "plot",
        "Draw the loss curves of runs (folders with metrics.jsonl, or parents of them) as one SVG.",
        "glulab plot runs/demo --out loss.svg",
        {{"out", "FILE.svg", "the SVG to write (required)", ""},
         {"metric", "NAME", "loss (training loss, with validation points) or val_loss", "loss"},
         {"title", "T", "the plot's title", "\"Training loss\" or \"Validation loss\""}},
        "RUN_DIR..."};
    return run_command(spec, args, [](const Options& opt) {
        if (opt.positional().empty())
            throw UsageError("glulab plot: give at least one run folder (see glulab plot --help)");
        const std::string out = opt.required("out");
        const std::string metric = opt.text("metric", "loss");
        if (metric != "loss" && metric != "val_loss")
            throw UsageError("--metric must be loss or val_loss, got '" + metric + "'");
        const auto dirs = report::find_run_dirs(opt.positional(), "metrics.jsonl");
        write_file_atomic(out, report::curves_svg(dirs, metric, opt.text("title")));
        std::fprintf(stderr, "wrote %s (%zu run%s)\n", out.c_str(), dirs.size(), dirs.size() == 1 ? "" : "s");
        return 0;
    });
}

}  // namespace glulab::cli
