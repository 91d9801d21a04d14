// gemm_ab.cpp — a paired comparison of two builds of gemm() on the small preset's matmul shapes.
//
// On a shared machine the same binary can run 1.5x slower from one minute to the next, so two
// programs timed one after the other say little about a 10% change. Here both versions live in
// one program (gemm_ab.sh compiles src/ops/gemm.cpp of two revisions, each in its own namespace),
// and every repetition times one call of each, back to back, in alternating order: a slow spell
// slows both calls of a pair. The figure to read is the median over pairs of the ratio
// t_base / t_new (> 1: the new one is faster), with its quartiles.
//
// Operands are cold, as in training, where each product's inputs were written by other ops
// megabytes earlier: the calls rotate through 8 sets of buffers (48 MB for the largest shape).
// They are tensor storage (storage_floats.h: on huge pages when big, as in training).
//
// Attention's products come last, as causal_attention (src/ops/attention.cpp) issues them: one
// gemm per (batch, head) item and block of 64 queries or keys, the 96 items shared among the
// threads, each product on the thread that runs its item; heads are read in place (leading
// dimension d = 192) and P^T has rows of T = 128 floats. One timed call is a whole batch of them.
//
// usage: gemm_ab THREADS REPS [ONLY]    (see gemm_ab.sh); ONLY: time just the products whose
// name contains it, e.g. "X^T dY"
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "paired.h"
#include "storage_floats.h"

// The two builds of glulab::gemm (gemm.h), renamed by the preprocessor.
namespace gemm_base {
void gemm(bool, bool, int, int, int, const float*, int, const float*, int, float*, int, bool);
void gemm_batched(int, bool, bool, int, int, int, const float*, int, long, const float*, int, long, float*, int, long,
                  bool);
}
namespace gemm_new {
void gemm(bool, bool, int, int, int, const float*, int, const float*, int, float*, int, bool);
void gemm_batched(int, bool, bool, int, int, int, const float*, int, long, const float*, int, long, float*, int, long,
                  bool);
}

namespace {

// One product, or `items` independent ones of the same shape run in parallel (attention's), with
// leading dimensions lda, ldb, ldc (0: the operand's own width, a dense matrix); `batched`: the
// items in one gemm_batched call instead of one gemm call each.
struct Shape {
    const char* what;
    int M, N, K;
    bool trans_a, trans_b;
    int items = 1;
    int lda = 0, ldb = 0, ldc = 0;
    bool batched = false;

    int ld_a() const { return lda ? lda : (trans_a ? M : K); }
    int ld_b() const { return ldb ? ldb : (trans_b ? K : N); }
    int ld_c() const { return ldc ? ldc : N; }
    // Floats of one item's operand: its rows times its leading dimension.
    size_t a_floats() const { return static_cast<size_t>(trans_a ? K : M) * ld_a(); }
    size_t b_floats() const { return static_cast<size_t>(trans_b ? N : K) * ld_b(); }
    size_t c_floats() const { return static_cast<size_t>(M) * ld_c(); }
};

// The small preset (d 192, B T = 2048): each layer's products, forward and backward, with
// d_ff 512 (the gated variants) and d_ff 768 (ReLU, GELU, Swish).
constexpr int kItems = 16 * 6, kD = 192, kT = 128;  // attention: B H items, heads' rows kD apart
const Shape kShapes[] = {
    {"x W (q, k, v, o)", 2048, 192, 192, false, false},
    {"x W (FFN in)", 2048, 512, 192, false, false},
    {"x W (FFN out)", 2048, 192, 512, false, false},
    {"dY W^T (q, k, v, o)", 2048, 192, 192, false, true},
    {"dY W^T (FFN in)", 2048, 192, 512, false, true},
    {"dY W^T (FFN out)", 2048, 512, 192, false, true},
    {"X^T dY (q, k, v, o)", 192, 192, 2048, true, false},
    {"X^T dY (FFN in)", 192, 512, 2048, true, false},
    {"X^T dY (FFN out)", 512, 192, 2048, true, false},
    {"x W (FFN in, 768)", 2048, 768, 192, false, false},
    {"x W (FFN out, 768)", 2048, 192, 768, false, false},
    {"dY W^T (FFN in, 768)", 2048, 192, 768, false, true},
    {"dY W^T (FFN out, 768)", 2048, 768, 192, false, true},
    {"X^T dY (FFN in, 768)", 192, 768, 2048, true, false},
    {"X^T dY (FFN out, 768)", 768, 192, 2048, true, false},
    // The second block of 64 queries, which sees all 128 keys (the first sees 64):
    {"attn S^T = k q^T", kT, 64, 32, false, true, kItems, kD, kD, kT},   // also dP^T = v dO^T
    {"attn O = P v", 64, 32, kT, true, false, kItems, kT, kD, kD},       // also dq = dS k
    {"attn dk = dS^T q", 64, 32, kT, false, false, kItems, kT, kD, kD},  // also dv = P^T dO
    // The benchmark's batched forms (tests/test_matmul.cpp): the 96 dense items of the whole
    // (T x T) products in one gemm_batched call, as the matmul op runs a batched product.
    {"batched q k^T", kT, kT, 32, false, true, kItems, 0, 0, 0, true},
    {"batched P v", kT, 32, kT, false, false, kItems, 0, 0, 0, true},
    {"batched P^T dO", kT, 32, kT, true, false, kItems, 0, 0, 0, true},
};

void compare(const Shape& s, int reps) {
    // Attention's operands were written by the op just before (the projections, the softmax), so
    // only two sets of them rotate (the lines they touch, at most 17 MB), not 8. That is about as
    // much as this Zen 4 VM's cache kept of the benchmark's q k^T, or more (between 4.5 and 18 MB
    // from hour to hour, though lscpu says 32 MB of L3: experiments/results/speed/qk-items-2404d9e.md
    // and bandwidth-9071f87.md): these rows read their operands partly or mostly from memory.
    // The batched rows repeat one set, as the benchmark they mirror does.
    const int sets = s.batched ? 1 : s.items > 1 ? 2 : 8;
    const size_t items = static_cast<size_t>(s.items);
    std::vector<std::unique_ptr<StorageFloats>> A, B, C;
    for (int i = 0; i < sets; ++i) {
        A.push_back(std::make_unique<StorageFloats>(items * s.a_floats(), 0.5f));
        B.push_back(std::make_unique<StorageFloats>(items * s.b_floats(), 0.25f));
        C.push_back(std::make_unique<StorageFloats>(items * s.c_floats(), 0.0f));
    }
    auto run = [&](bool base, int i, int item) {
        const float* a = A[i]->data() + item * s.a_floats();
        const float* b = B[i]->data() + item * s.b_floats();
        float* c = C[i]->data() + item * s.c_floats();
        if (base)
            gemm_base::gemm(s.trans_a, s.trans_b, s.M, s.N, s.K, a, s.ld_a(), b, s.ld_b(), c, s.ld_c(), false);
        else
            gemm_new::gemm(s.trans_a, s.trans_b, s.M, s.N, s.K, a, s.ld_a(), b, s.ld_b(), c, s.ld_c(), false);
    };
    auto run_batched = [&](bool base, int i) {
        auto* product = base ? gemm_base::gemm_batched : gemm_new::gemm_batched;
        product(s.items, s.trans_a, s.trans_b, s.M, s.N, s.K, A[i]->data(), s.ld_a(), s.a_floats(), B[i]->data(),
                s.ld_b(), s.b_floats(), C[i]->data(), s.ld_c(), s.c_floats(), false);
    };
    auto time_call = [&](bool base, int i) {
        const auto start = std::chrono::steady_clock::now();
        if (s.batched) {
            run_batched(base, i);
        } else if (s.items == 1) {
            run(base, i, 0);
        } else {
#pragma omp parallel for schedule(static)
            for (int item = 0; item < s.items; ++item) run(base, i, item);
        }
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    PairedTimes t;
    const int warmup = 2 * sets;
    for (int r = 0; r < warmup + reps; ++r) {
        const int i = r % sets, j = (r + sets / 2) % sets;  // two different sets
        const bool base_first = r % 2 == 0;
        const double first = time_call(base_first, i), second = time_call(!base_first, j);
        if (r < warmup) continue;
        const double tb = base_first ? first : second, tn = base_first ? second : first;
        t.add(tb, tn);
    }
    const double gflop = 2.0 * s.items * s.M * s.N * s.K * 1e-9;
    char size[40];
    if (s.items > 1)
        std::snprintf(size, sizeof size, "%d x %dx%dx%d", s.items, s.M, s.N, s.K);
    else
        std::snprintf(size, sizeof size, "%dx%dx%d", s.M, s.N, s.K);
    std::printf("| %-21s | %-15s | %6.0f | %6.0f | %5.3f | %5.3f-%5.3f |\n", s.what, size,
                gflop / quantile(t.base, 0.5), gflop / quantile(t.fresh, 0.5), quantile(t.ratio, 0.5),
                quantile(t.ratio, 0.25), quantile(t.ratio, 0.75));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4 || std::atoi(argv[1]) < 1 || std::atoi(argv[2]) < 10) {
        std::fprintf(stderr, "usage: gemm_ab THREADS REPS [ONLY] (REPS >= 10)\n");
        return 2;
    }
    const char* only = argc == 4 ? argv[3] : "";
    auto chosen = [&](const Shape& s) { return std::strstr(s.what, only) != nullptr; };
    if (std::none_of(std::begin(kShapes), std::end(kShapes), chosen)) {
        std::fprintf(stderr, "gemm_ab: no product's name contains \"%s\"\n", only);
        return 2;
    }
    omp_set_num_threads(std::atoi(argv[1]));
    const int reps = std::atoi(argv[2]);
    std::printf("%s thread(s), %d pairs per shape, cold operands; GFLOP/s are medians\n\n", argv[1], reps);
    std::printf("| product               | M x N x K       |   base |    new | new/base speed | quartiles   |\n");
    std::printf("|---|---|--:|--:|--:|--:|\n");
    for (const Shape& s : kShapes)
        if (chosen(s)) compare(s, reps);
    return 0;
}
