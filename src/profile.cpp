// profile.cpp — the op profiler of profile.h: the active-profiler pointer, FLOP counting, the
// engine's two hooks, and the printed tables.
#include "glulab/profile.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <ostream>
#include <sstream>

#include "glulab/autograd.h"
#include "glulab/ops.h"

namespace glulab {

// ---- the active profiler ----
// The only global state: which profiler the ops of this thread report to. thread_local, like
// grad mode (autograd.cpp), because a Profiler is not thread-safe: a thread that runs a model
// while another profiles (a test runner, a future data loader) must not write into it. Ops are
// called from one thread; the OpenMP workers inside a kernel never call record().
namespace {
thread_local Profiler* t_active = nullptr;
}  // namespace

Profiler* active_profiler() { return t_active; }

ProfileScope::ProfileScope(Profiler* profiler) : profiler_(profiler), start_(Profiler::Clock::now()) {
    if (!profiler_) return;
    previous_ = t_active;
    t_active = profiler_;
    profiler_->last_ = start_;  // the first op's forward time starts here
}

void ProfileScope::stop() {
    if (!profiler_) return;
    profiler_->wall_s_ += std::chrono::duration<double>(Profiler::Clock::now() - start_).count();
    t_active = previous_;
    profiler_ = nullptr;
}

// ---- FLOPs of one call (see the header for what is exact and what is an estimate) ----
namespace {

bool is_matmul(const char* op) { return std::strcmp(op, "matmul") == 0; }
bool is_attention(const char* op) { return std::strcmp(op, "causal_attention") == 0; }

bool moves_data_only(const char* op) {
    return std::strcmp(op, "reshape") == 0 || std::strcmp(op, "transpose12") == 0 || std::strcmp(op, "embedding") == 0;
}

// y (..., M, N) = op(a) @ op(b): K = numel(a) * N / numel(y) holds with or without a transpose.
// The flags follow from the stored shapes: untransposed, a's rows are M and b's columns are N.
MatmulShape matmul_shape(const TensorImpl& a, const TensorImpl& b, const TensorImpl& y) {
    MatmulShape s;
    s.M = y.shape[y.shape.size() - 2];
    s.N = y.shape.back();
    s.count = static_cast<int>(y.numel() / (static_cast<size_t>(s.M) * s.N));
    s.K = static_cast<int>(a.numel() * s.N / y.numel());
    s.trans_a = a.shape[a.shape.size() - 2] != s.M;
    s.trans_b = b.shape.back() != s.N;
    if (b.shape.size() == 2 && !s.trans_a) {  // a shared b: matmul.cpp runs one (count*M x K) product
        s.M *= s.count;
        s.count = 1;
    }
    return s;
}

const TensorImpl& impl_of(const Tensor& t) { return *t.impl(); }
const TensorImpl& impl_of(const std::shared_ptr<TensorImpl>& t) { return *t; }

struct OpCost {
    bool matmul = false;
    bool exact = false;  // matmul and causal_attention: counted, not estimated
    MatmulShape shape;   // when matmul
    double flops = 0.0;  // forward; the estimate for other ops is the same backward
};

// Works on record()'s inputs (Tensors) and on a Node's (shared_ptr<TensorImpl>).
template <class Inputs>
OpCost cost_of(const char* op, const TensorImpl& out, const Inputs& inputs) {
    OpCost c;
    if (is_matmul(op)) {
        auto it = inputs.begin();
        const TensorImpl& a = impl_of(*it++);
        c.matmul = c.exact = true;
        c.shape = matmul_shape(a, impl_of(*it), out);
        c.flops = c.shape.flops();
    } else if (is_attention(op)) {  // its two products, q k^T and P v, over the causal pairs
        c.exact = true;
        c.flops = causal_attention_flops(out.shape[0], out.shape[1], out.shape[2]);  // out (B, T, d)
    } else if (!moves_data_only(op)) {
        size_t largest = out.numel();
        for (const auto& in : inputs) largest = std::max(largest, impl_of(in).numel());
        c.flops = static_cast<double>(largest);
    }
    return c;
}

double seconds_between(Profiler::Clock::time_point a, Profiler::Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

}  // namespace

std::string MatmulShape::str() const {
    char buf[96];
    const std::string a = trans_a ? "(" + std::to_string(K) + "x" + std::to_string(M) + ")^T"
                                  : "(" + std::to_string(M) + "x" + std::to_string(K) + ")";
    const std::string b = trans_b ? "(" + std::to_string(N) + "x" + std::to_string(K) + ")^T"
                                  : "(" + std::to_string(K) + "x" + std::to_string(N) + ")";
    if (count > 1) std::snprintf(buf, sizeof buf, "%d x %s @ %s", count, a.c_str(), b.c_str());
    else std::snprintf(buf, sizeof buf, "%s @ %s", a.c_str(), b.c_str());
    return buf;
}

// ---- the engine's hooks ----

OpProfile& Profiler::entry(const char* op) {
    for (auto& [name, profile] : ops_)
        if (name == op) return profile;
    ops_.emplace_back(op, OpProfile{});
    return ops_.back().second;
}

const OpProfile* Profiler::op(const std::string& name) const {
    for (const auto& [n, profile] : ops_)
        if (n == name) return &profile;
    return nullptr;
}

void Profiler::op_forward(const char* op, const TensorImpl& out, std::initializer_list<Tensor> inputs) {
    const Clock::time_point now = Clock::now();
    const double seconds = seconds_between(last_, now);  // since the previous op (the trick)
    last_ = now;
    const OpCost c = cost_of(op, out, inputs);
    OpProfile& e = entry(op);
    ++e.forward_calls;
    e.forward_s += seconds;
    e.forward_flops += c.flops;
    e.flops_exact = c.exact;
    if (c.matmul) {
        MatmulProfile& m = matmul_shapes_[c.shape];
        ++m.calls;
        m.forward_s += seconds;
        m.forward_flops += c.flops;
    }
}

void Profiler::op_backward(const Node& node, const TensorImpl& out, Clock::time_point start) {
    const double seconds = seconds_between(start, Clock::now());
    const OpCost c = cost_of(node.op, out, node.inputs);
    double flops = c.flops;
    if (c.matmul) {  // one product per input that needs a gradient: dA = dY op(B)^T, dB = op(A)^T dY
        int products = 0;
        for (const auto& in : node.inputs) products += in->requires_grad ? 1 : 0;
        flops *= products;
        MatmulProfile& m = matmul_shapes_[c.shape];
        m.backward_s += seconds;
        m.backward_flops += flops;
    }
    if (is_attention(node.op)) {  // one product (half the forward's two) for each of dv = P^T dO,
        // dP = dO v^T (if dq or dk), dq = dS k, dk = dS^T q; the inputs are q, k, v in this order
        const bool dq = node.inputs[0]->requires_grad, dk = node.inputs[1]->requires_grad;
        const int products = (node.inputs[2]->requires_grad ? 1 : 0) + (dq || dk ? 1 : 0) + (dq ? 1 : 0) + (dk ? 1 : 0);
        flops = c.flops / 2 * products;
    }
    OpProfile& e = entry(node.op);
    ++e.backward_calls;
    e.backward_s += seconds;
    e.backward_flops += flops;
}

// ---- the tables ----
namespace {

double gflops_per_s(double flops, double seconds) { return seconds > 0.0 ? flops / seconds * 1e-9 : 0.0; }

void print_op_table(std::ostream& os, const Profiler& p, long steps) {
    auto ops = p.ops();
    std::sort(ops.begin(), ops.end(),
              [](const auto& x, const auto& y) { return x.second.seconds() > y.second.seconds(); });
    double in_ops = 0.0;
    for (const auto& entry : ops) in_ops += entry.second.seconds();
    const double per = 1e3 / static_cast<double>(steps);  // seconds in total -> ms per step
    const double wall = std::max(p.wall_seconds(), in_ops);
    char line[160];
    std::snprintf(line, sizeof line, "%-16s %6s %9s %9s %9s %9s %9s %6s\n", "op", "calls", "fwd ms", "bwd ms", "ms",
                  "GFLOP", "GFLOP/s", "share");
    os << line;
    for (const auto& [name, o] : ops) {
        // An estimated count is marked with ~ (see profile.h); data movement has none.
        char gflop[32] = "-", rate[32] = "-";
        if (o.flops() > 0.0) {
            std::snprintf(gflop, sizeof gflop, "%s%.4f", o.flops_exact ? "" : "~", o.flops() * 1e-9 / steps);
            std::snprintf(rate, sizeof rate, "%s%.1f", o.flops_exact ? "" : "~", gflops_per_s(o.flops(), o.seconds()));
        }
        std::snprintf(line, sizeof line, "%-16s %6.0f %9.3f %9.3f %9.3f %9s %9s %5.1f%%\n", name.c_str(),
                      static_cast<double>(o.forward_calls) / steps, o.forward_s * per, o.backward_s * per,
                      o.seconds() * per, gflop, rate, 100.0 * o.seconds() / wall);
        os << line;
    }
    std::snprintf(line, sizeof line, "%-16s %6s %9s %9s %9.3f %9s %9s %5.1f%%\n", "(outside ops)", "", "", "",
                  (wall - in_ops) * per, "", "", 100.0 * (wall - in_ops) / wall);
    os << line;
    std::snprintf(line, sizeof line, "%-16s %6s %9s %9s %9.3f\n", "total", "", "", "", wall * per);
    os << line;
}

void print_matmul_table(std::ostream& os, const Profiler& p, long steps) {
    std::vector<std::pair<MatmulShape, MatmulProfile>> shapes(p.matmul_shapes().begin(), p.matmul_shapes().end());
    std::sort(shapes.begin(), shapes.end(), [](const auto& x, const auto& y) {
        return x.second.forward_s + x.second.backward_s > y.second.forward_s + y.second.backward_s;
    });
    const double per = 1e3 / static_cast<double>(steps);
    char line[200];
    std::snprintf(line, sizeof line, "%-34s %6s %9s %11s %9s %11s\n", "matmul op(a) @ op(b)", "calls", "fwd ms",
                  "fwd GFLOP/s", "bwd ms", "bwd GFLOP/s");
    os << line;
    for (const auto& [shape, m] : shapes) {
        std::snprintf(line, sizeof line, "%-34s %6.0f %9.3f %11.1f %9.3f %11.1f\n", shape.str().c_str(),
                      static_cast<double>(m.calls) / steps, m.forward_s * per,
                      gflops_per_s(m.forward_flops, m.forward_s),
                      m.backward_s * per, gflops_per_s(m.backward_flops, m.backward_s));
        os << line;
    }
}

}  // namespace

void print_profile(std::ostream& os, const Profiler& profiler, long steps) {
    steps = std::max(1L, steps);
    os << "profile: per step, mean over " << steps << " profiled step" << (steps == 1 ? "" : "s")
       << " (forward time is the time since the previous op: see include/glulab/profile.h)\n";
    print_op_table(os, profiler, steps);
    os << "  ~ estimated FLOPs (one per element); (outside ops): time in the profiled scope spent in no op,\n"
          "  e.g. gradient clipping and AdamW in a training step\n\n";
    print_matmul_table(os, profiler, steps);
    char line[80];
    std::snprintf(line, sizeof line, "\npeak resident memory: %.1f MiB\n", peak_rss_mb());
    os << line;
}

double peak_rss_mb() {
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) != 0) return 0.0;
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

std::optional<CpuTimes> parse_cpu_times(const std::string& line) {
    std::istringstream in(line);
    std::string label;
    if (!(in >> label) || label != "cpu") return std::nullopt;
    CpuTimes t;
    for (int field = 0; field < 8; ++field) {  // user nice system idle iowait irq softirq steal
        long long ticks = 0;
        if (!(in >> ticks) || ticks < 0) return std::nullopt;
        t.total += ticks;
        if (field == 7) t.steal = ticks;
    }
    return t;
}

std::optional<CpuTimes> read_cpu_times() {
    std::ifstream in("/proc/stat");
    std::string line;
    if (!std::getline(in, line)) return std::nullopt;
    return parse_cpu_times(line);
}

double steal_fraction(const CpuTimes& before, const CpuTimes& after) {
    const long long total = after.total - before.total;
    return total > 0 ? static_cast<double>(after.steal - before.steal) / static_cast<double>(total) : 0.0;
}

}  // namespace glulab
