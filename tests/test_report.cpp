// test_report.cpp — `glulab report` and `glulab plot` on fixture run folders made here (the
// keys that `glulab train` writes), checking the files they write and their error messages.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "glulab/fileio.h"
#include "glulab/json.h"
#include "glulab/report.h"
#include "svg_check.h"

using namespace glulab;
namespace fs = std::filesystem;
using glulab::testing::check_svg;

namespace {

// A fresh folder under the system temp folder, removed when the test ends.
struct TempDir {
    fs::path path;
    TempDir() {
        static int counter = 0;
        path = fs::temp_directory_path() /
               ("glulab_test_report_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

const char* const kVariants[] = {"relu", "gelu", "swish", "glu", "bilinear", "reglu", "geglu", "swiglu"};
const double kPaper[] = {1.997, 1.983, 1.994, 1.982, 1.960, 1.953, 1.942, 1.944};

// A run folder as `glulab train` leaves it: summary.json (with a key the report ignores) and
// metrics.jsonl with a loss every 10 steps and a val_loss every 50.
void make_run(const std::string& dir, const std::string& ffn, int seed, double val_loss,
              const std::string& preset = "tiny", int steps = 200) {
    make_directories(dir);
    const bool gated = ffn != "relu" && ffn != "gelu" && ffn != "swish";
    json::Writer w;
    w.add("ffn", ffn).add("preset", preset).add("steps", steps).add("seed", seed);
    w.add("params", gated ? 71040LL : 71000LL).add("d_ff", gated ? 128 : 192).add("matrices", gated ? 3 : 2);
    w.add("val_loss", val_loss).add("bits_per_byte", val_loss / std::log(2.0)).add("perplexity", std::exp(val_loss));
    w.add("tokens_per_sec", 50000.0).add("wall_s", 12.5).add("unknown_future_key", "ignored");
    write_file_atomic(dir + "/summary.json", w.str() + "\n");
    std::string metrics;
    for (int step = 10; step <= steps; step += 10) {
        const double decay = std::exp(-step / 40.0);
        json::Writer line;
        line.add("step", step).add("loss", val_loss + 3.5 * decay + 0.02).add("lr", 1e-3).add("tokens_per_sec", 5e4);
        if (step % 50 == 0) line.add("val_loss", val_loss + 3.5 * decay);
        metrics += line.str() + "\n";
    }
    write_file_atomic(dir + "/metrics.jsonl", metrics);
}

// All eight variants, `seeds` seeds each, at loss = paper - 0.45 + offset + noise(seed).
void make_sweep(const TempDir& tmp, int seeds, double gated_offset = 0.0, double noise = 0.002) {
    for (int v = 0; v < 8; ++v)
        for (int s = 1; s <= seeds; ++s) {
            const double offset = v >= 3 ? gated_offset : 0.0;
            make_run(tmp / ("runs/" + std::string(kVariants[v]) + "-s" + std::to_string(s)), kVariants[v], s,
                     kPaper[v] - 0.45 + offset + noise * (s - 2));
        }
}

// Runs a subcommand with stdout and stderr captured.
struct Result {
    int code;
    std::string out, err;
};
Result run(int (*command)(const cli::Args&), const cli::Args& args) {
    std::fflush(stdout);
    std::fflush(stderr);
    const std::string out_path = fs::temp_directory_path() / ("glulab_test_out_" + std::to_string(::getpid()));
    const std::string err_path = out_path + ".err";
    const int saved_out = ::dup(1), saved_err = ::dup(2);
    const int fo = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int fe = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fo, 1);
    ::dup2(fe, 2);
    const int code = command(args);
    std::fflush(stdout);
    std::fflush(stderr);
    ::dup2(saved_out, 1);
    ::dup2(saved_err, 2);
    for (int fd : {fo, fe, saved_out, saved_err}) ::close(fd);
    Result r{code, read_file(out_path), read_file(err_path)};
    fs::remove(out_path);
    fs::remove(err_path);
    return r;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

size_t lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("report: eight variants x three seeds give the full table, CSV and plots") {
    TempDir tmp;
    make_sweep(tmp, 3);
    const Result r = run(cli::cmd_report, {tmp / "runs", "--out", tmp / "out"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const std::string md = read_file(tmp / "out/table.md");
    CHECK(r.out == md);  // the table is also printed
    CHECK(contains(md, "# GLU variants: tiny preset, 200 steps"));
    CHECK(contains(md, "24 runs: 8 FFN variants, 3 seeds each."));
    // Rows in the paper's order with their columns; noise 0.002 per seed step gives std 0.0020.
    const size_t relu = md.find("| relu |"), gelu = md.find("| gelu |"), swiglu = md.find("| swiglu |");
    CHECK(relu < gelu);
    CHECK(gelu < swiglu);
    CHECK(contains(md, "| relu | 2 | 192 | 71,000 | 3 | 1.5470 ± 0.0020 | 2.2318 | 4.697 | 0 (reference) | "
                       "- | 8 | 1.997 | 8 |"));
    CHECK(contains(md, "| geglu | 3 | 128 | 71,040 | 3 | 1.4920 ± 0.0020 |"));
    CHECK(contains(md, "| -0.0550 | [-0.0595, -0.0505] | 1 | 1.942 | 1 |"));
    // The ranking agrees exactly with the paper's, and the GLU family is clearly better.
    CHECK(contains(md, "(8 variants): Kendall's tau-b = 1.000, Spearman's rho = 1.000"));
    CHECK(contains(md, "in the paper: -0.0351"));
    CHECK(contains(md, "Typical seed std: 0.0020."));
    CHECK(contains(md, "**Verdict**: The GLU family beats the non-gated variants"));

    const std::string csv = read_file(tmp / "out/table.csv");
    CHECK(lines(csv) == 9);
    CHECK(csv.rfind("variant,matrices,d_ff,params,seeds,val_loss_mean,val_loss_std,", 0) == 0);
    CHECK(contains(csv, "\nrelu,2,192,71000,3,1.547,0.002,2.231849,4.697357,0,,,8,1.997,8\n"));
    CHECK(contains(csv, "\ngeglu,3,128,71040,3,1.492,0.002,2.152501,4.445979,-0.055,-0.059534,-0.050466,1,1.942,1\n"));

    for (const char* plot : {"out/val_loss.svg", "out/final_loss.svg"}) {
        const std::string doc = read_file(tmp / plot);
        CHECK_MESSAGE(check_svg(doc) == "", plot);
        for (const char* v : kVariants) CHECK(contains(doc, std::string(">") + v + "<"));
    }
    CHECK(contains(read_file(tmp / "out/final_loss.svg"), ">relu 1.5470<"));  // the reference line
    CHECK(contains(read_file(tmp / "out/val_loss.svg"),
                   "tiny preset, 200 steps, 3 seeds each (band: min-max); dashed: no gate"));
}

TEST_CASE("report: one seed per variant reports n/a for spread, CI and noise") {
    TempDir tmp;
    make_sweep(tmp, 1);
    const Result r = run(cli::cmd_report, {tmp / "runs"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const std::string md = read_file(tmp / "runs/table.md");  // default --out: the parent folder
    CHECK(contains(md, "8 FFN variants, 1 seed each."));
    CHECK(contains(md, "| relu | 2 | 192 | 71,000 | 1 | 1.5450 ± n/a |"));
    CHECK(contains(md, "| -0.0550 | n/a | 1 |"));
    CHECK(contains(md, "95% CI n/a; in the paper"));
    CHECK(contains(md, "Typical seed std: n/a."));
    CHECK(contains(md, "With one seed per variant there is no measure of seed noise"));
    CHECK(contains(read_file(tmp / "runs/table.csv"), "\nrelu,2,192,71000,1,1.545,,"));  // empty std
    const std::string bars = read_file(tmp / "runs/final_loss.svg");
    CHECK(check_svg(bars) == "");
    CHECK(contains(bars, "one seed per variant"));
    CHECK_FALSE(contains(bars, "stroke=\"#222222\""));  // no error bars
}

TEST_CASE("report: a family difference smaller than the seed noise is called so") {
    TempDir tmp;
    make_sweep(tmp, 3, /*gated_offset=*/0.04, /*noise=*/0.03);  // undoes the paper's gap; large noise
    const Result r = run(cli::cmd_report, {tmp / "runs", "--out", tmp / "out", "--title", "Noisy"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const std::string md = read_file(tmp / "out/table.md");
    CHECK(md.rfind("# Noisy\n", 0) == 0);
    CHECK(contains(md, "is within seed noise"));
}

TEST_CASE("report: a subset of variants, and no ReLU to compare with") {
    TempDir tmp;
    for (int s = 1; s <= 2; ++s) {
        make_run(tmp / ("a/swiglu-" + std::to_string(s)), "swiglu", s, 1.50 + 0.01 * s);
        make_run(tmp / ("a/gelu-" + std::to_string(s)), "gelu", s, 1.55 + 0.01 * s);
    }
    const Result r = run(cli::cmd_report, {tmp / "a", "--out", tmp / "out"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const std::string md = read_file(tmp / "out/table.md");
    CHECK_FALSE(contains(md, "| relu |"));
    CHECK(contains(md, "| gelu | 2 | 192 | 71,000 | 2 | 1.5650 ± 0.0071 |"));
    CHECK(contains(md, "| n/a | n/a | 2 | 1.983 | 2 |"));  // no ReLU: no difference; paper rank among the two
    CHECK(contains(md, "(2 variants)"));
}

TEST_CASE("report: compare() computes Welch's interval against ReLU") {
    std::vector<report::Run> runs;
    for (auto [ffn, seed, loss] : std::vector<std::tuple<const char*, int, double>>{
             {"relu", 1, 1.50}, {"relu", 2, 1.52}, {"swiglu", 1, 1.40}, {"swiglu", 2, 1.42}}) {
        report::Run r;
        r.ffn = ffn;
        r.preset = "small";
        r.steps = 1000;
        r.seed = seed;
        r.val_loss = loss;
        runs.push_back(r);
    }
    const report::Comparison c = report::compare(runs);
    REQUIRE(c.rows.size() == 2);
    const report::VariantRow& sw = c.rows[1];
    CHECK(sw.ffn == "swiglu");
    CHECK(sw.vs_relu.estimate == doctest::Approx(-0.1));
    CHECK(sw.vs_relu.df == doctest::Approx(2.0));  // equal variances and sizes: n1 + n2 - 2
    const double half = 4.302652730 * std::sqrt(0.0002 / 2 * 2);
    CHECK(sw.vs_relu.low == doctest::Approx(-0.1 - half));
    CHECK(sw.vs_relu.high == doctest::Approx(-0.1 + half));
    CHECK(sw.rank == 1);
    CHECK(c.rows[0].rank == 2);
    CHECK(c.family.estimate == doctest::Approx(-0.1));
    CHECK(c.paper_family == doctest::Approx(1.944 - 1.997));
}

TEST_CASE("report: errors are one line naming the problem") {
    TempDir tmp;
    SUBCASE("mixed presets") {
        make_run(tmp / "runs/a", "relu", 1, 1.5, "tiny");
        make_run(tmp / "runs/b", "swiglu", 1, 1.4, "small");
        const Result r = run(cli::cmd_report, {tmp / "runs", "--out", tmp / "out"});
        CHECK(r.code == 1);
        CHECK(r.err.rfind("error: runs mix presets: tiny", 0) == 0);
        CHECK(lines(r.err) == 1);
        CHECK_FALSE(fs::exists(tmp / "out/table.md"));
    }
    SUBCASE("mixed step counts") {
        make_run(tmp / "runs/a", "relu", 1, 1.5, "tiny", 200);
        make_run(tmp / "runs/b", "swiglu", 1, 1.4, "tiny", 100);
        CHECK(contains(run(cli::cmd_report, {tmp / "runs"}).err, "error: runs mix step counts"));
    }
    SUBCASE("the same seed twice") {
        make_run(tmp / "runs/a", "relu", 1, 1.5);
        make_run(tmp / "runs/b", "relu", 1, 1.5);
        CHECK(contains(run(cli::cmd_report, {tmp / "runs"}).err, "two runs of relu with seed 1"));
    }
    SUBCASE("malformed summary.json names the file and the byte") {
        make_run(tmp / "runs/a", "relu", 1, 1.5);
        write_file_atomic(tmp / "runs/a/summary.json", "{\"ffn\": \"relu\", x}");
        const Result r = run(cli::cmd_report, {tmp / "runs/a"});
        CHECK(r.code == 1);
        CHECK(r.err == "error: " + (tmp / "runs/a/summary.json") +
                           ": json: unexpected character 'x' (expected a key in quotes) at byte 16\n");
    }
    SUBCASE("a missing key and a null loss name the file") {
        make_run(tmp / "runs/a", "relu", 1, 1.5);
        write_file_atomic(tmp / "runs/a/summary.json", "{\"ffn\": \"relu\", \"preset\": \"tiny\"}");
        CHECK(contains(run(cli::cmd_report, {tmp / "runs/a"}).err, "summary.json: json: missing key 'steps'"));
        make_run(tmp / "runs/b", "relu", 2, NAN);
        CHECK(contains(run(cli::cmd_report, {tmp / "runs/b"}).err, "summary.json: val_loss is null"));
    }
    SUBCASE("no runs, or no such folder") {
        make_directories(tmp / "empty/sub");
        const Result r = run(cli::cmd_report, {tmp / "empty"});
        CHECK(r.code == 1);
        CHECK(r.err.rfind("error: no runs found in " + (tmp / "empty"), 0) == 0);
        CHECK(contains(run(cli::cmd_report, {tmp / "nope"}).err, "error: no such file or folder"));
        CHECK(run(cli::cmd_report, {}).code == 2);
    }
    SUBCASE("unknown flags are rejected, --help shows an example") {
        const Result bad = run(cli::cmd_report, {tmp / "runs", "--bogus"});
        CHECK(bad.code == 2);
        CHECK(bad.err == "error: glulab report: unknown option --bogus (see glulab report --help)\n");
        const Result help = run(cli::cmd_report, {"--help"});
        CHECK(help.code == 0);
        CHECK(contains(help.out, "usage: glulab report"));
        CHECK(contains(help.out, "example:\n  glulab report "));
    }
}

TEST_CASE("report: run folders may be named directly, by their summary.json, or through a parent") {
    TempDir tmp;
    make_run(tmp / "p/x/relu", "relu", 1, 1.5);
    make_run(tmp / "p/y/swiglu", "swiglu", 1, 1.4);
    CHECK(report::find_run_dirs({tmp / "p"}, "summary.json").size() == 2);  // searched recursively
    CHECK(report::find_run_dirs({tmp / "p/x/relu", tmp / "p/y/swiglu/summary.json"}, "summary.json").size() == 2);
    CHECK(report::find_run_dirs({tmp / "p", tmp / "p/x/relu"}, "summary.json").size() == 2);  // counted once
}

TEST_CASE("report: metrics.jsonl tolerates a half-written last line but not a broken one inside") {
    TempDir tmp;
    write_file_atomic(tmp / "m.jsonl",
                      "{\"step\": 1, \"loss\": 5.5}\n\n{\"step\": 2, \"loss\": 5.0, \"val_loss\": 4.9}\n"
                      "{\"step\": 3, \"lo");
    const auto points = report::read_metrics(tmp / "m.jsonl");
    REQUIRE(points.size() == 2);
    CHECK(std::isnan(points[0].val_loss));
    CHECK(points[1].val_loss == 4.9);
    write_file_atomic(tmp / "bad.jsonl", "{\"step\": 1, \"loss\": 5.5}\n{\"step\": oops}\n{\"step\": 3}\n");
    CHECK_THROWS_WITH(report::read_metrics(tmp / "bad.jsonl"),
                      doctest::Contains("bad.jsonl:2: json: unexpected character 'o' at byte 9"));
}

TEST_CASE("plot: loss curves of runs as one valid SVG") {
    TempDir tmp;
    make_run(tmp / "runs/relu-s1", "relu", 1, 1.55);
    make_run(tmp / "runs/swiglu-s1", "swiglu", 1, 1.50);
    fs::remove(tmp / "runs/swiglu-s1/summary.json");  // still training: plot needs only metrics.jsonl

    const Result r = run(cli::cmd_plot, {tmp / "runs", "--out", tmp / "loss.svg"});
    REQUIRE_MESSAGE(r.code == 0, r.err);
    std::string doc = read_file(tmp / "loss.svg");
    CHECK(check_svg(doc) == "");
    CHECK(contains(doc, ">Training loss<"));
    CHECK(contains(doc, "relu-s1 (val)<"));
    CHECK(contains(doc, "swiglu-s1<"));

    REQUIRE(run(cli::cmd_plot, {tmp / "runs/relu-s1", "--out", tmp / "val.svg", "--metric", "val_loss",
                                "--title", "A & B"}).code == 0);
    doc = read_file(tmp / "val.svg");
    CHECK(check_svg(doc) == "");
    CHECK(contains(doc, ">A &amp; B<"));
    CHECK_FALSE(contains(doc, "(val)"));
}

TEST_CASE("plot: usage errors") {
    TempDir tmp;
    make_run(tmp / "r", "relu", 1, 1.5);
    const Result no_out = run(cli::cmd_plot, {tmp / "r"});
    CHECK(no_out.code == 2);
    CHECK(no_out.err == "error: --out is required\n");
    const Result metric = run(cli::cmd_plot, {tmp / "r", "--out", tmp / "x.svg", "--metric", "lr"});
    CHECK(metric.code == 2);
    CHECK(metric.err == "error: --metric must be loss or val_loss, got 'lr'\n");
    CHECK(run(cli::cmd_plot, {tmp / "r", "--out", tmp / "x.svg", "--smooth"}).code == 2);
    CHECK(run(cli::cmd_plot, {"--help"}).code == 0);
    write_file_atomic(tmp / "r/metrics.jsonl", "{\"step\": 1, \"loss\": 5.5}\n");
    CHECK(contains(run(cli::cmd_plot, {tmp / "r", "--out", tmp / "x.svg", "--metric", "val_loss"}).err,
                   "has no val_loss points yet"));
}
