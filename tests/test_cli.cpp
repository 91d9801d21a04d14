// test_cli.cpp — the `glulab` command end to end: help, a real tiny run, and bad input.
// Every bad input must end with exactly one line "error: ..." on stderr naming the problem,
// a non-zero exit code, and no crash (a signal) or hang.
#include <doctest/doctest.h>

#include <algorithm>

#include "cli_runner.h"
#include "glulab/fileio.h"

using namespace glulab::testing;

namespace {
void expect_clean_error(const RunResult& r, const std::string& mentions) {
    INFO("stderr: " << r.err);
    CHECK(r.exit_code > 0);
    CHECK(r.exit_code < 128);  // not killed by a signal
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find(mentions) != std::string::npos);
}
}  // namespace

TEST_CASE("cli: help lists every subcommand, and each subcommand has --help") {
    TempDir dir("help");
    const RunResult top = run_glulab("", dir);
    CHECK(top.exit_code == 0);
    for (const char* cmd : {"train", "eval", "sample", "export", "inspect"}) {
        CHECK(top.out.find(std::string("  ") + cmd) != std::string::npos);
        const RunResult sub = run_glulab(std::string(cmd) + " --help", dir);
        CHECK(sub.exit_code == 0);
        CHECK(sub.out.find("example:") != std::string::npos);
    }
}

TEST_CASE("cli: train, eval, sample, export and inspect work together on a tiny run") {
    TempDir dir("flow");
    write_corpus(dir.file("c.txt"), 20000);
    const std::string run = dir.file("run");
    const RunResult t = run_glulab("train --data " + dir.file("c.txt") +
                                       " --preset tiny --ffn geglu --steps 12 --batch 4 --eval-every 6 --out " + run,
                                   dir);
    REQUIRE(t.exit_code == 0);
    CHECK(t.out.find("val loss") != std::string::npos);
    const std::string summary = slurp(run + "/summary.json");
    for (const char* key : {"\"ffn\"", "\"preset\"", "\"steps\"", "\"seed\"", "\"params\"", "\"val_loss\"",
                            "\"bits_per_byte\"",
                            "\"perplexity\"", "\"tokens_per_sec\"", "\"wall_s\""})
        CHECK(summary.find(key) != std::string::npos);
    const std::string metrics = slurp(run + "/metrics.jsonl");
    CHECK(std::count(metrics.begin(), metrics.end(), '\n') == 12);  // one line per step

    const RunResult e = run_glulab("eval --json --ckpt " + run + "/checkpoint.bin --data " + dir.file("c.txt"), dir);
    REQUIRE(e.exit_code == 0);
    CHECK(e.out.find("\"val_loss\"") != std::string::npos);
    const RunResult s = run_glulab("sample --ckpt " + run + "/checkpoint.bin --prompt hello --tokens 20 --seed 3", dir);
    REQUIRE(s.exit_code == 0);
    CHECK(s.out.size() == 5 + 20 + 1);
    CHECK(run_glulab("sample --ckpt " + run + "/checkpoint.bin --prompt hello --tokens 20 --seed 3", dir).out == s.out);
    CHECK(run_glulab("export --ckpt " + run + "/checkpoint.bin --out " + dir.file("w.safetensors"),
                     dir).exit_code == 0);
    const RunResult i = run_glulab("inspect --preset tiny --ffn relu", dir);
    CHECK(i.out.find("total           70896") != std::string::npos);
}

TEST_CASE("cli: bad input ends with one clear error line and a non-zero exit") {
    TempDir dir("bad");
    const std::string corpus = dir.file("c.txt");
    write_corpus(corpus, 20000);
    write_corpus(dir.file("short.txt"), 300);
    std::ofstream(dir.file("empty.txt")).close();
    std::ofstream(dir.file("text.bin")) << "this is not a checkpoint, just some text that is long enough\n";
    const std::string quick = "train --steps 4 --batch 2 ";  // + --data and --preset
    const std::string tiny = quick + "--data " + corpus + " --preset tiny ";
    // A good checkpoint to damage.
    REQUIRE(run_glulab(tiny + "--ffn relu --out " + dir.file("good"), dir).exit_code == 0);
    const std::string good = dir.file("good") + "/checkpoint.bin";
    std::string bytes = slurp(good);
    glulab::write_file_atomic(dir.file("truncated.bin"), bytes.substr(0, bytes.size() / 2));
    bytes[bytes.size() / 3] ^= 0x10;
    glulab::write_file_atomic(dir.file("flipped.bin"), bytes);

    const std::pair<std::string, std::string> cases[] = {
        {"frobnicate", "unknown command"},
        {tiny + "--ffn swishglu", "unknown FFN 'swishglu'"},
        {quick + "--data " + corpus + " --preset huge", "unknown preset 'huge'"},
        {"train --steps -5", "--steps must be between"},
        {"train --steps abc", "--steps expects a whole number"},
        {"train --steps 1e3", "--steps expects a whole number"},
        {"train --batch 0", "--batch must be between"},
        {"train --lr nan", "--lr expects a finite number"},
        {"train --lr -1", "--lr must be between"},
        {"train --threads 0", "--threads must be between"},
        {"train --bogus 3", "unknown option --bogus"},
        {"train --steps", "--steps needs a value"},
        {"train --steps 3 --steps 4", "--steps is given twice"},
        {"train stray-word", "unexpected argument 'stray-word'"},
        {quick + "--preset tiny --data " + dir.file("missing.txt"), "cannot read"},
        {quick + "--preset tiny --data " + dir.file("empty.txt"), "is empty"},
        {quick + "--preset tiny --data " + dir.file("short.txt"), "too short"},
        {tiny + "--out /proc/glulab-cannot-write-here", "cannot create folder"},
        {tiny + "--resume " + dir.file("nowhere"), "checkpoint"},
        {tiny + "--ffn swiglu --resume " + dir.file("good"), "trained with ffn relu"},
        {"eval --data " + corpus, "--ckpt is required"},
        {"eval --ckpt " + dir.file("missing.bin") + " --data " + corpus, "missing.bin"},
        {"eval --ckpt " + dir.file("text.bin") + " --data " + corpus, "text.bin"},
        {"eval --ckpt " + dir.file("truncated.bin") + " --data " + corpus, "truncated.bin"},
        {"eval --ckpt " + dir.file("flipped.bin") + " --data " + corpus, "flipped.bin"},
        {"eval --ckpt " + good + " --data " + dir.file("short.txt"), "too short"},
        {"sample --ckpt " + good + " --temperature -1", "--temperature must be between"},
        {"sample --ckpt " + good + " --top-k 300", "--top-k must be between"},
        {"sample --ckpt " + good + " --tokens many", "--tokens expects a whole number"},
        {"export --ckpt " + good, "--out is required"},
        {"export --ckpt " + good + " --out " + dir.file("no/such/folder/w.safetensors"), "cannot write"},
        {"inspect --ffn relu6", "unknown FFN 'relu6'"},
    };
    for (const auto& [args, mentions] : cases) {
        INFO("glulab " << args);
        expect_clean_error(run_glulab(args, dir), mentions);
    }
    // The damaged files never replaced the good checkpoint.
    CHECK(run_glulab("eval --ckpt " + good + " --data " + corpus, dir).exit_code == 0);
}

// shell_word (cli_runner.h) hands any text to the command as one argument, quotes and all: the
// error names the value exactly as given.
TEST_CASE("cli: a value quoted with shell_word reaches the command whole") {
    TempDir dir("shell-word");
    const std::string value = "it's \"x\" $HOME `pwd` a\\b";
    const RunResult r = run_glulab("train --preset " + shell_word(value), dir);
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("unknown preset '" + value + "'") != std::string::npos);
}
