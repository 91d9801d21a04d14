// test_train.cpp — the training loop's promises: exact resumption, determinism across thread
// counts, divergence detection, and a clean stop on SIGINT.
#include <doctest/doctest.h>
#include <omp.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "cli_runner.h"
#include "glulab/autograd.h"
#include "glulab/checkpoint.h"
#include "glulab/safetensors.h"
#include "glulab/train.h"
#include "glulab/train_state.h"
#include "thread_count.h"

using namespace glulab;
using namespace glulab::testing;

namespace {
TrainOptions tiny_options(const TempDir& dir, FfnKind ffn, const std::string& out) {
    TrainOptions o;
    o.data_path = dir.file("corpus.txt");
    o.model = preset_config("tiny", ffn);
    o.steps = 30;
    o.batch = 4;
    o.schedule.warmup = 5;
    o.eval_every = 10;
    o.out_dir = dir.file(out);
    return o;
}

TrainResult quiet_train(const TrainOptions& o) {
    std::ostringstream log;
    return train(o, log);
}

// Every line of metrics.jsonl but the timing fields, which no run can repeat.
std::string metrics_without_timing(const std::string& path) {
    std::istringstream in(slurp(path));
    std::string line, kept;
    while (std::getline(in, line)) kept += line.substr(0, line.find(", \"tokens_per_sec\"")) + "\n";
    return kept;
}

std::vector<NamedArray> parameters_of(const std::string& run) {
    std::vector<NamedArray> params;
    for (const NamedArray& a : load_checkpoint(run + "/checkpoint.bin").arrays)
        if (a.name.rfind("adam.", 0) != 0) params.push_back(a);
    return params;
}

void check_same_parameters(const std::string& a, const std::string& b) {
    const auto pa = parameters_of(a), pb = parameters_of(b);
    REQUIRE(pa.size() == pb.size());
    for (size_t i = 0; i < pa.size(); ++i) {
        INFO(pa[i].name);
        CHECK(pa[i].values == pb[i].values);  // bit for bit
    }
}
}  // namespace

TEST_CASE("train: stop after k steps then resume equals an uninterrupted run, bit for bit") {
    TempDir dir("resume");
    write_corpus(dir.file("corpus.txt"), 30000);
    for (FfnKind ffn : {FfnKind::ReLU, FfnKind::SwiGLU}) {
        INFO(ffn_name(ffn));
        const TrainResult whole = quiet_train(tiny_options(dir, ffn, "whole"));
        REQUIRE(whole.finished);

        TrainOptions first = tiny_options(dir, ffn, "split");
        first.stop_after = 13;  // not on an evaluation step
        const TrainResult part = quiet_train(first);
        CHECK_FALSE(part.finished);
        CHECK(part.steps_done == 13);
        TrainOptions rest = tiny_options(dir, ffn, "split");
        rest.resume_dir = rest.out_dir;
        const TrainResult resumed = quiet_train(rest);
        REQUIRE(resumed.finished);

        CHECK(resumed.val_loss == whole.val_loss);
        CHECK(metrics_without_timing(dir.file("split/metrics.jsonl")) ==
              metrics_without_timing(dir.file("whole/metrics.jsonl")));
        check_same_parameters(dir.file("whole"), dir.file("split"));
        const std::string a = slurp(dir.file("whole/summary.json")), b = slurp(dir.file("split/summary.json"));
        CHECK(a.substr(a.find("\"val_loss\""), 60) == b.substr(b.find("\"val_loss\""), 60));
    }
}

TEST_CASE("train: 1 and 2 threads give bit-identical losses and parameters") {
    TempDir dir("threads");
    write_corpus(dir.file("corpus.txt"), 30000);
    ThreadCountGuard guard;  // train() sets the count it is given
    TrainOptions one = tiny_options(dir, FfnKind::GEGLU, "one");
    one.threads = 1;
    TrainOptions two = tiny_options(dir, FfnKind::GEGLU, "two");
    two.threads = 2;
    const TrainResult r1 = quiet_train(one), r2 = quiet_train(two);
    CHECK(r1.val_loss == r2.val_loss);
    CHECK(metrics_without_timing(dir.file("one/metrics.jsonl")) ==
          metrics_without_timing(dir.file("two/metrics.jsonl")));
    check_same_parameters(dir.file("one"), dir.file("two"));
}

TEST_CASE("train: a diverging run stops with the step, keeps the last good checkpoint, writes no summary") {
    TempDir dir("diverge");
    write_corpus(dir.file("corpus.txt"), 30000);
    TrainOptions o = tiny_options(dir, FfnKind::SwiGLU, "run");
    o.schedule.peak_lr = 1e30f;  // each step moves every weight by ~lr: overflow within a few steps
    o.schedule.min_lr = 1e30f;
    o.schedule.warmup = 0;
    o.eval_every = 1;
    CHECK_THROWS_WITH_AS(quiet_train(o), doctest::Contains("training diverged at step"), std::runtime_error);
    CHECK_FALSE(file_exists(dir.file("run/summary.json")));
    CHECK_NOTHROW(load_checkpoint(dir.file("run/checkpoint.bin")));
}

TEST_CASE("train: SIGINT saves a checkpoint at the next step and says how to resume") {
    TempDir dir("sigint");
    write_corpus(dir.file("corpus.txt"), 30000);
    const std::string run = dir.file("run");
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const std::string out = dir.file("out.txt");
        (void)!freopen(out.c_str(), "w", stdout);
        execl(glulab_binary().c_str(), "glulab", "train", "--data", dir.file("corpus.txt").c_str(), "--preset", "tiny",
              "--steps", "100000", "--threads", "1", "--out", run.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // Wait until training has started (the metrics log has lines), then interrupt it.
    for (int i = 0; i < 200 && slurp(run + "/metrics.jsonl").size() < 200; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 130);
    CHECK(slurp(dir.file("out.txt")).find("Resume with the same command plus --resume") != std::string::npos);
    const CheckpointContents c = load_checkpoint(run + "/checkpoint.bin");
    CHECK(c.counter("step") > 0);
}

TEST_CASE("checkpoint: save then load gives bit-identical logits; export has PyTorch names, shapes and metadata") {
    TempDir dir("saveload");
    write_corpus(dir.file("corpus.txt"), 30000);
    TrainOptions o = tiny_options(dir, FfnKind::SwiGLU, "run");
    o.steps = 5;
    quiet_train(o);
    const std::string ckpt = dir.file("run/checkpoint.bin");
    // Train-then-save on one side, load on the other: the same logits to the bit.
    Model trained(o.model);
    trained.init(init_seed(o.seed));
    const auto loaded = model_from_checkpoint(load_checkpoint(ckpt), ckpt);
    TrainingProgress progress;
    save_checkpoint(dir.file("again.bin"), make_checkpoint(*loaded, progress));
    const auto reloaded = model_from_checkpoint(load_checkpoint(dir.file("again.bin")), dir.file("again.bin"));
    const std::vector<int> tokens = {84, 111, 32, 98, 101, 32, 111, 114};
    NoGradGuard no_grad;
    CHECK(loaded->logits(tokens, 1, 8).to_vector() == reloaded->logits(tokens, 1, 8).to_vector());
    CHECK(loaded->logits(tokens, 1, 8).to_vector() != trained.logits(tokens, 1, 8).to_vector());  // 5 steps moved it

    REQUIRE(run_glulab("export --ckpt " + ckpt + " --out " + dir.file("w.safetensors"), dir).exit_code == 0);
    const SafetensorsFile st = read_safetensors(dir.file("w.safetensors"));
    auto find = [&](const std::string& name) -> const NamedArray& {
        for (const NamedArray& a : st.tensors)
            if (a.name == name) return a;
        FAIL("missing " << name);
        return st.tensors.front();
    };
    CHECK(find("tok_emb.weight").shape == Shape{256, 48});
    CHECK(find("pos_emb.weight").shape == Shape{64, 48});
    CHECK(find("blocks.1.attn.q.weight").shape == Shape{48, 48});
    CHECK(find("blocks.0.ffn.w1.weight").shape == Shape{128, 48});  // [out, in]
    CHECK(find("blocks.0.ffn.v.weight").shape == Shape{128, 48});
    CHECK(find("blocks.0.ffn.w2.weight").shape == Shape{48, 128});
    CHECK(find("norm_f.weight").shape == Shape{48});
    // W is stored (in, out) for x @ W; the export is its transpose.
    const Parameter& w1 = loaded->parameters()[8];
    REQUIRE(w1.name == "blocks.0.ffn.w1.weight");
    CHECK(find("blocks.0.ffn.w1.weight").values[1 * 48 + 2] == w1.value.data()[2 * 128 + 1]);
    std::map<std::string, std::string> meta(st.metadata.begin(), st.metadata.end());
    CHECK(meta["ffn"] == "swiglu");
    CHECK(meta["d_ff"] == "128");
    CHECK(meta["n_layer"] == "2");
}
