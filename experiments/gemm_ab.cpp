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
//
// usage: gemm_ab THREADS REPS    (see gemm_ab.sh)
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "paired.h"

// The two builds of glulab::gemm (gemm.h), renamed by the preprocessor.
namespace gemm_base {
void gemm(bool, bool, int, int, int, const float*, int, const float*, int, float*, int, bool);
}
namespace gemm_new {
void gemm(bool, bool, int, int, int, const float*, int, const float*, int, float*, int, bool);
}

namespace {

struct Shape {
    const char* what;
    int M, N, K;
    bool trans_a, trans_b;
};

// The small preset (d 192, B T = 2048): each layer's products, forward and backward, with
// d_ff 512 (the gated variants) and d_ff 768 (ReLU, GELU, Swish).
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
};

void compare(const Shape& s, int reps) {
    constexpr int kBuffers = 8;
    const size_t a_size = static_cast<size_t>(s.M) * s.K, b_size = static_cast<size_t>(s.K) * s.N;
    std::vector<std::vector<float>> A(kBuffers, std::vector<float>(a_size, 0.5f));
    std::vector<std::vector<float>> B(kBuffers, std::vector<float>(b_size, 0.25f));
    std::vector<std::vector<float>> C(kBuffers, std::vector<float>(static_cast<size_t>(s.M) * s.N));
    const int lda = s.trans_a ? s.M : s.K, ldb = s.trans_b ? s.K : s.N;
    auto time_call = [&](bool base, int i) {
        const auto start = std::chrono::steady_clock::now();
        if (base)
            gemm_base::gemm(s.trans_a, s.trans_b, s.M, s.N, s.K, A[i].data(), lda, B[i].data(), ldb, C[i].data(),
                            s.N, false);
        else
            gemm_new::gemm(s.trans_a, s.trans_b, s.M, s.N, s.K, A[i].data(), lda, B[i].data(), ldb, C[i].data(),
                           s.N, false);
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    PairedTimes t;
    const int warmup = 2 * kBuffers;
    for (int r = 0; r < warmup + reps; ++r) {
        const int i = r % kBuffers, j = (r + kBuffers / 2) % kBuffers;  // two different cold sets
        const bool base_first = r % 2 == 0;
        const double first = time_call(base_first, i), second = time_call(!base_first, j);
        if (r < warmup) continue;
        const double tb = base_first ? first : second, tn = base_first ? second : first;
        t.add(tb, tn);
    }
    const double gflop = 2.0 * s.M * s.N * s.K * 1e-9;
    std::printf("| %-20s | %4dx%4dx%4d | %6.0f | %6.0f | %5.3f | %5.3f-%5.3f |\n", s.what, s.M, s.N, s.K,
                gflop / quantile(t.base, 0.5), gflop / quantile(t.fresh, 0.5), quantile(t.ratio, 0.5),
                quantile(t.ratio, 0.25), quantile(t.ratio, 0.75));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 || std::atoi(argv[1]) < 1 || std::atoi(argv[2]) < 10) {
        std::fprintf(stderr, "usage: gemm_ab THREADS REPS (REPS >= 10)\n");
        return 2;
    }
    omp_set_num_threads(std::atoi(argv[1]));
    const int reps = std::atoi(argv[2]);
    std::printf("%s thread(s), %d pairs per shape, cold operands; GFLOP/s are medians\n\n", argv[1], reps);
    std::printf("| product              | M x N x K      |   base |    new | new/base speed | quartiles   |\n");
    std::printf("|---|---|--:|--:|--:|--:|\n");
    for (const Shape& s : kShapes) compare(s, reps);
    return 0;
}
