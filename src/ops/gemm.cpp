// gemm.cpp — the fast matrix multiply: packed, cache-blocked, register-blocked, OpenMP.
//
// C (M x N) = op(A) (M x K) @ op(B) (K x N), the same contract as gemm_reference.cpp (read that
// first). The structure is the one of GotoBLAS and BLIS (Goto & van de Geijn 2008, "Anatomy of
// high-performance matrix multiplication"; Van Zee & van de Geijn 2015, BLIS):
//
//   for jc over N in blocks of NC                      (a block of B columns)
//     for pc over K in blocks of KC                    (a slice of the sum; in order, never split)
//       pack B[pc:pc+KC, jc:jc+NC] into panels of NR columns, k-major      -> L2-sized, shared
//       parallel for over row panels ic of MR rows of C                   (static schedule)
//         pack A[ic:ic+MR, pc:pc+KC] (a copy, so its rows are contiguous) -> L1-sized, per thread
//         for jr over the B panels
//           micro-kernel: C[ic:ic+MR, jr:jr+NR] += A panel @ B panel      -> registers
//
// The micro-kernel keeps an MR x NR tile of C in vector registers for a whole KC-long slice of
// the sum. Per step k it loads NR values of B (NR/16 vector loads), broadcasts MR values of A,
// and issues MR * NR/16 independent fused multiply-adds. With AVX-512 (32 registers of 16 floats)
// MR = 12, NR = 32: 24 accumulators + 2 B vectors + 1 broadcast = 27 registers. 24 independent
// FMA chains hide the 4-cycle FMA latency on two FMA ports (8 would do), and 14 loads per 24 FMAs
// stay under the two loads per cycle the core can issue. NR = 32 divides every width the models
// use (32 = hd, 128, 192, 256, 512, 768); MR = 12 divides 192 and 768.
//
// Where the data sits while the micro-kernel runs:
//   the A panel (MR x KC = 12 x 256 floats = 12 KB) stays in L1 while it meets every B panel;
//   the packed B block (KC x NC = 256 x 768 floats = 768 KB) stays in L2 (2 MB per core) while
//     every row panel of C streams past it, and is read in order so the prefetcher keeps up;
//   C is read and written once per KC slice of the sum.
// Packing B costs one pass over B per (jc, pc) block and buys unit-stride, aligned loads with the
// transpose (if any) already done. Packing A is a plain copy of MR rows (or KC rows of MR floats
// when A is transposed): the micro-kernel broadcasts A, and a broadcast can come from either
// layout, so A is never transposed. Its point is to make the panel contiguous: rows of A that are
// a power of two apart would otherwise fall into the same L1 set and evict each other. When N
// fits in one panel each A value is used once, so A is read in place instead.
//
// Determinism: every element of C is summed by one thread, k = 0, 1, ..., K-1 within each KC
// slice and the slices in order; the block sizes are constants. So the bits of C are the same
// for any number of threads (tests/test_matmul.cpp checks 1 against 2). They differ from
// gemm_reference's bits in the last place: the sum is grouped differently.
//
// Deliberately left out: runtime CPU dispatch (the kernel is chosen at compile time by
// -march), an M x N-parallel split of small problems, prefetch instructions, alpha and beta.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "glulab/gemm.h"

namespace glulab {

namespace {

// ---- blocking parameters ----
#if defined(__AVX512F__)
constexpr int kMR = 12;  // rows of the register tile
constexpr int kNR = 32;  // columns of the register tile: two 16-float vectors
constexpr const char* kKernelName = "avx512 12x32 (KC 256, NC 768)";
#elif defined(__AVX2__) && defined(__FMA__)
constexpr int kMR = 6;   // 16 ymm registers: 12 accumulators + 2 B vectors + 1 broadcast
constexpr int kNR = 16;  // two 8-float vectors
constexpr const char* kKernelName = "avx2 6x16 (KC 256, NC 768)";
#else
constexpr int kMR = 4;  // the portable kernel: plain loops the compiler may vectorise
constexpr int kNR = 8;
constexpr const char* kKernelName = "scalar 4x8 (KC 256, NC 768)";
#endif
constexpr int kKC = 256;  // slice of the sum: the A panel (MR x KC) fits L1
constexpr int kNC = 768;  // block of columns: the packed B block (KC x NC) fits L2

// ---- the micro-kernel ----
// C[0:ROWS, 0:kNR] = (add_c ? C : 0) + A[0:ROWS, 0:kc] @ Bp[0:kc, 0:kNR]
// A element (r, k) is a[r * lda + k], or a[k * lda + r] when A_TRANS (A stored k-major).
// Bp is a packed panel: kc rows of kNR floats, 64-byte aligned.
// ROWS < kMR happens only on the last row panel of C; the template keeps those tiles fast too.
#if defined(__AVX512F__)
template <int ROWS, bool A_TRANS>
void micro_kernel(int kc, const float* a, long lda, const float* bp, float* c, long ldc, bool add_c) {
    __m512 acc0[ROWS], acc1[ROWS];  // columns 0..15 and 16..31 of each row
    for (int r = 0; r < ROWS; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
    for (int k = 0; k < kc; ++k, bp += kNR) {
        const __m512 b0 = _mm512_load_ps(bp);
        const __m512 b1 = _mm512_load_ps(bp + 16);
        for (int r = 0; r < ROWS; ++r) {
            const __m512 ar = _mm512_set1_ps(A_TRANS ? a[static_cast<long>(k) * lda + r] : a[r * lda + k]);
            acc0[r] = _mm512_fmadd_ps(ar, b0, acc0[r]);
            acc1[r] = _mm512_fmadd_ps(ar, b1, acc1[r]);
        }
    }
    for (int r = 0; r < ROWS; ++r, c += ldc) {
        if (add_c) {
            acc0[r] = _mm512_add_ps(_mm512_loadu_ps(c), acc0[r]);
            acc1[r] = _mm512_add_ps(_mm512_loadu_ps(c + 16), acc1[r]);
        }
        _mm512_storeu_ps(c, acc0[r]);
        _mm512_storeu_ps(c + 16, acc1[r]);
    }
}
#elif defined(__AVX2__) && defined(__FMA__)
template <int ROWS, bool A_TRANS>
void micro_kernel(int kc, const float* a, long lda, const float* bp, float* c, long ldc, bool add_c) {
    __m256 acc0[ROWS], acc1[ROWS];  // columns 0..7 and 8..15 of each row
    for (int r = 0; r < ROWS; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
    for (int k = 0; k < kc; ++k, bp += kNR) {
        const __m256 b0 = _mm256_load_ps(bp);
        const __m256 b1 = _mm256_load_ps(bp + 8);
        for (int r = 0; r < ROWS; ++r) {
            const __m256 ar = _mm256_set1_ps(A_TRANS ? a[static_cast<long>(k) * lda + r] : a[r * lda + k]);
            acc0[r] = _mm256_fmadd_ps(ar, b0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(ar, b1, acc1[r]);
        }
    }
    for (int r = 0; r < ROWS; ++r, c += ldc) {
        if (add_c) {
            acc0[r] = _mm256_add_ps(_mm256_loadu_ps(c), acc0[r]);
            acc1[r] = _mm256_add_ps(_mm256_loadu_ps(c + 8), acc1[r]);
        }
        _mm256_storeu_ps(c, acc0[r]);
        _mm256_storeu_ps(c + 8, acc1[r]);
    }
}
#else
template <int ROWS, bool A_TRANS>
void micro_kernel(int kc, const float* a, long lda, const float* bp, float* c, long ldc, bool add_c) {
    float acc[ROWS][kNR] = {};
    for (int k = 0; k < kc; ++k, bp += kNR)
        for (int r = 0; r < ROWS; ++r) {
            const float ar = A_TRANS ? a[static_cast<long>(k) * lda + r] : a[r * lda + k];
            for (int j = 0; j < kNR; ++j) acc[r][j] += ar * bp[j];
        }
    for (int r = 0; r < ROWS; ++r, c += ldc)
        for (int j = 0; j < kNR; ++j) c[j] = add_c ? c[j] + acc[r][j] : acc[r][j];
}
#endif

// Calls micro_kernel<rows, trans_a>: a run-time row count picks a compile-time instantiation.
template <int ROWS>
void run_micro_kernel(int rows, bool trans_a, int kc, const float* a, long lda, const float* bp, float* c,
                      long ldc, bool add_c) {
    if constexpr (ROWS > 1) {
        if (rows < ROWS) return run_micro_kernel<ROWS - 1>(rows, trans_a, kc, a, lda, bp, c, ldc, add_c);
    }
    if (trans_a)
        micro_kernel<ROWS, true>(kc, a, lda, bp, c, ldc, add_c);
    else
        micro_kernel<ROWS, false>(kc, a, lda, bp, c, ldc, add_c);
}

// One tile of C: rows x cols, rows <= kMR, cols <= kNR. A tile cut short by the right edge of C
// is computed full width into a scratch tile (the packed B panel is zero-padded) and copied back,
// so the micro-kernel never writes outside C.
void compute_tile(int rows, int cols, bool trans_a, int kc, const float* a, long lda, const float* bp, float* c,
                  long ldc, bool add_c) {
    if (cols == kNR) return run_micro_kernel<kMR>(rows, trans_a, kc, a, lda, bp, c, ldc, add_c);
    alignas(64) float tile[kMR * kNR];
    if (add_c)
        for (int r = 0; r < rows; ++r) std::memcpy(tile + r * kNR, c + r * ldc, sizeof(float) * cols);
    run_micro_kernel<kMR>(rows, trans_a, kc, a, lda, bp, tile, kNR, add_c);
    for (int r = 0; r < rows; ++r) std::memcpy(c + r * ldc, tile + r * kNR, sizeof(float) * cols);
}

// ---- packing ----
// Packed B panel: element (k, j) of op(B)[pc:pc+kc, j0:j0+kNR] at dst[k * kNR + j]; columns past
// the edge of B are zero so the micro-kernel can always run full width.
void pack_b_panel(bool trans_b, const float* B, long ldb, int pc, int kc, int j0, int cols, float* dst) {
    if (!trans_b) {
        // B stored (K x N): each panel row is a contiguous piece of a row of B.
        for (int k = 0; k < kc; ++k) {
            const float* src = B + (pc + k) * ldb + j0;
            float* d = dst + k * kNR;
            for (int j = 0; j < cols; ++j) d[j] = src[j];
            for (int j = cols; j < kNR; ++j) d[j] = 0.0f;
        }
    } else {
        // B stored (N x K): column j of the panel is a contiguous piece of row j0 + j of B.
        for (int j = 0; j < cols; ++j) {
            const float* src = B + (j0 + j) * ldb + pc;
            for (int k = 0; k < kc; ++k) dst[k * kNR + j] = src[k];
        }
        for (int k = 0; k < kc; ++k)
            for (int j = cols; j < kNR; ++j) dst[k * kNR + j] = 0.0f;
    }
}

// Copies the A panel op(A)[i0:i0+rows, pc:pc+kc] keeping its layout; returns its new leading
// dimension: rows of kc floats (A stored M x K), or kc rows of kMR floats (A stored K x M).
long pack_a_panel(bool trans_a, const float* A, long lda, int i0, int rows, int pc, int kc, float* dst) {
    if (!trans_a) {
        for (int r = 0; r < rows; ++r) std::memcpy(dst + r * kc, A + (i0 + r) * lda + pc, sizeof(float) * kc);
        return kc;
    }
    for (int k = 0; k < kc; ++k) std::memcpy(dst + k * kMR, A + (pc + k) * lda + i0, sizeof(float) * rows);
    return kMR;
}

// A growable 64-byte-aligned scratch area. One per thread (thread_local below), reused from call
// to call, so the hot path does not allocate once the buffers have reached their working size.
class Scratch {
public:
    float* get(size_t n) {
        if (buf_.size() < n + 16) buf_.resize(n + 16);
        void* p = buf_.data();
        size_t space = buf_.size() * sizeof(float);
        return static_cast<float*>(std::align(64, n * sizeof(float), p, space));
    }

private:
    std::vector<float> buf_;
};
thread_local Scratch t_packed_b;  // the B block, owned by the thread that calls gemm
thread_local Scratch t_packed_a;  // the A panel, one per worker thread

// The blocked product; `parallel` lets the row panels be shared among the OpenMP threads
// (off when the caller already runs one product per thread, as gemm_batched does).
void gemm_blocked(bool trans_a, bool trans_b, int M, int N, int K, const float* A, long lda, const float* B,
                  long ldb, float* C, long ldc, bool accumulate, bool parallel) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {  // an empty sum
        if (!accumulate)
            for (int i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, 0.0f);
        return;
    }
    const int row_panels = (M + kMR - 1) / kMR;
    // A is reused once per B panel: worth packing only when there is more than one.
    const bool pack_a = N > kNR;
    for (int jc = 0; jc < N; jc += kNC) {
        const int nc = std::min(kNC, N - jc);
        const int col_panels = (nc + kNR - 1) / kNR;
        for (int pc = 0; pc < K; pc += kKC) {
            const int kc = std::min(kKC, K - pc);
            const bool add_c = accumulate || pc > 0;  // later slices add onto the earlier ones
            float* packed_b = t_packed_b.get(static_cast<size_t>(col_panels) * kc * kNR);
#pragma omp parallel for schedule(static) if (parallel && col_panels > 1)
            for (int p = 0; p < col_panels; ++p) {
                const int j0 = jc + p * kNR;
                pack_b_panel(trans_b, B, ldb, pc, kc, j0, std::min(kNR, N - j0), packed_b + p * kc * kNR);
            }
#pragma omp parallel for schedule(static) if (parallel && row_panels > 1)
            for (int ip = 0; ip < row_panels; ++ip) {
                const int i0 = ip * kMR;
                const int rows = std::min(kMR, M - i0);
                const float* a = trans_a ? A + pc * lda + i0 : A + i0 * lda + pc;
                long a_ld = lda;
                if (pack_a) {
                    float* panel = t_packed_a.get(static_cast<size_t>(kMR) * kc);
                    a_ld = pack_a_panel(trans_a, A, lda, i0, rows, pc, kc, panel);
                    a = panel;
                }
                for (int p = 0; p < col_panels; ++p) {
                    const int j0 = jc + p * kNR;
                    compute_tile(rows, std::min(kNR, N - j0), trans_a, kc, a, a_ld, packed_b + p * kc * kNR,
                                 C + i0 * ldc + j0, ldc, add_c);
                }
            }
        }
    }
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda, const float* B, int ldb,
          float* C, int ldc, bool accumulate) {
    gemm_blocked(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, true);
}

void gemm_batched(int count, bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda,
                  long stride_a, const float* B, int ldb, long stride_b, float* C, int ldc, long stride_c,
                  bool accumulate) {
    // Many items (attention: batch x heads): one whole product per thread, no sharing inside an
    // item. Few items: one after the other, each split over its row panels. Either way each
    // element of C is computed by the same code in the same order, so the bits are the same.
    const bool by_item = count >= 2 * omp_get_max_threads();
    if (by_item) {
#pragma omp parallel for schedule(static)
        for (int i = 0; i < count; ++i)
            gemm_blocked(trans_a, trans_b, M, N, K, A + i * stride_a, lda, B + i * stride_b, ldb, C + i * stride_c,
                         ldc, accumulate, false);
    } else {
        for (int i = 0; i < count; ++i)
            gemm_blocked(trans_a, trans_b, M, N, K, A + i * stride_a, lda, B + i * stride_b, ldb, C + i * stride_c,
                         ldc, accumulate, true);
    }
}

const char* gemm_kernel_name() { return kKernelName; }

}  // namespace glulab
