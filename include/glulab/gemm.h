// gemm.h — single-precision matrix multiply kernels: the one place the FLOPs of training go.
//
// Every dense layer and both products inside attention end up here (through matmul() in ops.h).
// Two kernels with one signature:
//   gemm_reference  the plain triple loop (src/ops/gemm_reference.cpp): read it first;
//   gemm            packed, cache-blocked, register-blocked, OpenMP (src/ops/gemm.cpp): the one
//                   training uses. Tested against the reference on awkward sizes.
// Both are deterministic: the bits of C do not depend on the number of OpenMP threads.
// gemm may be called from several threads at once (each thread has its own packing buffers);
// inside an OpenMP parallel region it runs on the calling thread alone (OpenMP runs nested regions
// with one thread unless OMP_MAX_ACTIVE_LEVELS says otherwise).
//
// Layout: row-major with leading dimensions (the distance in floats between two rows), so a
// block of a bigger matrix can be passed without a copy. A transposed operand is read in place.
//
// Deliberately left out: alpha/beta scaling (only beta = 0 or 1, as `accumulate`), other dtypes,
// column-major storage, runtime CPU dispatch (the ISA is fixed by the build's -march).
#pragma once

namespace glulab {

// C (M x N) = op(A) @ op(B), plus the old C when `accumulate`.
//   op(A) is M x K: A is stored (M x K, lda), or with trans_a (K x M, lda).
//   op(B) is K x N: B is stored (K x N, ldb), or with trans_b (N x K, ldb).
//   C is stored (M x N, ldc). C must not overlap A or B.
void gemm(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda, const float* B, int ldb,
          float* C, int ldc, bool accumulate);

// The same product as a plain triple loop, one dot product per element of C.
void gemm_reference(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda, const float* B,
                    int ldb, float* C, int ldc, bool accumulate);

// `count` independent products of the same shape: item i reads A + i*stride_a and B + i*stride_b
// and writes C + i*stride_c. stride_a or stride_b may be 0 (an operand shared by every item);
// the C items must not overlap. Parallel over items when there are many, else over tiles.
void gemm_batched(int count, bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda,
                  long stride_a, const float* B, int ldb, long stride_b, float* C, int ldc, long stride_c,
                  bool accumulate);

// ---- measuring (src/ops/peak.cpp) ----
// The machine's FP32 fused-multiply-add peak in GFLOP/s with `threads` threads (an FMA counts as
// 2 FLOPs): independent FMA chains that never leave the registers, timed over a few short runs
// (the best is kept). Takes a few tens of milliseconds. The yardstick for gemm's GFLOP/s.
double measure_fma_peak_gflops(int threads);

// A short description of the kernel built in, e.g. "avx512 12x32 (KC 256, NC 768)".
const char* gemm_kernel_name();

}  // namespace glulab
