// profile.h — where the time of a training step goes: calls, forward and backward time and
// FLOPs per op type, GFLOP/s per matmul shape, and the process's peak resident memory.
//
// Usage (glulab bench and glulab train --profile do exactly this):
//   Profiler profiler;
//   for (each step) {
//       ProfileScope scope(profiler);  // ops on this thread now report to `profiler`
//       Tensor loss = model.loss(...); // each op's forward time is recorded
//       loss.backward();               // each op's backward closure is timed
//       optimizer.step(...);           // in the scope's wall time, but in no op: "other"
//   }
//   print_profile(std::cout, profiler, steps);
//
// Forward time, the trick: every op calls record() (autograd.h) right after its forward kernel,
// so the time since the previous record() call is the forward time of this op; no op needs a
// timer of its own. Limits, which a reader of the table should know:
//  - code between two ops (argument checks, allocating the output, model code such as building
//    position ids) is charged to the next op;
//  - whatever runs before the first op (sampling a batch, zeroing gradients) is charged to the
//    first op, unless the scope starts, or mark() is called, right before the forward pass;
//  - a function that computes without calling record() is invisible (every op in ops.h calls it,
//    also in no-grad mode).
// Backward time is exact per op: the engine times each Node's closure.
//
// FLOPs: matmul exactly, 2 M N K forward and 2 M N K backward for each input that needs a
// gradient (dA and dB are one product each). causal_attention as its products' useful work:
// 2 forward (q k^T, P v) and up to 4 backward (dv, dP, dq, dk), each 2 hd FLOPs per causal
// (query, key <= query) pair of each head (causal_attention_flops in ops.h); the kernels also
// compute the rest of each block past the diagonal, and the exps, which are not counted.
// Every other op is counted approximately, as one
// FLOP per element of its largest tensor in each direction: an order of magnitude that shows
// those ops are memory-bound, not a count of instructions (an exp or a tanh costs more). Ops that
// only move data (reshape, transpose12, embedding) count 0.
//
// Deliberately left out: nesting (ops are charged to the innermost profiler only), other
// threads (each thread has its own active profiler), time inside OpenMP regions per thread.
#pragma once
#include <chrono>
#include <initializer_list>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "glulab/tensor.h"

namespace glulab {

// Totals for one op type over everything a profiler saw.
struct OpProfile {
    long forward_calls = 0, backward_calls = 0;
    double forward_s = 0.0, backward_s = 0.0;
    double forward_flops = 0.0, backward_flops = 0.0;
    bool flops_exact = false;  // true for matmul and causal_attention; an estimate otherwise (see the file header)

    double seconds() const { return forward_s + backward_s; }
    double flops() const { return forward_flops + backward_flops; }
};

// One matmul shape: `count` products of op(a) (M x K) @ op(b) (K x N). As in matmul.cpp, a shared
// b with an untransposed a folds a's leading dims into M (one product). The transpose flags are
// read from the stored shapes: a square operand looks the same either way and is taken as not
// transposed, which is exact for every forward matmul of our model.
struct MatmulShape {
    int count = 1, M = 0, N = 0, K = 0;
    bool trans_a = false, trans_b = false;

    std::string str() const;  // "(2048x192) @ (192x768)", "96 x (128x32) @ (128x32)^T"
    double flops() const { return 2.0 * count * M * N * K; }  // one product's worth, forward
    bool operator<(const MatmulShape& o) const {
        return std::tie(count, M, N, K, trans_a, trans_b) < std::tie(o.count, o.M, o.N, o.K, o.trans_a, o.trans_b);
    }
};

struct MatmulProfile {
    long calls = 0;
    double forward_s = 0.0, backward_s = 0.0;
    double forward_flops = 0.0, backward_flops = 0.0;
};

class Profiler {
public:
    using Clock = std::chrono::steady_clock;

    // Restarts the forward clock: the next op's forward time is measured from here.
    void mark() { last_ = Clock::now(); }
    void reset() { *this = Profiler(); }

    // In order of first appearance; the table sorts them by time.
    const std::vector<std::pair<std::string, OpProfile>>& ops() const { return ops_; }
    const OpProfile* op(const std::string& name) const;  // null if never seen
    const std::map<MatmulShape, MatmulProfile>& matmul_shapes() const { return matmul_shapes_; }
    double wall_seconds() const { return wall_s_; }  // summed over the profiler's scopes

    // ---- the engine's side (autograd.cpp); not for user code ----
    // An op has just computed `out` from `inputs` and is about to record it.
    void op_forward(const char* op, const TensorImpl& out, std::initializer_list<Tensor> inputs);
    // The closure of `node`, started at `start`, has just added the gradients of its inputs.
    void op_backward(const Node& node, const TensorImpl& out, Clock::time_point start);

private:
    friend class ProfileScope;
    OpProfile& entry(const char* op);

    std::vector<std::pair<std::string, OpProfile>> ops_;  // a handful of types: a linear search
    std::map<MatmulShape, MatmulProfile> matmul_shapes_;
    Clock::time_point last_ = Clock::now();  // the previous record() call, or the last mark()
    double wall_s_ = 0.0;
};

// The profiler that ops on this thread report to, or null (the usual case: no cost but a load
// and a branch per op).
Profiler* active_profiler();

// Makes `profiler` the active one on this thread for the scope's lifetime (restoring the previous
// one after), marks its forward clock and adds the scope's duration to its wall time.
class ProfileScope {
public:
    explicit ProfileScope(Profiler& profiler) : ProfileScope(&profiler) {}
    explicit ProfileScope(Profiler* profiler);  // null: a scope that does nothing (an off switch)
    ~ProfileScope() { stop(); }
    void stop();  // ends the scope early (e.g. before evaluation inside the same loop body)
    ProfileScope(const ProfileScope&) = delete;
    ProfileScope& operator=(const ProfileScope&) = delete;

private:
    Profiler* profiler_;
    Profiler* previous_ = nullptr;
    Profiler::Clock::time_point start_;
};

// The op table and the matmul-shape table, per step over `steps` profiled steps, and the peak
// resident memory.
void print_profile(std::ostream& os, const Profiler& profiler, long steps);

// The process's peak resident set size in MiB (getrusage's ru_maxrss): the high-water mark since
// the process started, not the current use.
double peak_rss_mb();

// ---- stolen time: was a run slowed by the machine rather than the code? ----
// On a virtual machine the hypervisor may give a CPU's turn to another guest while our thread is
// ready to run. Linux counts those clock ticks as "steal", the eighth number of the "cpu" line of
// /proc/stat (after user, nice, system, idle, iowait, irq, softirq). glulab bench reports the
// share of all CPU time that was stolen during its timed steps: a slow run with a high share was
// disturbed. A low share does not prove the opposite: a neighbour on the same physical core
// (hyper-threading) or memory bus slows a run without taking its turns.
struct CpuTimes {
    long long steal = 0;  // clock ticks, summed over the CPUs
    long long total = 0;  // the eight counts above, summed (guest time is already in user and nice)
};
// Parses the first line of /proc/stat ("cpu  user nice system idle iowait irq softirq steal ...").
std::optional<CpuTimes> parse_cpu_times(const std::string& line);
std::optional<CpuTimes> read_cpu_times();  // nullopt where /proc/stat is missing or unreadable
// steal / total between two readings; 0 when no tick passed.
double steal_fraction(const CpuTimes& before, const CpuTimes& after);

}  // namespace glulab
