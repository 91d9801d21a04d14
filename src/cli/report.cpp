// report.cpp — `glulab report RUN_DIR...`: the comparison table of finished runs beside the
// paper's Table 1, with statistics over seeds and two plots (see report.h for the contents).
#include <cstdio>
#include <filesystem>

#include "glulab/fileio.h"
#include "glulab/options.h"
#include "glulab/report.h"

namespace glulab::cli {

namespace {

// The default output folder: the first argument when it is a parent of run folders (so the
// report lands beside the runs), else the current folder.
std::string default_out_dir(const std::string& first) {
    namespace fs = std::filesystem;
    if (fs::is_directory(first) && !fs::exists(fs::path(first) / "summary.json")) return first;
    return ".";
}

void write(const std::string& dir, const std::string& name, const std::string& text) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    write_file_atomic(path, text);
    std::fprintf(stderr, "wrote %s\n", path.c_str());
}

}  // namespace

int cmd_report(const Args& args) {
    static const CommandSpec spec{
        "report",
        "Compare finished runs (folders with summary.json, or parents of them) by FFN variant: writes table.md,\n"
        "table.csv, val_loss.svg and final_loss.svg, and prints table.md.",
        "glulab report runs/small --out experiments/results/small",
        {{"out", "DIR", "where to write the table and plots", "the first RUN_DIR if it is a parent folder, else ."},
         {"title", "T", "the table's heading", "\"GLU variants: PRESET preset, STEPS steps\""}},
        "RUN_DIR..."};
    return run_command(spec, args, [](const Options& opt) {
        if (opt.positional().empty())
            throw UsageError("glulab report: give at least one run folder (see glulab report --help)");
        const std::vector<std::string> dirs = report::find_run_dirs(opt.positional(), "summary.json");
        std::vector<report::Run> runs;
        for (const std::string& d : dirs) runs.push_back(report::read_summary(d));
        const report::Comparison c = report::compare(runs);

        const std::string out = opt.text("out", default_out_dir(opt.positional().front()));
        make_directories(out);
        const std::string md = report::table_markdown(c, opt.text("title"));
        write(out, "table.md", md);
        write(out, "table.csv", report::table_csv(c));
        const std::string curves = report::val_loss_svg(c, runs);
        if (curves.empty()) std::fprintf(stderr, "note: no val_loss in the runs' metrics.jsonl, so no val_loss.svg\n");
        else write(out, "val_loss.svg", curves);
        write(out, "final_loss.svg", report::final_loss_svg(c));
        std::fputs(md.c_str(), stdout);
        return 0;
    });
}

}  // namespace glulab::cli
