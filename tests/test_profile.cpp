// test_profile.cpp — the op profiler (profile.h): exact matmul FLOPs for known graphs, forward
// and backward calls, ops seen in no-grad mode, no effect outside a scope, consistent times, and
// `glulab train --profile` and `glulab bench` end to end.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cli_runner.h"
#include "glulab/autograd.h"
#include "glulab/bench.h"
#include "glulab/json.h"
#include "glulab/ops.h"
#include "glulab/profile.h"

using namespace glulab;
using namespace glulab::testing;

TEST_CASE("profile: matmul FLOPs are exact, forward and backward calls are counted") {
    Tensor a = Tensor::zeros({2, 3, 4}, true);  // (B 2, M 3, K 4)
    Tensor W = Tensor::zeros({4, 5}, true);     // (K 4, N 5): y = a W, one (6x4) @ (4x5) product
    Tensor E = Tensor::zeros({6, 4}, true);     // (N 6, K 4): z = a E^T, one (6x4) @ (6x4)^T product
    Profiler p;
    {
        ProfileScope scope(p);
        Tensor y = matmul(a, W);               // (2, 3, 5): 2 * 6 * 5 * 4 = 240 FLOPs
        Tensor z = matmul(a, E, false, true);  // (2, 3, 6): 2 * 6 * 6 * 4 = 288 FLOPs
        add(sum(y), sum(z)).backward();
    }
    const OpProfile* mm = p.op("matmul");
    REQUIRE(mm != nullptr);
    CHECK(mm->forward_calls == 2);
    CHECK(mm->backward_calls == 2);
    CHECK(mm->forward_flops == 240 + 288);
    CHECK(mm->backward_flops == 2 * (240 + 288));  // dA and dB: one product each
    CHECK(mm->flops_exact);
    REQUIRE(p.op("sum") != nullptr);
    CHECK(p.op("sum")->forward_calls == 2);
    CHECK(p.op("add")->backward_calls == 1);

    REQUIRE(p.matmul_shapes().size() == 2);
    std::vector<std::string> shapes;
    for (const auto& [shape, m] : p.matmul_shapes()) {
        shapes.push_back(shape.str());
        CHECK(m.calls == 1);
        CHECK(m.backward_flops == 2 * m.forward_flops);
    }
    CHECK(std::count(shapes.begin(), shapes.end(), "(6x4) @ (4x5)") == 1);
    CHECK(std::count(shapes.begin(), shapes.end(), "(6x4) @ (6x4)^T") == 1);
}

TEST_CASE("profile: batched and transposed shapes; backward counts only the gradients needed") {
    Tensor q = Tensor::zeros({2, 3, 4}, true);   // (B, T 3, hd 4)
    Tensor k = Tensor::zeros({2, 5, 4});         // data: no gradient
    Tensor at = Tensor::zeros({2, 4, 3}, true);  // a stored transposed: op(a) is (3 x 4)
    Tensor b = Tensor::zeros({2, 4, 5});
    Profiler p;
    {
        ProfileScope scope(p);
        Tensor s = matmul(q, k, false, true);  // 2 x (3x4) @ (5x4)^T: 2 * 2 * 3 * 5 * 4 = 240
        Tensor t = matmul(at, b, true, false); // 2 x (4x3)^T @ (4x5):  240 as well
        add(sum(s), sum(t)).backward();
    }
    const OpProfile* mm = p.op("matmul");
    REQUIRE(mm != nullptr);
    CHECK(mm->forward_flops == 480);
    CHECK(mm->backward_flops == 480);  // only dq and d(at): k and b need no gradient
    std::vector<std::string> shapes;
    for (const auto& entry : p.matmul_shapes()) shapes.push_back(entry.first.str());
    CHECK(std::count(shapes.begin(), shapes.end(), "2 x (3x4) @ (5x4)^T") == 1);
    CHECK(std::count(shapes.begin(), shapes.end(), "2 x (4x3)^T @ (4x5)") == 1);
}

TEST_CASE("profile: ops are seen in no-grad mode (forward only)") {
    Tensor a = Tensor::zeros({3, 4}, true), W = Tensor::zeros({4, 2}, true);
    Profiler p;
    {
        NoGradGuard no_grad;
        ProfileScope scope(p);
        relu(matmul(a, W));
    }
    REQUIRE(p.op("matmul") != nullptr);
    CHECK(p.op("matmul")->forward_flops == 2 * 3 * 2 * 4);
    CHECK(p.op("matmul")->backward_calls == 0);
    CHECK(p.op("relu")->forward_calls == 1);
}

TEST_CASE("profile: ops on inputs that need no gradient are seen too") {
    Profiler p;
    {
        ProfileScope scope(p);
        matmul(Tensor::zeros({2, 3}), Tensor::zeros({3, 4}));  // record() attaches no Node here
    }
    REQUIRE(p.op("matmul") != nullptr);
    CHECK(p.op("matmul")->forward_flops == 2 * 2 * 4 * 3);
}

TEST_CASE("profile: the time since the previous op is charged to the next one, unless mark() resets it") {
    Tensor a = Tensor::zeros({2, 2});
    Profiler p;
    ProfileScope scope(p);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    relu(a);  // pays for the sleep: the documented limit of the trick
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    p.mark();
    sigmoid(a);  // measured from the mark
    scope.stop();
    CHECK(p.op("relu")->forward_s >= 0.030);
    CHECK(p.op("sigmoid")->forward_s < 0.030);
}

TEST_CASE("profile: no effect without an active scope; scopes nest and restore") {
    Tensor a = Tensor::zeros({3, 4}, true), W = Tensor::zeros({4, 2}, true);
    Profiler p, inner;
    CHECK(active_profiler() == nullptr);
    sum(matmul(a, W)).backward();  // no scope: nobody counts
    {
        ProfileScope scope(p);
        CHECK(active_profiler() == &p);
        {
            ProfileScope nested(inner);
            CHECK(active_profiler() == &inner);
            matmul(a, W);
        }
        CHECK(active_profiler() == &p);
        scope.stop();
        CHECK(active_profiler() == nullptr);
        sum(matmul(a, W)).backward();  // after stop(): not counted either
    }
    CHECK(p.ops().empty());
    CHECK(p.matmul_shapes().empty());
    REQUIRE(inner.op("matmul") != nullptr);
    CHECK(inner.op("matmul")->forward_calls == 1);
    ProfileScope off(nullptr);  // the off switch of --profile
    CHECK(active_profiler() == nullptr);
}

TEST_CASE("profile: op times are disjoint parts of the scope's wall time; the table prints") {
    Tensor x = Tensor::zeros({64, 32}, true), W = Tensor::zeros({32, 64}, true);
    Profiler p;
    for (int step = 0; step < 3; ++step) {
        ProfileScope scope(p);
        sum(silu(matmul(x, W))).backward();
    }
    double in_ops = 0.0;
    for (const auto& entry : p.ops()) {
        CHECK(entry.second.forward_s >= 0.0);
        CHECK(entry.second.backward_s >= 0.0);
        in_ops += entry.second.seconds();
    }
    CHECK(in_ops > 0.0);
    CHECK(in_ops <= p.wall_seconds());
    std::ostringstream table;
    print_profile(table, p, 3);
    CHECK(table.str().find("matmul") != std::string::npos);
    CHECK(table.str().find("(64x32) @ (32x64)") != std::string::npos);
    CHECK(table.str().find("peak resident memory") != std::string::npos);
    CHECK(peak_rss_mb() > 0.0);
}

TEST_CASE("profile: glulab train --profile prints the op table after the run") {
    TempDir dir("train-profile");
    write_corpus(dir.file("c.txt"), 20000);
    const RunResult r = run_glulab("train --data " + dir.file("c.txt") +
                                       " --preset tiny --ffn relu --steps 3 --batch 2 --profile --out " +
                                       dir.file("run"),
                                   dir);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("mean over 3 profiled steps") != std::string::npos);
    CHECK(r.out.find("matmul") != std::string::npos);
    CHECK(r.out.find("peak resident memory") != std::string::npos);
}

TEST_CASE("stolen time: /proc/stat's cpu line is parsed, and the share is taken between two readings") {
    // user nice system idle iowait irq softirq steal guest guest_nice (clock ticks)
    const auto before = parse_cpu_times("cpu  5855282 509774 275738 2291111 11568 0 3517 436627 0 0");
    REQUIRE(before.has_value());
    CHECK(before->steal == 436627);
    CHECK(before->total == 5855282LL + 509774 + 275738 + 2291111 + 11568 + 0 + 3517 + 436627);
    // 100 ticks later, 20 of them stolen. Kernels before 2.6.11 print no steal: not a reading.
    const auto after = parse_cpu_times("cpu  5855352 509774 275738 2291121 11568 0 3517 436647");
    REQUIRE(after.has_value());
    CHECK(steal_fraction(*before, *after) == doctest::Approx(0.2));
    CHECK(steal_fraction(*after, *after) == 0.0);  // no tick passed
    for (const char* bad : {"", "cpu0 1 2 3 4 5 6 7 8", "cpu 1 2 3 4 5 6 7", "cpu 1 2 3 -4 5 6 7 8",
                            "intr 1 2 3 4 5 6 7 8"})
        CHECK_MESSAGE(!parse_cpu_times(bad).has_value(), bad);
#if defined(__linux__)
    const auto now = read_cpu_times();
    REQUIRE(now.has_value());
    CHECK(now->steal <= now->total);
#endif
}

TEST_CASE("bench: model FLOPs per token follow issue 5's formula") {
    const Model tiny(preset_config("tiny", FfnKind::ReLU));
    CHECK(model_flops_per_token(tiny) == 6.0 * 70896 + 12.0 * 2 * 64 * 48);
}

TEST_CASE("bench: a 3-step tiny run gives one JSON object with the keys; --peak and bad input") {
    TempDir dir("bench");
    const RunResult j = run_glulab("bench --preset tiny --ffn swiglu --steps 3 --warmup 1 --threads 1 --json", dir);
    INFO(j.err);
    REQUIRE(j.exit_code == 0);
    CHECK(std::count(j.out.begin(), j.out.end(), '\n') == 1);
    for (const char* key : {"\"tokens_per_sec\"", "\"step_ms\"", "\"gflops\"", "\"mfu\"", "\"peak_gflops\"",
                            "\"peak_rss_mb\"", "\"needed_mb\"", "\"memory_ratio\"", "\"preset\": \"tiny\"",
                            "\"ffn\": \"swiglu\"", "\"threads\": 1"})
        CHECK(j.out.find(key) != std::string::npos);

    const RunResult text = run_glulab("bench --preset tiny --ffn relu --steps 2 --warmup 0 --threads 1", dir);
    REQUIRE(text.exit_code == 0);
    for (const char* part : {"tokens/s", "6 x 70896 params + 12 x N 2 x T 64 x d 48", "matmul", "peak resident memory"})
        CHECK(text.out.find(part) != std::string::npos);

    const RunResult peak = run_glulab("bench --peak --threads 1", dir);
    REQUIRE(peak.exit_code == 0);
    CHECK(peak.out.find("FMA peak, 1 thread: ") != std::string::npos);

    // The peak is probed again after the steps, unless the caller gave it.
    const json::Value measured = json::parse(j.out);
    CHECK(measured["peak_gflops_after"].as_number() > 0.0);
    CHECK(measured["peak_gflops"].as_number() ==
          std::max(measured["peak_gflops_before"].as_number(), measured["peak_gflops_after"].as_number()));
    CHECK(text.out.find("machine check    FMA peak ") != std::string::npos);
#if defined(__linux__)  // /proc/stat: the stolen share is reported where Linux counts it
    CHECK(measured["steal_fraction"].as_number() >= 0.0);
    CHECK(measured["steal_fraction"].as_number() <= 1.0);
    CHECK(text.out.find("stolen by the hypervisor") != std::string::npos);
#endif

    // A peak given by the caller (one measured beforehand) is the one reported and used.
    const RunResult given =
        run_glulab("bench --preset tiny --steps 1 --warmup 0 --threads 1 --peak-gflops 1000 --json", dir);
    REQUIRE(given.exit_code == 0);
    CHECK(given.out.find("\"peak_gflops\": 1000") != std::string::npos);
    CHECK(given.out.find("peak_gflops_after") == std::string::npos);
    CHECK(given.out.find("peak_gflops_before") == std::string::npos);
    const RunResult zero = run_glulab("bench --preset tiny --peak-gflops 0", dir);
    CHECK(zero.exit_code == 2);
    CHECK(zero.err.find("--peak-gflops must be between") != std::string::npos);

    const RunResult bad = run_glulab("bench --preset huge", dir);
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.rfind("error: unknown preset 'huge'", 0) == 0);
}

// Issue 5's memory target, on the real presets: peak resident memory against what training
// needs (bench's memory_ratio). Small must stay within 1.5x; tiny's need is only 13 MiB, so the
// program itself (about 6 MiB) takes it to about 1.5x, and 2x is the bound here. Caught gemm's
// packing scratch sized for 128 slices of the sum instead of the 4 that tiny's K = 1024 has
// (tiny went to 4.1x, small to 1.3x).
TEST_CASE("bench: peak resident memory stays near what training needs, tiny and small") {
#if defined(__SANITIZE_ADDRESS__)  // GCC's mark of -fsanitize=address (make sanitize)
    // AddressSanitizer's shadow memory and quarantine are part of the resident set: not ours.
    MESSAGE("skipped under AddressSanitizer: its shadow memory counts in the resident set");
    return;
#endif
    TempDir dir("bench-memory");
    for (const auto& [preset, bound] : {std::pair<const char*, double>{"tiny", 2.0}, {"small", 1.5}}) {
        const RunResult r =
            run_glulab(std::string("bench --preset ") + preset + " --ffn relu --steps 2 --warmup 1 --threads 2 --json",
                       dir);
        INFO(preset << ": " << r.out << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(json::parse(r.out)["memory_ratio"].as_number() <= bound);
    }
}
