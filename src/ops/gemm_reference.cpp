// gemm_reference.cpp — the matrix multiply as the definition reads: one dot product per output.
//
//   C[i][j] = sum_k op(A)[i][k] * op(B)[k][j]     (+ the old C[i][j] when accumulate)
//
// This is the kernel a student reads first, and the one the fast gemm (gemm.cpp) is tested
// against. It is correct for every shape and layout and makes no attempt at speed: the inner
// loop walks B down a column (a cache miss per step when B is large) and uses one accumulator,
// so it runs at about 1 GFLOP/s against the fast kernel's 200.
//
// Deliberately left out: threads, blocking, vector instructions — everything gemm.cpp adds.
#include "glulab/gemm.h"

namespace glulab {

void gemm_reference(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda, const float* B,
                    int ldb, float* C, int ldc, bool accumulate) {
    // op(A)[i][k] and op(B)[k][j] read the stored matrices in place; a transpose swaps the indices.
    auto a_at = [&](long i, long k) { return trans_a ? A[k * lda + i] : A[i * lda + k]; };
    auto b_at = [&](long k, long j) { return trans_b ? B[j * ldb + k] : B[k * ldb + j]; };
    for (int i = 0; i < M; ++i) {
        for (int j = 0; j < N; ++j) {
            float sum = 0.0f;
            for (int k = 0; k < K; ++k) sum += a_at(i, k) * b_at(k, j);
            float& c = C[static_cast<long>(i) * ldc + j];
            c = accumulate ? c + sum : sum;
        }
    }
}

}  // namespace glulab
