// report.cpp — the reproduction report (report.h): run folders in; the comparison table in
// Markdown and CSV, and SVG plots out, beside Shazeer (2020) Table 1.
//
// Statistics are over seeds: each variant's final validation losses give a mean and a sample
// std; differences use Welch's interval (seeds of different variants are treated as
// independent, which is conservative when they share data order). With one seed per variant
// nothing about noise can be said, and the table says "n/a" instead of inventing it.
//
// Left out: paired tests across seeds, corrections for comparing eight variants at once, and
// any per-variant tuning (the paper uses one set of hyper-parameters for all, and so do we).
#include "glulab/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <utility>
#include <stdexcept>

#include "glulab/fileio.h"
#include "glulab/json.h"
#include "glulab/svg.h"

namespace glulab::report {

namespace fs = std::filesystem;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
bool finite(double v) { return std::isfinite(v); }
}  // namespace

// ---- run folders ----

std::vector<std::string> find_run_dirs(const std::vector<std::string>& paths, const std::string& marker) {
    std::vector<std::string> found;
    std::set<std::string> seen;  // canonical paths, so a run named twice counts once
    auto add = [&](const fs::path& dir) {
        if (seen.insert(fs::weakly_canonical(dir).string()).second) found.push_back(dir.string());
    };
    for (const std::string& p : paths) {
        const fs::path path(p);
        if (!fs::exists(path)) throw std::runtime_error("no such file or folder: " + p);
        if (!fs::is_directory(path)) {
            // `glulab report runs/*/summary.json` names the marker files themselves.
            if (path.filename() != marker) throw std::runtime_error(p + " is not a run folder");
            add(path.parent_path().empty() ? fs::path(".") : path.parent_path());
            continue;
        }
        if (fs::exists(path / marker)) {
            add(path);
            continue;
        }
        std::vector<fs::path> inside;
        for (const auto& entry : fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied))
            if (entry.is_directory() && fs::exists(entry.path() / marker)) inside.push_back(entry.path());
        if (inside.empty())
            throw std::runtime_error("no runs found in " + p + " (a run folder holds " + marker +
                                     ", written by glulab train)");
        std::sort(inside.begin(), inside.end());
        for (const fs::path& d : inside) add(d);
    }
    return found;
}

namespace {

// A required number of summary.json; null means the run wrote a non-finite value.
double number_field(const json::Value& v, const std::string& key) {
    const json::Value& x = v[key];
    if (x.is_null()) throw std::runtime_error(key + " is null (not a finite number: did the run diverge?)");
    return x.as_number();
}

// An optional number of a metrics line: absent or null reads as NaN.
double optional_number(const json::Value& v, const std::string& key) {
    return v.has(key) && v[key].is_number() ? v[key].as_number() : kNaN;
}

}  // namespace

Run read_summary(const std::string& dir) {
    const std::string path = (fs::path(dir) / "summary.json").string();
    const std::string text = read_file(path);  // "cannot read PATH: reason"
    try {
        const json::Value v = json::parse(text);
        Run r;
        r.dir = dir;
        r.ffn = v["ffn"].as_string();
        r.preset = v["preset"].as_string();
        r.steps = static_cast<long>(number_field(v, "steps"));
        r.seed = static_cast<long long>(number_field(v, "seed"));
        r.params = static_cast<long long>(number_field(v, "params"));
        r.d_ff = static_cast<int>(number_field(v, "d_ff"));
        r.matrices = static_cast<int>(number_field(v, "matrices"));
        r.val_loss = number_field(v, "val_loss");
        r.bits_per_byte = number_field(v, "bits_per_byte");
        r.perplexity = number_field(v, "perplexity");
        r.tokens_per_sec = number_field(v, "tokens_per_sec");
        r.wall_s = number_field(v, "wall_s");
        return r;
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(path + ": " + e.what());
    }
}

std::vector<MetricPoint> read_metrics(const std::string& path) {
    const std::string text = read_file(path);
    std::vector<MetricPoint> points;
    size_t line_no = 0;
    for (size_t begin = 0; begin < text.size();) {
        size_t end = text.find('\n', begin);
        const bool complete = end != std::string::npos;
        if (!complete) end = text.size();
        const std::string line = text.substr(begin, end - begin);
        begin = end + 1;
        ++line_no;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        try {
            const json::Value v = json::parse(line);
            points.push_back({v["step"].as_number(), optional_number(v, "loss"), optional_number(v, "val_loss")});
        } catch (const std::runtime_error& e) {
            if (!complete) break;  // a line still being written by a running `glulab train`
            throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + e.what());
        }
    }
    return points;
}

// ---- the comparison ----

const std::vector<PaperFigure>& paper_table() {
    static const std::vector<PaperFigure> table = {
        {"relu", 1.997, false},    {"gelu", 1.983, false},  {"swish", 1.994, false},
        {"glu", 1.982, true},      {"bilinear", 1.960, true}, {"reglu", 1.953, true},
        {"geglu", 1.942, true},    {"swiglu", 1.944, true}};
    return table;
}

namespace {

const PaperFigure* paper_figure(const std::string& ffn) {
    for (const PaperFigure& p : paper_table())
        if (ffn == p.ffn) return &p;
    return nullptr;
}

// Position of a variant in the paper's order; unknown variants after the eight.
size_t paper_index(const std::string& ffn) {
    const auto& t = paper_table();
    for (size_t i = 0; i < t.size(); ++i)
        if (ffn == t[i].ffn) return i;
    return t.size();
}

// 1 + the number of values strictly lower: ties share the better rank.
int rank_of(double v, const std::vector<double>& all) {
    return 1 + static_cast<int>(std::count_if(all.begin(), all.end(), [&](double w) { return w < v; }));
}

void check_same_setup(const std::vector<Run>& runs) {
    for (const Run& r : runs) {
        const Run& first = runs.front();
        if (r.preset != first.preset)
            throw std::runtime_error("runs mix presets: " + first.preset + " (" + first.dir + ") and " +
                                     r.preset + " (" + r.dir + "); report one preset at a time");
        if (r.steps != first.steps)
            throw std::runtime_error("runs mix step counts: " + std::to_string(first.steps) + " (" +
                                     first.dir + ") and " + std::to_string(r.steps) + " (" + r.dir +
                                     "); compare equal budgets only");
    }
}

// Runs grouped into rows (paper order, then others by name) with each row's seed statistics.
std::vector<VariantRow> group_runs(const std::vector<Run>& runs) {
    std::map<std::string, std::vector<const Run*>> by_ffn;
    for (const Run& r : runs) by_ffn[r.ffn].push_back(&r);
    std::vector<VariantRow> rows;
    for (const auto& [ffn, group] : by_ffn) {
        VariantRow row;
        row.ffn = ffn;
        row.matrices = group.front()->matrices;
        row.d_ff = group.front()->d_ff;
        row.params = group.front()->params;
        std::map<long long, std::string> seed_dirs;  // a seed counted twice would fake agreement
        for (const Run* r : group) {
            const auto [it, fresh] = seed_dirs.emplace(r->seed, r->dir);
            if (!fresh)
                throw std::runtime_error("two runs of " + ffn + " with seed " + std::to_string(r->seed) + " (" +
                                         it->second + " and " + r->dir + "); give each seed once");
            row.losses.push_back(r->val_loss);
        }
        row.mean = stats::mean(row.losses);
        row.sd = stats::sample_std(row.losses);
        const PaperFigure* p = paper_figure(ffn);
        row.paper = p ? p->log_perplexity : kNaN;
        rows.push_back(row);
    }
    std::stable_sort(rows.begin(), rows.end(),
                     [](const VariantRow& a, const VariantRow& b) { return paper_index(a.ffn) < paper_index(b.ffn); });
    return rows;
}

void add_ranks_and_differences(std::vector<VariantRow>& rows) {
    std::vector<double> means, papers;
    const VariantRow* relu = nullptr;
    for (const VariantRow& r : rows) {
        means.push_back(r.mean);
        if (finite(r.paper)) papers.push_back(r.paper);
        if (r.ffn == "relu") relu = &r;
    }
    const std::vector<double> relu_losses = relu ? relu->losses : std::vector<double>{};
    for (VariantRow& r : rows) {
        r.rank = rank_of(r.mean, means);
        r.paper_rank = finite(r.paper) ? rank_of(r.paper, papers) : 0;
        if (relu_losses.empty()) r.vs_relu = {kNaN, kNaN, kNaN, kNaN};
        else r.vs_relu = stats::diff_ci95(r.losses, relu_losses);
    }
}

// GLU family minus non-gated: a contrast of variant means, each side weighted equally, over the
// variants of the table that the paper has; the paper's figure over the same variants beside it.
void add_family_contrast(Comparison& c) {
    std::vector<std::vector<double>> groups;
    std::vector<const PaperFigure*> figures;
    for (const VariantRow& r : c.rows)
        if (const PaperFigure* p = paper_figure(r.ffn)) {
            groups.push_back(r.losses);
            figures.push_back(p);
        }
    const auto n_gated =
        static_cast<double>(std::count_if(figures.begin(), figures.end(), [](auto p) { return p->gated; }));
    const double n_plain = static_cast<double>(figures.size()) - n_gated;
    if (n_gated == 0 || n_plain == 0) {
        c.family = {kNaN, kNaN, kNaN, kNaN};
        c.paper_family = kNaN;
        return;
    }
    std::vector<double> weights;
    c.paper_family = 0.0;
    for (const PaperFigure* p : figures) {
        weights.push_back(p->gated ? 1.0 / n_gated : -1.0 / n_plain);
        c.paper_family += weights.back() * p->log_perplexity;
    }
    c.family = stats::contrast_ci95(groups, weights);
}

std::string fixed(double v, int decimals) {
    if (!finite(v)) return "n/a";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string signed_fixed(double v, int decimals) {
    if (!finite(v)) return "n/a";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%+.*f", decimals, v);
    return buf;
}

std::string ci_text(const stats::Interval& i, int decimals) {
    if (!i.defined()) return "n/a";
    return "[" + signed_fixed(i.low, decimals) + ", " + signed_fixed(i.high, decimals) + "]";
}

std::string verdict(const Comparison& c) {
    const stats::Interval& f = c.family;
    if (!finite(f.estimate))
        return "There is no family comparison to make: it needs at least one GLU-family and one non-gated variant.";
    const std::string size = fixed(std::fabs(f.estimate), 4);
    const std::string direction = f.estimate < 0 ? "lower" : "higher";
    if (!f.defined())
        return std::string(finite(c.typical_std) ? "With only one seed of some variants"
                                                 : "With one seed per variant") +
               " there is no measure of seed noise, so the GLU family's " + direction +
               " mean loss (by " + size +
               " nats/byte) cannot be told apart from chance; run at least 3 seeds per variant.";
    if (f.high < 0.0)
        return "The GLU family beats the non-gated variants: its mean validation loss is lower by " + size +
               " nats/byte (95% CI " + fixed(-f.high, 4) + " to " + fixed(-f.low, 4) +
               "), more than seed noise explains, as in the paper.";
    if (f.low > 0.0)
        return "The GLU family does worse than the non-gated variants here: its mean validation loss is higher by " +
               size + " nats/byte (95% CI " + fixed(f.low, 4) + " to " + fixed(f.high, 4) +
               "), the opposite of the paper.";
    return "The difference between the GLU family and the non-gated variants (" + signed_fixed(f.estimate, 4) +
           " nats/byte, 95% CI " + ci_text(f, 4) +
           ") is within seed noise: at this scale these runs cannot tell them apart.";
}

}  // namespace

Comparison compare(const std::vector<Run>& runs) {
    if (runs.empty()) throw std::runtime_error("no runs to compare");
    check_same_setup(runs);
    Comparison c;
    c.preset = runs.front().preset;
    c.steps = runs.front().steps;
    c.runs = runs.size();
    c.rows = group_runs(runs);
    add_ranks_and_differences(c.rows);

    std::vector<double> ours, paper;
    double variance_sum = 0.0;
    int with_spread = 0;
    for (const VariantRow& r : c.rows) {
        if (finite(r.paper)) {
            ours.push_back(r.mean);
            paper.push_back(r.paper);
        }
        if (finite(r.sd)) {
            variance_sum += r.sd * r.sd;
            ++with_spread;
        }
    }
    c.ranked = ours.size();
    c.kendall = ours.size() >= 2 ? stats::kendall_tau_b(ours, paper) : kNaN;
    c.spearman = ours.size() >= 2 ? stats::spearman_rho(ours, paper) : kNaN;
    c.typical_std = with_spread > 0 ? std::sqrt(variance_sum / with_spread) : kNaN;
    add_family_contrast(c);
    c.verdict = verdict(c);
    return c;
}

// ---- the table ----

namespace {

std::string with_commas(long long n) {
    std::string digits = std::to_string(n < 0 ? -n : n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return n < 0 ? "-" + out : out;
}

// "3 seeds each", or "1-3 seeds" when the variants differ.
std::string seeds_text(const Comparison& c) {
    size_t lo = SIZE_MAX, hi = 0;
    for (const VariantRow& r : c.rows) {
        lo = std::min(lo, r.losses.size());
        hi = std::max(hi, r.losses.size());
    }
    if (lo == hi) return std::to_string(lo) + (lo == 1 ? " seed each" : " seeds each");
    return std::to_string(lo) + "-" + std::to_string(hi) + " seeds";
}

// The variants of the table on one side of the family comparison: "glu, bilinear, swiglu".
std::string family_list(const Comparison& c, bool gated) {
    std::string out;
    for (const VariantRow& r : c.rows) {
        const PaperFigure* p = paper_figure(r.ffn);
        if (p && p->gated == gated) out += (out.empty() ? "" : ", ") + r.ffn;
    }
    return out.empty() ? "none" : out;
}

std::string markdown_row(const VariantRow& r) {
    const bool is_relu = r.ffn == "relu";
    const std::string loss = fixed(r.mean, 4) + " ± " + fixed(r.sd, 4);
    const std::string diff = is_relu ? "0 (reference)" : signed_fixed(r.vs_relu.estimate, 4);
    const std::string ci = is_relu ? "-" : ci_text(r.vs_relu, 4);
    return "| " + r.ffn + " | " + std::to_string(r.matrices) + " | " + std::to_string(r.d_ff) + " | " +
           with_commas(r.params) + " | " + std::to_string(r.losses.size()) + " | " + loss + " | " +
           fixed(r.mean / std::log(2.0), 4) + " | " + fixed(std::exp(r.mean), 3) + " | " + diff + " | " + ci + " | " +
           std::to_string(r.rank) + " | " + fixed(r.paper, 3) + " | " +
           (r.paper_rank > 0 ? std::to_string(r.paper_rank) : "n/a") + " |\n";
}

}  // namespace

std::string table_markdown(const Comparison& c, const std::string& title) {
    const std::string heading =
        title.empty() ? "GLU variants: " + c.preset + " preset, " + std::to_string(c.steps) + " steps" : title;
    std::string md = "# " + heading + "\n\n";
    md += std::to_string(c.runs) + " runs: " + std::to_string(c.rows.size()) + " FFN variants, " + seeds_text(c) +
          ". Validation loss is the mean next-byte cross-entropy in nats on the held-out 10% (lower is better). "
          "The paper's column is log-perplexity per token of T5-base on C4 after 65,536 steps "
          "(Shazeer 2020, Table 1): compare ranks and signs, not values.\n\n";
    md += "| variant | matrices | d_ff | params | seeds | val loss (mean ± std) | bits/byte | perplexity | "
          "Δ vs ReLU | 95% CI (Welch) | rank | paper (65k) | paper rank |\n"
          "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
    for (const VariantRow& r : c.rows) md += markdown_row(r);
    md += "\n";
    md += "- **Ranking vs. the paper** (" + std::to_string(c.ranked) + " variants): Kendall's tau-b = " +
          fixed(c.kendall, 3) + ", Spearman's rho = " + fixed(c.spearman, 3) +
          " (1: the same order, 0: unrelated, -1: reversed).\n";
    md += "- **GLU family vs. non-gated**: mean of (" + family_list(c, true) + ") minus mean of (" +
          family_list(c, false) + ") = " + signed_fixed(c.family.estimate, 4) + " nats/byte, 95% CI " +
          ci_text(c.family, 4) +
          (c.family.defined() ? " (Welch-Satterthwaite, df " + fixed(c.family.df, 1) + ")" : "") +
          "; in the paper: " + signed_fixed(c.paper_family, 4) + ". Typical seed std: " + fixed(c.typical_std, 4) +
          ".\n";
    md += "- **Verdict**: " + c.verdict + "\n\n";
    md += "Δ vs ReLU: the variant's mean loss minus ReLU's, with Welch's 95% confidence interval "
          "(negative is better). "
          "Bits/byte (loss / ln 2) and perplexity (e^loss) are of the mean loss. Rank 1 is the lowest loss; "
          "the paper's rank is among the variants in this table. n/a: not defined for one seed.\n";
    return md;
}

namespace {
// A CSV number: six decimals with trailing zeros dropped (finer digits are float noise of the
// averaging, far below seed noise); n/a as an empty field.
std::string csv_number(double v) {
    if (!finite(v)) return "";
    std::string s = fixed(v, 6);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s == "-0" ? "0" : s;
}
std::string csv_text(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
}
}  // namespace

std::string table_csv(const Comparison& c) {
    std::string csv = "variant,matrices,d_ff,params,seeds,val_loss_mean,val_loss_std,bits_per_byte,perplexity,"
                      "diff_vs_relu,diff_ci95_low,diff_ci95_high,rank,paper_log_ppl_65k,paper_rank\n";
    for (const VariantRow& r : c.rows) {
        const bool is_relu = r.ffn == "relu";  // its difference from itself has no interval
        csv += csv_text(r.ffn) + "," + std::to_string(r.matrices) + "," + std::to_string(r.d_ff) + "," +
               std::to_string(r.params) + "," + std::to_string(r.losses.size()) + "," + csv_number(r.mean) + "," +
               csv_number(r.sd) + "," + csv_number(r.mean / std::log(2.0)) + "," + csv_number(std::exp(r.mean)) + "," +
               csv_number(r.vs_relu.estimate) + "," +
               (is_relu ? "," : csv_number(r.vs_relu.low) + "," + csv_number(r.vs_relu.high)) + "," +
               std::to_string(r.rank) + "," + csv_number(r.paper) + "," +
               (r.paper_rank > 0 ? std::to_string(r.paper_rank) : "") + "\n";
    }
    return csv;
}

// ---- plots ----

namespace {

// The same colour for a variant in every plot: its place in the paper's order.
std::string variant_colour(const std::string& ffn) {
    return svg::palette()[paper_index(ffn) % svg::palette().size()];
}

bool is_gated(const std::string& ffn) {
    const PaperFigure* p = paper_figure(ffn);
    return !p || p->gated;
}

// Mean validation curve of one variant over its runs, with a min..max band when there are
// several; only steps evaluated in every run that has validation points count.
svg::Series mean_val_curve(const std::string& ffn, const std::vector<Run>& runs) {
    std::map<double, std::vector<double>> by_step;
    size_t curves = 0;
    for (const Run& r : runs) {
        if (r.ffn != ffn) continue;
        const std::string path = (fs::path(r.dir) / "metrics.jsonl").string();
        if (!file_exists(path)) continue;
        bool any = false;
        for (const MetricPoint& p : read_metrics(path))
            if (finite(p.val_loss)) {
                by_step[p.step].push_back(p.val_loss);
                any = true;
            }
        curves += any;
    }
    svg::Series s;
    s.name = ffn;
    s.colour = variant_colour(ffn);
    s.dashed = !is_gated(ffn);
    for (const auto& [step, values] : by_step) {
        if (values.size() != curves) continue;
        s.x.push_back(step);
        s.y.push_back(stats::mean(values));
        if (curves >= 2) {
            s.band_lo.push_back(*std::min_element(values.begin(), values.end()));
            s.band_hi.push_back(*std::max_element(values.begin(), values.end()));
        }
    }
    return s;
}

// The loss at about a fifth of the run, worst over the curves: a y range cut there shows the
// later steps, where the variants differ, instead of the shared initial drop from ln 256.
double later_steps_cut(const std::vector<svg::Series>& curves) {
    double last_step = 0.0, cut = -INFINITY;
    for (const svg::Series& s : curves)
        if (!s.x.empty()) last_step = std::max(last_step, s.x.back());
    for (const svg::Series& s : curves)
        for (size_t i = 0; i < s.x.size(); ++i)
            if (s.x[i] >= 0.2 * last_step) {
                cut = std::max(cut, s.band_hi.empty() ? s.y[i] : s.band_hi[i]);
                break;
            }
    return cut;
}

// "tiny preset, 200 steps, 3 seeds each (band: min-max)", or the one-seed wording.
std::string seeds_subtitle(const Comparison& c, const std::string& spread) {
    const std::string setup = c.preset + " preset, " + std::to_string(c.steps) + " steps, ";
    bool one_seed = true;
    for (const VariantRow& r : c.rows) one_seed = one_seed && r.losses.size() == 1;
    return setup + (one_seed ? "one seed per variant (no spread shown)" : seeds_text(c) + " (" + spread + ")");
}

// Legend names for run folders: the folder's own name ("swiglu-s1"), or the whole path when
// two runs share that name.
std::vector<std::string> short_names(const std::vector<std::string>& dirs) {
    std::vector<std::string> names, paths;
    for (const std::string& d : dirs) {
        fs::path p = fs::path(d).lexically_normal();
        if (!p.has_filename()) p = p.parent_path();  // "runs/a/" -> "runs/a"
        paths.push_back(p.string());
        names.push_back(p.filename().string());
    }
    for (size_t i = 0; i < names.size(); ++i)
        if (std::count(names.begin(), names.end(), names[i]) > 1) return paths;
    return names;
}

}  // namespace

std::string val_loss_svg(const Comparison& c, const std::vector<Run>& runs) {
    svg::LinePlot plot;
    plot.title = "Validation loss by FFN variant";
    plot.x_label = "step";
    plot.x_min = 0.0;
    plot.y_label = "validation loss (nats/byte)";
    for (const VariantRow& r : c.rows) {
        svg::Series s = mean_val_curve(r.ffn, runs);
        if (!s.x.empty()) plot.series.push_back(std::move(s));
    }
    if (plot.series.empty()) return "";
    plot.subtitle = seeds_subtitle(c, "band: min-max") + "; dashed: no gate";
    const double cut = later_steps_cut(plot.series);
    double top = -INFINITY;
    for (const svg::Series& s : plot.series)
        for (size_t i = 0; i < s.y.size(); ++i) top = std::max(top, s.band_hi.empty() ? s.y[i] : s.band_hi[i]);
    if (finite(cut) && cut < top) {
        plot.y_max = cut;
        plot.subtitle += "; y axis cut";
    }
    return svg::line_plot(plot);
}

std::string final_loss_svg(const Comparison& c) {
    svg::BarChart chart;
    chart.title = "Final validation loss by FFN variant";
    chart.subtitle = seeds_subtitle(c, "error bars: ±1 std");
    chart.y_label = "validation loss (nats/byte)";
    chart.value_decimals = 4;
    for (const VariantRow& r : c.rows) {
        chart.bars.push_back({r.ffn, r.mean, r.sd, variant_colour(r.ffn)});
        if (r.ffn == "relu") {
            chart.reference = r.mean;
            chart.reference_label = "relu " + fixed(r.mean, 4);
        }
    }
    return svg::bar_chart(chart);
}

std::string curves_svg(const std::vector<std::string>& run_dirs, const std::string& metric, const std::string& title) {
    if (metric != "loss" && metric != "val_loss")
        throw std::invalid_argument("metric must be loss or val_loss, got '" + metric + "'");
    svg::LinePlot plot;
    plot.title = title.empty() ? (metric == "loss" ? "Training loss" : "Validation loss") : title;
    plot.subtitle = metric == "loss" ? "solid: training loss of each step's batch; dashed: validation loss" : "";
    plot.x_label = "step";
    plot.x_min = 0.0;
    plot.y_label = "loss (nats/byte)";
    const std::vector<std::string> legend_names = short_names(run_dirs);
    for (size_t i = 0; i < run_dirs.size(); ++i) {
        const std::string path = (fs::path(run_dirs[i]) / "metrics.jsonl").string();
        svg::Series train, val;
        train.name = legend_names[i];
        val.name = train.name + (metric == "loss" ? " (val)" : "");
        train.colour = val.colour = svg::palette()[i % svg::palette().size()];
        val.dashed = metric == "loss";
        for (const MetricPoint& p : read_metrics(path)) {
            if (finite(p.loss)) {
                train.x.push_back(p.step);
                train.y.push_back(p.loss);
            }
            if (finite(p.val_loss)) {
                val.x.push_back(p.step);
                val.y.push_back(p.val_loss);
            }
        }
        if (metric == "val_loss" && val.x.empty()) throw std::runtime_error(path + " has no val_loss points yet");
        if (metric == "loss" && train.x.empty()) throw std::runtime_error(path + " has no loss points yet");
        if (metric == "loss") plot.series.push_back(std::move(train));
        if (!val.x.empty()) plot.series.push_back(std::move(val));
    }
    return svg::line_plot(plot);
}

}  // namespace glulab::report
