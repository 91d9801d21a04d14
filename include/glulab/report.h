// report.h — the reproduction report: read finished run folders, compare the eight FFN variants
// with seed statistics, and write the table (Markdown, CSV) and plots (SVG) beside the paper's
// Table 1 (Shazeer 2020, "GLU Variants Improve Transformer", 65,536-step column).
//
// A run folder is what `glulab train --out DIR` writes: summary.json (when the run is complete)
// and metrics.jsonl (one JSON object per step; `val_loss` on evaluation steps).
#pragma once
#include <string>
#include <vector>

#include "glulab/cli.h"
#include "glulab/stats.h"

namespace glulab::report {

// ---- run folders ----

// The part of summary.json the report uses; other keys are ignored.
struct Run {
    std::string dir;
    std::string ffn, preset;
    long steps = 0;
    long long seed = 0;
    long long params = 0;
    int d_ff = 0, matrices = 0;
    double val_loss = 0.0, bits_per_byte = 0.0, perplexity = 0.0, tokens_per_sec = 0.0, wall_s = 0.0;
};

// One line of metrics.jsonl; val_loss is NaN on steps without an evaluation.
struct MetricPoint {
    double step = 0.0, loss = 0.0, val_loss = 0.0;
};

// The run folders named by `paths`: a folder holding `marker` (e.g. "summary.json") is a run;
// any other folder is searched (recursively, in name order) for run folders. Throws
// std::runtime_error if a path does not exist or nothing is found.
std::vector<std::string> find_run_dirs(const std::vector<std::string>& paths, const std::string& marker);
// Throws std::runtime_error naming DIR/summary.json if it is unreadable, malformed or incomplete.
Run read_summary(const std::string& dir);
// Throws std::runtime_error naming PATH:LINE for a malformed line. A last line without its
// newline that does not parse is skipped: the run may still be writing it.
std::vector<MetricPoint> read_metrics(const std::string& path);

// ---- the comparison ----

// Shazeer (2020), Table 1: log-perplexity after 65,536 steps (T5-base on C4).
struct PaperFigure {
    const char* ffn;
    double log_perplexity;
    bool gated;  // the GLU family: a third matrix and an elementwise product
};
const std::vector<PaperFigure>& paper_table();  // in the paper's row order

struct VariantRow {
    std::string ffn;
    int matrices = 0, d_ff = 0;
    long long params = 0;
    std::vector<double> losses;  // final validation loss of each seed
    double mean = 0.0, sd = 0.0;   // sample std over seeds; NaN for one seed
    stats::Interval vs_relu;       // mean - mean(relu), Welch 95% CI; NaN estimate without a ReLU row
    int rank = 0;                  // 1 = lowest mean loss (ties share the better rank)
    double paper = 0.0;            // NaN for a variant not in the paper
    int paper_rank = 0;            // among the variants of this table; 0 if not in the paper
};

struct Comparison {
    std::string preset;
    long steps = 0;
    size_t runs = 0;
    std::vector<VariantRow> rows;   // in the paper's order, then unknown variants by name
    size_t ranked = 0;              // variants in both our table and the paper's
    double kendall = 0.0, spearman = 0.0;  // NaN with fewer than two such variants
    stats::Interval family;         // mean(GLU family means) - mean(non-gated means); NaN if a side is missing
    double paper_family = 0.0;      // the same contrast in the paper, over the same variants
    double typical_std = 0.0;       // root-mean-square of the per-variant seed std; NaN for one seed
    std::string verdict;            // one plain sentence
};

// Groups runs by variant and computes the statistics. Throws std::runtime_error if the runs mix
// presets or step counts, or a variant has the same seed twice.
Comparison compare(const std::vector<Run>& runs);

std::string table_markdown(const Comparison& c, const std::string& title);
std::string table_csv(const Comparison& c);

// ---- plots ----

// Validation loss against step per variant (mean over seeds, min–max band), from each run's
// metrics.jsonl. Returns "" if no run has validation points.
std::string val_loss_svg(const Comparison& c, const std::vector<Run>& runs);
// Final validation loss per variant: mean with ±1 std error bars and a ReLU reference line.
std::string final_loss_svg(const Comparison& c);
// Loss against step, one curve per run folder (`glulab plot`); metric is "loss" (training
// loss, with the validation points as a dashed curve of the same colour) or "val_loss".
std::string curves_svg(const std::vector<std::string>& run_dirs, const std::string& metric, const std::string& title);

}  // namespace glulab::report

namespace glulab::cli {
int cmd_report(const Args& args);  // src/cli/report.cpp
int cmd_plot(const Args& args);    // src/cli/plot.cpp
}  // namespace glulab::cli
