// gemm.cpp — the fast matrix multiply: packed, cache-blocked, register-blocked, OpenMP.
//
// C (M x N) = op(A) (M x K) @ op(B) (K x N), the same contract as gemm_reference.cpp (read that
// first). The structure is the one of GotoBLAS and BLIS (Goto & van de Geijn 2008, "Anatomy of
// high-performance matrix multiplication"; Van Zee & van de Geijn 2015, BLIS):
//
//   for jc over N in blocks of NC                        (a block of B columns)
//     for each group of KC-slices of the sum               (in order; see "groups" below)
//       pack B[slices, jc:jc+NC] into panels of NR columns, k-major         -> L2, shared
//       parallel for over row panels ic of MR rows of C                     (static schedule)
//         for pc over the slices of the group           (or slices outer, when C fits L2)
//           pack A[ic:ic+MR, pc:pc+KC] (a copy, so its rows are contiguous) -> L1, per thread
//           for jr over the B panels
//             micro-kernel: C[ic:ic+MR, jr:jr+NR] += A panel @ B panel      -> registers
//             (and ask for a share of the next A panel, if A is read in place)
//
// The micro-kernel keeps an MR x NR tile of C in vector registers for a whole KC-long slice of
// the sum. Per step k it loads NR values of B (NR/16 vector loads), broadcasts MR values of A,
// and issues MR * NR/16 independent fused multiply-adds. With AVX-512 (32 registers of 16 floats)
// MR = 12, NR = 32: 24 accumulators + 2 B vectors + 1 broadcast = 27 registers. 24 independent
// FMA chains hide the 4-cycle FMA latency on two FMA ports (8 would do), and 14 loads per 24 FMAs
// stay under the two loads per cycle the core can issue. On its own (make kernel-alone: kc = 192,
// B from L1 or L2, each run paired with the FMA peak measured next to it) this loop ran at
// 0.70-0.79 of the peak in the median, 0.86-0.90 in a quiet spell, on an Intel Xeon
// (experiments/results/speed/kernel-alone.md): short of the peak loop, which loads nothing. On an
// AMD EPYC (Zen 4), which issues one 512-bit FMA per cycle, it runs at 0.98-0.99 of the peak.
// The packed panels are 64-byte aligned: with B 16 bytes off a cache line, as malloc would place
// it, each vector load touches two lines and the kernel ran 0.05-0.08 of the peak slower.
// Earlier comments here said 93-97%, which we could not reproduce on the Xeon. NR = 32 divides
// every width of the small preset (32 = hd, 128, 192, 256, 512, 768); MR = 12 divides 192 and
// 768. Products with N = 48 (the tiny preset's d) take 8 x 48 tiles instead, also 24
// accumulators (see kWideNR): as 32 + 16, their half-full last panel ran at about half speed (+6
// to 10% on tiny's training steps). A half panel elsewhere is computed in place by a one-vector
// version of the kernel.
//
// Where the data sits while the micro-kernel runs:
//   the A panel (MR x KC = 12 x 256 floats = 12 KB; up to 24 KB when a sum of up to 768 terms
//     is cut in one or two slices, see slice_length) stays in L1 while it meets every B panel;
//   the packed B block (KC x NC = 256 x 768 floats = 768 KB) stays in L2 (1 MB per core on
//     Zen 4) while every row panel of C streams past it, read in order so the prefetcher keeps up;
//   C is read and written once per KC slice of the sum, from L2 if it fits there (a batch of
//     short sums with megabytes of C is written past the caches: see "streaming stores").
// Groups: B is packed for as many KC slices as fit 1 MB (five when NC = 192, all four of the
// tiny preset's K = 1024 weight gradients). When C (M x NC) stays in L2 between slices, each
// thread then goes through the group's slices in order, each over its own row panels: the
// threads meet after packing and at the end of the group, not at every slice (the tiny preset's
// products are too small to pay for 3 meetings per slice). When C is too big to stay in L2
// (2048 x 192 floats = 1.5 MB in the small preset's x W2), each row panel of C goes through the
// group's slices while it is in L1, instead of coming back from L3 once per slice (+7 to 12% on
// K = 512 and 768).
//
// Packing. B is packed once per (jc, pc) block: unit-stride loads in the kernel, zero padding at
// the right edge, and the transpose (if any) done once, 16 x 16 floats at a time in registers.
// A is never transposed: the kernel broadcasts A one float at a time, and a broadcast can read
// either layout, so a transposed A only changes the strides. A is copied (MR rows of KC floats,
// or KC rows of MR floats) when the panel meets more than one B panel and is not one contiguous
// block already: a contiguous panel stays in L1, while scattered rows can share L1 sets and
// evict each other (rows a power of two apart do); rows of at most 64 floats cannot (12 rows of
// 4 lines, 12 ways per set). So every product with N <= NR reads A in place, and so do sums of
// 513 to 768 terms, cut in two slices whose rows fit the L1 sets' ways (slice_length). Sums of
// at most 64 terms (attention's heads, hd = 32) copy their A rows all the same, for another
// reason: constant strides in the kernel (short_sum_row_panel). A B of exactly one panel
// (attention's heads when hd = NR) is read in place too, whatever its leading dimension: each of
// its rows is two vector loads either way, so a copy would only add a pass over it.
//
// Threads. One product is split over its row panels of C; gemm_batched gives whole items to
// threads when there are many (attention: batch x heads). A long sum into a small C (the weight
// gradients X^T dY, summed over the batch's tokens) is cut into chunks of 1,024 terms, one chunk
// per thread, added up at the end (see gemm_chunked; a tall, narrow C is summed as its
// transpose). Products under about 2^20 multiply-adds run on one thread, since starting a team
// costs more than they do.
//
// Measured (the benchmark in tests/test_matmul.cpp, small-preset shapes, on a shared 2-core Xeon
// VM whose FMA peak is 243 GFLOP/s per core): x W and dY W^T 165-180 GFLOP/s on one core (68-74%)
// and 320-345 on two (66-71%); X^T dY 113-165 and 240-275; attention's products 115-130 and
// 215-220. Most of the gap to the peak is the micro-kernel's own (see above); the rest goes to
// bringing A and C from L3 (with A and C kept in cache, x W gains 10-17%) and, in attention, to its
// (T x T) operands (6 MB per layer), which come from memory. On an AMD EPYC
// (Zen 4, 118 GFLOP/s per core), where the micro-kernel is at 0.98-0.99 of the peak, the same
// benchmark read x W and dY W^T 73-85% on one core, X^T dY 76-84%, attention 46-65% in session 14
// (the later sessions' runs: experiments/results/speed/history.md): there the gap is in feeding the
// kernel (packing, barriers, memory), and for attention's 32-step sums (q k^T) also in the
// kernel's own cost per tile, its stores and C requests: 0.88-0.90 of the peak alone at kc = 32
// (make kernel-alone KC=32), 0.98 at 192. From memory q k^T waits on latency, not bandwidth: make
// bandwidth streams its mix of reads and stores fast enough for 96-105% of the peak
// (experiments/results/speed/bandwidth-9071f87.md).
//
// Determinism: every element of C is summed by one thread, k = 0, 1, ..., K-1 within each slice
// and the slices in order (a chunked sum: each chunk so, then the chunks in order); the block
// sizes are constants, and the slice length and the chunks depend only on K, M and N
// (slice_length, chunked_sum). So the bits of C are the same for any number of threads
// (tests/test_matmul.cpp checks 1 against 2). They differ from gemm_reference's bits in the last
// place: the sum is grouped differently.
//
// Deliberately left out: runtime CPU dispatch (the kernel is chosen at compile time by
// -march), splitting a product over N when it has too few row panels, a fused attention
// kernel (attention.cpp keeps each block of scores in cache between its gemm calls instead),
// alpha and beta.
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <omp.h>

#include <algorithm>
#include <cstdint>
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
constexpr const char* kKernelName = "avx512 12x32, 8x48 when 48 divides N and 32 does not (KC 256, NC 768)";
#elif defined(__AVX2__) && defined(__FMA__)
constexpr int kMR = 6;   // 16 ymm registers: 12 accumulators + 2 B vectors + 1 broadcast
constexpr int kNR = 16;  // two 8-float vectors
constexpr const char* kKernelName = "avx2 6x16 (KC 256, NC 768)";
#else
constexpr int kMR = 4;  // the portable kernel: plain loops the compiler may vectorise
constexpr int kNR = 8;
constexpr const char* kKernelName = "scalar 4x8 (KC 256, NC 768)";
#endif
constexpr int kKC = 256;  // slice of the sum: the A panel (MR x KC) fits L1 (but see slice_length)
constexpr int kNC = 768;  // block of columns: the packed B block (KC x NC) fits L2
constexpr int kBBudget = 256 * 1024;  // floats (1 MB): packed B of a group of slices, see the top
constexpr int kShortRow = 64;         // floats: sums this short take short_sum_row_panel
constexpr int kVector = kNR / 2;      // floats per vector register
constexpr int kLineFloats = 16;       // floats per 64-byte cache line

// The wide register tile, kWideMR x kWideNR. Every product uses kMR x kNR tiles, except one whose
// N is a multiple of 48 but not of kNR (the tiny preset's d = 48: the products with N = d). With
// 32-wide panels its last panel would be half full, and the one-vector kernel that computes it
// does 12 multiply-adds per 13 loads, at about half the speed. With AVX-512 such a product takes
// 8 x 48 tiles instead: 24 accumulators, like 12 x 32, and every panel full. Each element of C
// is summed in the same order either way, so the tile changes no bits (tests/test_matmul.cpp).
#if defined(__AVX512F__)
constexpr int kWideMR = 8, kWideNR = 48;
#else
constexpr int kWideMR = kMR, kWideNR = kNR;  // 3 vectors x 6 rows would not fit 16 ymm registers
#endif

bool wide_tiles(int N) { return N % kNR != 0 && N % kWideNR == 0; }

// The length of the sum's slices: kKC, or longer ones that A is read from in place, when the
// packed B block of a slice (K x NC) still fits the group budget:
//  - K <= 2 kKC: the whole sum in one slice. A product with K = 512 (the small preset's x W2 and
//    dY W^T of the gated FFN's input matrices) then reads its A, one contiguous block, in place:
//    a 12 x 512 panel (24 KB) stays in L1. As two slices of 256, its rows 2 KB apart would share
//    L1 sets, so each panel was copied first, and C was read and written twice. make gemm-ab on
//    AMD Zen 4 (L1 32 KB): those products 1.12-1.17x as fast, the others unchanged.
//  - 2 kKC < K <= 3 kKC: two slices of about K / 2 (a multiple of 16 floats, whole cache lines),
//    also read in place. With K = 768 (x W2 and dY W1^T of the ungated FFNs, d_ff = 768) a panel
//    slice is 12 rows of 384 floats, rows 3 KB apart: they fall on 4 different L1 set offsets
//    and at most 6 share a set, within its 8 ways (at most 8 for any K in this range, counted
//    line by line for K = 513..768 and both slices). Against three packed slices of 256, make
//    gemm-ab on Zen 4 read those two products 1.07-1.12x as fast on 1 and on 2 threads, the
//    others unchanged (experiments/results/speed/two-slices-33bca95.md). (Longer sums stay in
//    packed slices of kKC: with K = 1024 the rows, 4 KB apart, would all meet in the same sets.)
// The length depends on K and N only, never on the threads: the bits of C stay the same for any
// thread count.
int slice_length(int K, int N) {
    const long block = static_cast<long>(K) * std::min(N, kNC);
    if (block > kBBudget) return kKC;
    if (K <= 2 * kKC) return K;
    if (K <= 3 * kKC) return ((K + 1) / 2 + kLineFloats - 1) / kLineFloats * kLineFloats;
    return kKC;
}

// Below this many multiply-adds a product runs on one thread: starting and joining a team costs
// a few microseconds, as long as ~2^20 multiply-adds take (and far more on a busy machine).
constexpr double kMinParallelWork = 1 << 20;

// Runs body(i) for i in [0, n): shared among the OpenMP threads when `parallel`, else a plain
// loop. Not `omp parallel for if (parallel)`: that still calls into the OpenMP runtime when the
// condition is false, about 1 us a time, longer than one of attention's small products takes.
template <class Body>
void for_range(int n, bool parallel, Body body) {
    if (parallel && n > 1 && !omp_in_parallel()) {  // nested: one thread anyway
#pragma omp parallel for schedule(static)
        for (int i = 0; i < n; ++i) body(i);
    } else {
        for (int i = 0; i < n; ++i) body(i);
    }
}

// ---- prefetching ----
// Asks for the C tile the micro-kernel is about to update, so that its loads (or, when C is only
// written, the reads for ownership) overlap the kc steps of arithmetic instead of stalling the
// end of the kernel: C is megabytes and usually not in cache. A hint (GCC and Clang): it never
// faults and changes no result.
inline void prefetch_c_tile(int rows, int cols, const float* c, long ldc) {
    for (int r = 0; r < rows; ++r)
        for (int j = 0; j < cols; j += kLineFloats) __builtin_prefetch(c + r * ldc + j, 1, 3);
}

// Asks for the cache lines of the A block A[i0:i0+rows, pc:pc+kc] (A stored M x K), a share at a
// time, so that the block the next call needs is in cache when it starts. Used where
// the micro-kernel reads A in place: the first kernel to meet a block would read its 12 rows from
// memory as 12 short streams, one float per step each, which the hardware prefetcher does not
// follow, and stall on every new line. Spread over the B panels, the requests cost nothing.
// Measured with cold operands (make gemm-ab, experiments/results/speed/): +10 to 12% on the
// K = 192 products on 1 thread; in training, where A comes warm from the op before, nothing
// measurable. Not used for packed A: the copy reads whole rows, which the prefetcher does follow
// (asking there too cost 4% at K = 512).
// A share is one B panel's worth: the block's lines row by row, per_share_ of them per call of
// next_share(), counted on rather than found by dividing a line number (as until session 18): with
// K = 32 (attention's S^T = k q^T) a tile takes only about 800 cycles. make gemm-ab REV=e481376:
// attention's products 1.04-1.08x as fast on 1 thread (S^T 1.047), 0.98-1.04x on 2, the others
// 0.99-1.01; whole steps unchanged (experiments/results/speed/a-prefetch-e481376.md).
class ABlockPrefetch {
public:
    // The block of the next call, to be asked for in `shares` shares; rows = 0: nothing to ask.
    ABlockPrefetch(const float* A, long lda, int i0, int rows, int pc, int kc, int shares)
        : first_(A + pc), lda_(lda), end_row_(i0 + rows), lines_per_row_((kc + kLineFloats - 1) / kLineFloats),
          per_share_((rows * lines_per_row_ + shares - 1) / shares), row_(i0) {}

    void next_share() {
        for (int n = 0; n < per_share_ && row_ < end_row_; ++n) {
            __builtin_prefetch(first_ + row_ * lda_ + line_ * kLineFloats, 0, 2);
            if (++line_ == lines_per_row_) line_ = 0, ++row_;
        }
    }

private:
    const float* first_;  // column pc of row 0
    long lda_;
    int end_row_, lines_per_row_, per_share_;
    int row_, line_ = 0;  // the next line to ask for
};

// ---- streaming stores ----
// A sum of at most kShortRow terms writes each line of C after only that many steps: attention's
// q k^T (hd = 32) writes 64 KB of scores per 16 KB of q and 16 KB of k. An ordinary store first
// reads the line for ownership (the C prefetch asks for it), then writes it back when it leaves
// the cache: twice the bytes, and the read's latency to hide. A streaming store (movntps) writes
// the whole line to memory without reading it, and does not keep it in cache. So when C is too
// big to stay in cache until it is read (a batch's output of kStreamBytes or more; the caches
// of this 2-core VM kept between 4.5 and 18 MB), the short-sum path streams it. The next reader
// then gets C from memory, in order, which the hardware prefetcher follows. A smaller C is
// stored as usual: it may still be in cache when read, as attention's blocks of scores are
// (attention.cpp). Training's products never stream (none is a batch of short sums this big);
// the matmul op's batched products do, and the benchmark's q k^T (96 items, 6 MB of scores).
// Measured on Zen 4, paired with the code before (make gemm-ab ONLY=batched): that q k^T 1.08x
// on 1 and on 2 threads at the final code, 1.00-1.10x over the session's runs; the other
// batched products 0.99-1.01x (experiments/results/speed/streaming-911af96.md). With a pass
// reading C after each product (a scratch program), 3 MB of C streamed was even (0.99-1.01x)
// and 6 MB or more gained (1.02-1.10x): hence 4 MB.
constexpr double kStreamBytes = 4 << 20;

// Whether gemm_batched (count items, C + i * stride_c) may stream C: only written (not
// accumulated), sums of at most kShortRow terms, kStreamBytes of C or more, and every row of every
// item 64-byte aligned, as movntps needs. Only the short-sum path streams (A stored M x K, more
// than one B panel: short_rows in gemm_tiled); other tiles of such a call are stored as usual.
bool streams_output(int count, int M, int N, int K, const float* C, long ldc, long stride_c, bool accumulate) {
#if defined(__AVX2__) || defined(__AVX512F__)
    const bool aligned = reinterpret_cast<std::uintptr_t>(C) % 64 == 0 && ldc % kLineFloats == 0 &&
                         stride_c % kLineFloats == 0;
    return !accumulate && K <= kShortRow && static_cast<double>(count) * M * N * sizeof(float) >= kStreamBytes &&
           aligned;
#else
    (void)count, (void)M, (void)N, (void)K, (void)C, (void)ldc, (void)stride_c, (void)accumulate;
    return false;
#endif
}

// Streaming stores are weakly ordered: this fence makes them visible before anything the thread
// stores later, such as its arrival at the team's barrier, after which other threads read C.
inline void finish_streaming_stores() {
#if defined(__AVX2__) || defined(__AVX512F__)
    _mm_sfence();
#endif
}

// ---- the micro-kernel ----
// C[0:ROWS, 0:COLS] = (add_c ? C : 0) + A[0:ROWS, 0:kc] @ Bp[0:kc, 0:COLS], kc >= 1
// A element (r, k) is a[r * lda + k], or a[k * lda + r] when A_TRANS (A stored k-major).
// Bp is a panel: kc rows of NR floats, ldbp floats apart (NR when packed, 64-byte aligned; B's
// own ldb when a one-panel B is read in place), of which the kernel reads the first VECS vectors:
// VECS = 2 is a whole kMR x kNR panel, VECS = 3 a whole wide one (kWideMR x kWideNR), VECS = 1
// the left half of a narrow one, for a product whose last panel is half full (N = 80 = 64 + 16):
// that tile is then written in place, without a scratch tile and half the multiply-adds.
// ROWS < MR happens only on the last row panel of C; the template keeps those tiles fast too.
#if defined(__AVX512F__)
// Every loop over r and v is fully unrolled on request (#pragma GCC unroll): the accumulators must
// live in registers, and left to its heuristics GCC sometimes keeps acc[][] on the stack instead,
// storing it at every step (that happened when the prefetch below was added: half the speed).
template <int ROWS, bool A_TRANS, int VECS, bool STREAM_C = false>
void micro_kernel(int kc, const float* a, long lda, const float* bp, long ldbp, float* c, long ldc, bool add_c) {
    if constexpr (!STREAM_C) prefetch_c_tile(ROWS, 16 * VECS, c, ldc);  // streamed lines are never read
    __m512 acc[ROWS][VECS];  // row r, columns 16 v .. 16 v + 15
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r) {
#pragma GCC unroll 3
        for (int v = 0; v < VECS; ++v) acc[r][v] = _mm512_setzero_ps();
    }
    // kc >= 1. Written as do-while because with a loop that might run zero times GCC spills all
    // 24 accumulators to the stack and reloads them for the stores below (10% on short slices).
    int k = 0;
    do {
        // Ask for the B rows 24 steps ahead (3 KB): the packed panel comes from L2, and on a
        // busy machine its latency shows (make gemm-ab: +1 to 5% on one thread, +2 to 12% on
        // two, on the nine small-preset products; within noise in a training step).
        __m512 b[VECS];
#pragma GCC unroll 3
        for (int v = 0; v < VECS; ++v) {
            __builtin_prefetch(bp + 24 * ldbp + 16 * v, 0, 3);
            b[v] = _mm512_loadu_ps(bp + 16 * v);
        }
#pragma GCC unroll 16
        for (int r = 0; r < ROWS; ++r) {
            const __m512 ar = _mm512_set1_ps(A_TRANS ? a[static_cast<long>(k) * lda + r] : a[r * lda + k]);
#pragma GCC unroll 3
            for (int v = 0; v < VECS; ++v) acc[r][v] = _mm512_fmadd_ps(ar, b[v], acc[r][v]);
        }
        bp += ldbp;
    } while (++k < kc);
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r) {
#pragma GCC unroll 3
        for (int v = 0; v < VECS; ++v) {
            float* cr = c + r * ldc + 16 * v;
            if constexpr (STREAM_C)  // add_c is false; cr is 64-byte aligned (streams_output)
                _mm512_stream_ps(cr, acc[r][v]);
            else
                _mm512_storeu_ps(cr, add_c ? _mm512_add_ps(_mm512_loadu_ps(cr), acc[r][v]) : acc[r][v]);
        }
    }
}
#elif defined(__AVX2__) && defined(__FMA__)
template <int ROWS, bool A_TRANS, int VECS, bool STREAM_C = false>
void micro_kernel(int kc, const float* a, long lda, const float* bp, long ldbp, float* c, long ldc, bool add_c) {
    if constexpr (!STREAM_C) prefetch_c_tile(ROWS, 8 * VECS, c, ldc);
    __m256 acc[ROWS][VECS];  // row r, columns 8 v .. 8 v + 7
    for (int r = 0; r < ROWS; ++r)
        for (int v = 0; v < VECS; ++v) acc[r][v] = _mm256_setzero_ps();
    int k = 0;  // kc >= 1; do-while as in the AVX-512 kernel
    do {
        __m256 b[VECS];
        for (int v = 0; v < VECS; ++v) b[v] = _mm256_loadu_ps(bp + 8 * v);
        for (int r = 0; r < ROWS; ++r) {
            const __m256 ar = _mm256_set1_ps(A_TRANS ? a[static_cast<long>(k) * lda + r] : a[r * lda + k]);
            for (int v = 0; v < VECS; ++v) acc[r][v] = _mm256_fmadd_ps(ar, b[v], acc[r][v]);
        }
        bp += ldbp;
    } while (++k < kc);
    for (int r = 0; r < ROWS; ++r)
        for (int v = 0; v < VECS; ++v) {
            float* cr = c + r * ldc + 8 * v;
            if constexpr (STREAM_C)
                _mm256_stream_ps(cr, acc[r][v]);
            else
                _mm256_storeu_ps(cr, add_c ? _mm256_add_ps(_mm256_loadu_ps(cr), acc[r][v]) : acc[r][v]);
        }
}
#else
template <int ROWS, bool A_TRANS, int VECS, bool STREAM_C = false>  // no streaming stores in plain C++
void micro_kernel(int kc, const float* a, long lda, const float* bp, long ldbp, float* c, long ldc, bool add_c) {
    constexpr int kCols = kNR / 2 * VECS;
    float acc[ROWS][kCols] = {};
    for (int k = 0; k < kc; ++k, bp += ldbp)
        for (int r = 0; r < ROWS; ++r) {
            const float ar = A_TRANS ? a[static_cast<long>(k) * lda + r] : a[r * lda + k];
            for (int j = 0; j < kCols; ++j) acc[r][j] += ar * bp[j];
        }
    for (int r = 0; r < ROWS; ++r, c += ldc)
        for (int j = 0; j < kCols; ++j) c[j] = add_c ? c[j] + acc[r][j] : acc[r][j];
}
#endif

// Calls micro_kernel<rows, trans_a, VECS>: a run-time row count picks a compile-time instantiation.
template <int VECS, int ROWS>
void run_micro_kernel(int rows, bool trans_a, int kc, const float* a, long lda, const float* bp, long ldbp, float* c,
                      long ldc, bool add_c) {
    if constexpr (ROWS > 1) {
        if (rows < ROWS) return run_micro_kernel<VECS, ROWS - 1>(rows, trans_a, kc, a, lda, bp, ldbp, c, ldc, add_c);
    }
    if (trans_a)
        micro_kernel<ROWS, true, VECS>(kc, a, lda, bp, ldbp, c, ldc, add_c);
    else
        micro_kernel<ROWS, false, VECS>(kc, a, lda, bp, ldbp, c, ldc, add_c);
}

// One tile of C: rows x cols, rows <= MR, cols <= NR (the product's register tile, kMR x kNR
// or kWideMR x kWideNR). A whole or exactly half-full panel is computed in place. Any other tile
// cut short by the right edge of C is computed full width into a scratch tile (the packed B
// panel is zero-padded) and copied back, so the micro-kernel never writes outside C.
// bp: a panel of B, rows ldbp floats apart; only a packed one (ldbp = NR, zero-padded) may be cut short.
template <int MR, int NR>
void compute_tile(int rows, int cols, bool trans_a, int kc, const float* a, long lda, const float* bp, long ldbp,
                  float* c, long ldc, bool add_c) {
    constexpr int kVecs = NR / kVector;
    if (cols == NR) return run_micro_kernel<kVecs, MR>(rows, trans_a, kc, a, lda, bp, ldbp, c, ldc, add_c);
    if (cols == kVector) return run_micro_kernel<1, MR>(rows, trans_a, kc, a, lda, bp, ldbp, c, ldc, add_c);
    alignas(64) float tile[MR * NR];
    if (add_c)
        for (int r = 0; r < rows; ++r) std::memcpy(tile + r * NR, c + r * ldc, sizeof(float) * cols);
    run_micro_kernel<kVecs, MR>(rows, trans_a, kc, a, lda, bp, NR, tile, NR, add_c);
    for (int r = 0; r < rows; ++r) std::memcpy(c + r * ldc, tile + r * NR, sizeof(float) * cols);
}

// ---- short sums: a whole row panel per call ----
// C[0:rows, 0:panels NR] = (add_c ? C : 0) + A[0:rows, 0:kc] @ the first `panels` packed B panels
// (each kc x NR, contiguous), for a sum of at most kShortRow terms, A stored M x K.
// Attention's S^T = k q^T and dP^T = v dO^T sum hd = 32 terms: a tile is then 32 steps of the
// micro-kernel, about 800 cycles, and the fixed work around each tile (the call, 12 row addresses
// of A and 12 of C, which do not fit the 16 general registers and go to the stack) took a fifth
// of the time. Here A's rows are first copied kShortRow floats apart, so that with the kernel
// inlined every address of A is one pointer plus a constant, and one call runs the row panel's
// whole panels (the next A block's prefetch still asked for a share per panel). Same bits (each
// element summed in the same order). On Zen 4, against 31cec99 (which read these rows in place,
// one call per tile, and transposed by vpermt2ps): make gemm-ab S^T 1.085x on 1 thread,
// 1.008-1.051x on 2, the other products 0.98-1.00x; q k^T with its operands in cache (the scan
// by items in tests/test_matmul.cpp, 6 to 48 items) 76-83% of the peak on 1 thread against
// 68-78%, 80.8-81.5% on 2 against 76.7-77.9% in the same minutes; whole training steps
// unchanged (make step-ab: 0.997-1.007) (experiments/results/speed/short-sums-31cec99.md).

// The panel loop for a row count known at compile time; a run-time row count picks it, as in
// run_micro_kernel. `flatten` inlines the micro-kernel here, with the constant strides
// kShortRow (A) and NR (B); elsewhere it stays a function of its own.
// STREAM_C: C is written by streaming stores (see streams_output), add_c being false.
template <int ROWS, int NR, bool STREAM_C>
[[gnu::flatten]] void short_sum_panels(int rows, int panels, int kc, const float* a_rows, const float* packed_b,
                                       float* c, long ldc, bool add_c, ABlockPrefetch& next_a) {
    if constexpr (ROWS > 1) {
        if (rows < ROWS)
            return short_sum_panels<ROWS - 1, NR, STREAM_C>(rows, panels, kc, a_rows, packed_b, c, ldc, add_c, next_a);
    }
    for (int p = 0; p < panels; ++p) {
        next_a.next_share();
        micro_kernel<ROWS, false, NR / kVector, STREAM_C>(kc, a_rows, kShortRow,
                                                          packed_b + static_cast<long>(p) * kc * NR, NR, c + p * NR,
                                                          ldc, add_c);
    }
}

template <int MR, int NR>
void short_sum_row_panel(int rows, int panels, int kc, const float* a, long lda, const float* packed_b, float* c,
                         long ldc, bool add_c, bool stream_c, ABlockPrefetch& next_a) {
    alignas(64) float a_rows[MR * kShortRow];
    for (int r = 0; r < rows; ++r) {
        const float* src = a + r * lda;
        float* dst = a_rows + r * kShortRow;
        // Whole vectors, then the rest. (A plain loop over the kc floats GCC turns into a call of
        // memcpy, which costs more than the copy.)
        int k = 0;
#pragma GCC unroll 4
        for (int v = 0; v < kShortRow / kVector; ++v)
            if (k + kVector <= kc) std::memcpy(dst + k, src + k, sizeof(float) * kVector), k += kVector;
        for (; k < kc; ++k) dst[k] = src[k];
    }
    if (stream_c)
        short_sum_panels<MR, NR, true>(rows, panels, kc, a_rows, packed_b, c, ldc, false, next_a);
    else
        short_sum_panels<MR, NR, false>(rows, panels, kc, a_rows, packed_b, c, ldc, add_c, next_a);
}

// ---- packing ----
// The packed B block is op(B)[pc:pc+kc, jc:jc+nc] cut into panels of NR columns (the tile's):
// element (k, j) of panel p sits at dst[(p * kc + k) * NR + j]. Columns past the edge of B are
// zero, so the micro-kernel always runs full width.

// B stored (K x N): row k of the block, the piece src[0:nc] of a row of B, dealt out to the panels.
// Whole rows are read in order, the pattern the hardware prefetcher follows best.
template <int NR>
void pack_b_row(const float* src, int nc, int kc, float* dst) {
    for (int j0 = 0; j0 < nc; j0 += NR, dst += static_cast<long>(kc) * NR) {
        const int cols = std::min(NR, nc - j0);
        if (cols == NR) {
            for (int j = 0; j < NR; ++j) dst[j] = src[j0 + j];  // fixed length: a few vector moves
        } else {
            for (int j = 0; j < cols; ++j) dst[j] = src[j0 + j];
            for (int j = cols; j < NR; ++j) dst[j] = 0.0f;
        }
    }
}

#if defined(__AVX512F__)
// _mm512_shuffle_f32x4(a, b, LANES), written as its masked form with every float selected: GCC
// 12's plain form passes an uninitialised vector to the masked builtin and warns about it.
template <int LANES>
__m512 shuffle_lanes(__m512 a, __m512 b) {
    return _mm512_mask_shuffle_f32x4(a, 0xFFFF, a, b, LANES);
}

// A 16 x 16 transpose in registers, for packing a transposed B: dst[i * ldd + j] = src[j * lds + i].
// It matters for attention's q k^T, where k^T (hd x T) is packed once per (batch, head) and
// meets only T rows of q: moving the floats one at a time cost a quarter of the product's time.
// Four rounds of 16 two-source shuffles. The first two stay inside each 128-bit lane (l = 0..3,
// columns 4 l to 4 l + 3) and transpose the 4 x 4 blocks there, for the rows in groups of four
// (g = 0..3, rows 4 g to 4 g + 3): afterwards register 4 g + m holds, in lane l, column 4 l + m
// of group g's rows. The last two move whole lanes (shuffle_f32x4), gathering lane l of the
// four groups: column 4 l + m. On Zen 4, packing a 128 x 32 k^T (16 transposes) took 300 ns
// this way against 400 with four rounds of lane-crossing permutes (vpermt2ps, the version until
// session 23), in a scratch program that timed both in one process, not committed.
void transpose_16x16(const float* src, long lds, float* dst, long ldd) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * lds);
    // Per lane, pairs of rows: t[i] = (r_i[0], r_i[1], r_i+1[0], r_i+1[1]), t[i + 1] the same for
    // columns 2 and 3.
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_shuffle_ps(r[i], r[i + 1], 0x44);
        t[i + 1] = _mm512_shuffle_ps(r[i], r[i + 1], 0xEE);
    }
    // Per lane, the two pairs of a group: (r_4g[m], r_4g+1[m], r_4g+2[m], r_4g+3[m]).
    for (int g = 0; g < 16; g += 4)
        for (int half = 0; half < 2; ++half) {  // columns 0 and 1, then 2 and 3
            r[g + 2 * half] = _mm512_shuffle_ps(t[g + half], t[g + 2 + half], 0x88);
            r[g + 2 * half + 1] = _mm512_shuffle_ps(t[g + half], t[g + 2 + half], 0xDD);
        }
    for (int m = 0; m < 4; ++m) {
        const __m512 g01_low = shuffle_lanes<0x44>(r[m], r[4 + m]);   // lanes 0, 1 of groups 0, 1
        const __m512 g01_high = shuffle_lanes<0xEE>(r[m], r[4 + m]);  // lanes 2, 3
        const __m512 g23_low = shuffle_lanes<0x44>(r[8 + m], r[12 + m]);
        const __m512 g23_high = shuffle_lanes<0xEE>(r[8 + m], r[12 + m]);
        t[m] = shuffle_lanes<0x88>(g01_low, g23_low);         // lane 0 of every group
        t[4 + m] = shuffle_lanes<0xDD>(g01_low, g23_low);     // lane 1
        t[8 + m] = shuffle_lanes<0x88>(g01_high, g23_high);   // lane 2
        t[12 + m] = shuffle_lanes<0xDD>(g01_high, g23_high);  // lane 3
    }
    for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * ldd, t[i]);
}
#endif

// B stored (N x K): panel column j is the piece src[j * ldb + 0 : kc] of row j of B, so packing
// is a transpose of a cols x kc block.
template <int NR>
void pack_b_transposed_panel(const float* src, long ldb, int cols, int kc, float* dst) {
    int k0 = 0;
#if defined(__AVX512F__)
    if (cols == NR)  // NR is 32 or 48: whole 16 x 16 blocks
        for (; k0 + 16 <= kc; k0 += 16)
            for (int j0 = 0; j0 < NR; j0 += 16) transpose_16x16(src + j0 * ldb + k0, ldb, dst + k0 * NR + j0, NR);
#endif
    for (int j = 0; j < cols; ++j)
        for (int k = k0; k < kc; ++k) dst[k * NR + j] = src[j * ldb + k];
    for (int k = 0; k < kc; ++k)
        for (int j = cols; j < NR; ++j) dst[k * NR + j] = 0.0f;
}

// Packs op(B)[pc0:pc_end, jc:jc+nc] slice by slice in one pass, shared among the threads when
// `parallel`: slice s (rows pc0 + s slice ..) at dst + s * slice * panels * NR, each slice as above.
template <int NR>
void pack_b_slices(bool trans_b, const float* B, long ldb, int pc0, int pc_end, int slice, int jc, int nc,
                   float* dst, bool parallel) {
    const int panels = (nc + NR - 1) / NR;
    const long slice_stride = static_cast<long>(slice) * panels * NR;
    auto slice_rows = [&](int s) { return std::min(slice, pc_end - (pc0 + s * slice)); };  // kc of slice s
    if (!trans_b) {
        for_range(pc_end - pc0, parallel, [&](int kk) {
            const int s = kk / slice, k = kk % slice;
            pack_b_row<NR>(B + (pc0 + kk) * ldb + jc, nc, slice_rows(s), dst + s * slice_stride + k * NR);
        });
    } else {
        const int slices = (pc_end - pc0 + slice - 1) / slice;
        for_range(slices * panels, parallel, [&](int u) {
            const int s = u / panels, p = u % panels, kc = slice_rows(s);
            pack_b_transposed_panel<NR>(B + (jc + p * NR) * ldb + pc0 + s * slice, ldb, std::min(NR, nc - p * NR), kc,
                                        dst + s * slice_stride + static_cast<long>(p) * kc * NR);
        });
    }
}

// dst[0:rows] = src[0:rows], rows <= MR: the MR floats of one k of a transposed A panel.
template <int MR>
void copy_a_row(const float* src, int rows, float* dst) {
    if (rows == MR)
        std::memcpy(dst, src, sizeof(float) * MR);  // a constant size: inlined, no call
    else
        std::memcpy(dst, src, sizeof(float) * rows);
}

// Copies the A panel op(A)[i0:i0+rows, pc:pc+kc] keeping its layout; returns its new leading
// dimension: rows of kc floats (A stored M x K), or kc rows of MR floats (A stored K x M).
template <int MR>
long pack_a_panel(bool trans_a, const float* A, long lda, int i0, int rows, int pc, int kc, float* dst) {
    if (!trans_a) {
        for (int r = 0; r < rows; ++r) std::memcpy(dst + r * kc, A + (i0 + r) * lda + pc, sizeof(float) * kc);
        return kc;
    }
    for (int k = 0; k < kc; ++k) copy_a_row<MR>(A + (pc + k) * lda + i0, rows, dst + k * MR);
    return MR;
}

// A growable 64-byte-aligned scratch area. One per thread (thread_local below), reused from call
// to call, so the hot path does not allocate once the buffers have reached their working size.
class Scratch {
public:
    float* get(size_t n) {
        if (buf_.size() < n + kLineFloats) buf_.resize(n + kLineFloats);  // room to align the start
        void* p = buf_.data();
        size_t space = buf_.size() * sizeof(float);
        return static_cast<float*>(std::align(64, n * sizeof(float), p, space));
    }

private:
    std::vector<float> buf_;
};
thread_local Scratch t_packed_b;        // the B block, owned by the thread that calls gemm
thread_local Scratch t_packed_a;        // the A panel, one per worker thread
thread_local Scratch t_packed_a_slices;  // a transposed A's slices, owned by the calling thread

// A transposed A (stored K x M) is packed for all row panels at once, slice by slice: rows
// pc..pc+kc of A are contiguous, so they are read in order, one whole row of M floats at a time,
// and dealt out MR floats to each row panel. (Packed panel by panel, each panel read MR floats
// from each of kc rows M floats apart; the prefetcher followed that badly, and the packing took
// a quarter of the time of X^T dY, the weight gradients.) Layout: slice s (rows pc0 + s slice..),
// row panel ip, row k of the slice: dst[s * M_panels + ip * a_panel_floats(kc, MR) + k * MR + r],
// with M_panels = a_slice_floats(row_panels, MR, slice) floats per whole slice; a short last
// slice has the same stride.
// The panels are a cache line more than kc * MR floats apart. Each row of A writes MR floats (48
// bytes) to every panel in turn, and a line of a panel is completed only by the next row; panels
// exactly 12 KB apart (kc = 256, MR = 12) would all fall on the same L1 sets, 16 of them (M =
// 192) against 8 ways, and evict each other's half-written lines between two rows. The gap moves
// each panel to the next sets. make gemm-ab REV=8f098a2 on Zen 4: X^T dY with 192 x 192 1.03x
// as fast on 1 and on 2 threads, the other weight gradients 1.00-1.01x; packing A took 3.4% of
// the samples instead of 5.1% (perf record, 192 x 192, both versions in one program); small
// steps 1.002-1.006x, within the noise (experiments/results/speed/a-panel-gap-8f098a2.md). B's
// panels need no gap: each of its rows writes whole lines (32 floats) to every panel, and packing
// B took as long with one.
long a_panel_floats(int kc, int mr) { return static_cast<long>(kc) * mr + kLineFloats; }
long a_slice_floats(int row_panels, int mr, int slice) { return row_panels * a_panel_floats(slice, mr); }

template <int MR>
void pack_a_slices(const float* A, long lda, int M, int pc0, int pc_end, int slice, float* dst, bool parallel) {
    const int row_panels = (M + MR - 1) / MR;
    const long slice_stride = a_slice_floats(row_panels, MR, slice);
    for_range(pc_end - pc0, parallel, [&](int kk) {
        const int s = kk / slice, k = kk % slice;
        const int kc = std::min(slice, pc_end - (pc0 + s * slice));
        const float* src = A + static_cast<long>(pc0 + kk) * lda;
        float* row_k = dst + s * slice_stride + static_cast<long>(k) * MR;  // row k of the slice, panel 0
        for (int ip = 0; ip < row_panels; ++ip)
            copy_a_row<MR>(src + ip * MR, std::min(MR, M - ip * MR), row_k + ip * a_panel_floats(kc, MR));
    });
}

// The blocked product with MR x NR register tiles, K >= 1; `parallel` lets the row panels be
// shared among the OpenMP threads (off when the caller already runs one product per thread, as
// gemm_batched does).
template <int MR, int NR>
void gemm_tiled(bool trans_a, bool trans_b, int M, int N, int K, const float* A, long lda, const float* B, long ldb,
                float* C, long ldc, bool accumulate, bool parallel, bool stream_c) {
    const int row_panels = (M + MR - 1) / MR;
    // A is reused once per B panel: worth packing only when there is more than one, and only if
    // its rows are not already one contiguous block (lda = K), or short: rows of at most
    // kShortRow floats (attention's heads, hd = 32) take 12 x 4 cache lines, which stay in L1
    // together whatever the stride (12 ways per set). (Those short rows are copied by
    // short_sum_row_panel instead, for the kernel's constant strides, when A is stored M x K.)
    const int slice = slice_length(K, N);
    // Slices longer than kKC are there to be read in place (slice_length); slices of kKC are
    // packed when there are several.
    const bool pack_a = N > NR && (trans_a || (K > slice && slice == kKC) || (lda != K && K > kShortRow));
    for (int jc = 0; jc < N; jc += kNC) {
        const int nc = std::min(kNC, N - jc);
        const int col_panels = (nc + NR - 1) / NR;
        // Slices per group: as many as kBBudget holds. If C stays in L2, each thread runs through
        // the group's slices in order over its own row panels, and the threads meet after
        // packing and at the end of the group only, not at every slice (the weight gradients
        // X^T dY have K = B T = 2048 rows to sum: 8 slices). Else each row panel goes through
        // the group's slices while its C tile is in L1.
        const bool c_fits_l2 = static_cast<double>(M) * nc <= kBBudget;
        const int group = std::max(1, kBBudget / (slice * col_panels * NR));
        for (int pc0 = 0; pc0 < K; pc0 += group * slice) {
            const int pc_end = std::min(K, pc0 + group * slice);
            // A B that is one whole panel wide is read in place, its rows ldb floats apart (see
            // "Packing" at the top): attention's v, k, q and dO heads (T x hd, leading dim d).
            const bool b_in_place = !trans_b && N == NR;
            // A sum of at most kShortRow terms (attention's hd = 32) over more than one B panel
            // (so B is packed): a row panel per call (short_sum_row_panel).
            const bool short_rows = !trans_a && K <= kShortRow && N > NR;
            const long b_row_stride = b_in_place ? ldb : NR;
            float* a_slices = nullptr;
            if (pack_a && trans_a) {
                const int slices = (pc_end - pc0 + slice - 1) / slice;  // this group's, not `group`: K may be shorter
                a_slices = t_packed_a_slices.get(static_cast<size_t>(slices) * a_slice_floats(row_panels, MR, slice));
                pack_a_slices<MR>(A, lda, M, pc0, pc_end, slice, a_slices, parallel);
            }
            float* buffer = nullptr;
            if (!b_in_place) {
                buffer = t_packed_b.get(static_cast<size_t>(pc_end - pc0) * col_panels * NR);
                pack_b_slices<NR>(trans_b, B, ldb, pc0, pc_end, slice, jc, nc, buffer, parallel);
            }
            // Row panel ip of C += its product with slice pc of the sum, while the A block of
            // (next_ip, next_pc), the next call's, is prefetched (next_ip = row_panels: none).
            auto multiply = [&](int ip, int pc, int next_ip, int next_pc) {
                const int i0 = ip * MR;
                const int rows = std::min(MR, M - i0);
                const int kc = std::min(slice, K - pc);
                const bool add_c = accumulate || pc > 0;  // later slices add onto the earlier ones
                const float* packed_b =
                    b_in_place ? B + pc * ldb : buffer + static_cast<long>(pc - pc0) * col_panels * NR;
                const float* a = trans_a ? A + pc * lda + i0 : A + i0 * lda + pc;
                long a_ld = lda;
                if (a_slices) {
                    a = a_slices + (pc - pc0) / slice * a_slice_floats(row_panels, MR, slice) +
                        ip * a_panel_floats(kc, MR);
                    a_ld = MR;
                } else if (pack_a) {
                    float* panel = t_packed_a.get(static_cast<size_t>(MR) * kc);
                    a_ld = pack_a_panel<MR>(trans_a, A, lda, i0, rows, pc, kc, panel);
                    a = panel;
                }
                const bool prefetch_next = !pack_a && !trans_a && next_ip < row_panels;
                ABlockPrefetch next_a(A, lda, next_ip * MR, prefetch_next ? std::min(MR, M - next_ip * MR) : 0, next_pc,
                                      std::min(slice, K - next_pc), col_panels);
                int p = 0;
                if (short_rows) {  // the whole panels in one call
                    p = std::min(col_panels, (N - jc) / NR);
                    short_sum_row_panel<MR, NR>(rows, p, kc, a, a_ld, packed_b, C + i0 * ldc + jc, ldc, add_c,
                                                stream_c && !add_c, next_a);
                }
                for (; p < col_panels; ++p) {
                    next_a.next_share();
                    const int j0 = jc + p * NR;
                    compute_tile<MR, NR>(rows, std::min(NR, N - j0), trans_a, kc, a, a_ld, packed_b + p * kc * NR,
                                         b_row_stride, C + i0 * ldc + j0, ldc, add_c);
                }
            };
            if (c_fits_l2) {  // slices outer; worker w owns row panels [first, last)
                const int workers = parallel ? std::min(row_panels, omp_get_max_threads()) : 1;
                for_range(workers, parallel, [&](int w) {
                    const int first = row_panels * w / workers, last = row_panels * (w + 1) / workers;
                    for (int pc = pc0; pc < pc_end; pc += slice)
                        for (int ip = first; ip < last; ++ip)
                            if (ip + 1 < last)
                                multiply(ip, pc, ip + 1, pc);
                            else  // then the first panel, next slice (if any)
                                multiply(ip, pc, pc + slice < pc_end ? first : row_panels, pc + slice);
                    if (stream_c) finish_streaming_stores();
                });
            } else {  // row panels outer
                for_range(row_panels, parallel, [&](int ip) {
                    for (int pc = pc0; pc < pc_end; pc += slice)
                        if (pc + slice < pc_end)
                            multiply(ip, pc, ip, pc + slice);
                        else
                            multiply(ip, pc, ip + 1, pc0);
                    if (stream_c) finish_streaming_stores();
                });
            }
        }
    }
}

// The blocked product with the tile for N (see kWideNR), K >= 1.
void gemm_tiles_for_n(bool trans_a, bool trans_b, int M, int N, int K, const float* A, long lda, const float* B,
                      long ldb, float* C, long ldc, bool accumulate, bool parallel, bool stream_c) {
    if (wide_tiles(N))
        gemm_tiled<kWideMR, kWideNR>(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, parallel,
                                     stream_c);
    else
        gemm_tiled<kMR, kNR>(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, parallel, stream_c);
}

// ---- long sums into a small C: the sum cut into chunks ----
// The weight gradients X^T dY sum over every token of the batch (K = B T = 2048 in the small
// preset) into a C of few rows: d = 192 rows, 16 row panels, for the weights that read x. Split
// over those few row panels, two threads meet three times per group of slices (after packing A,
// after packing B, at the end), and each reads half of every packed B block from the other
// core's cache. So a sum of more than kChunk terms into at most kChunkMaxRows rows (and a C of at
// most kBBudget floats) is cut into chunks of kChunk terms (the last one shorter), each a whole
// product of its own: chunk 0 into C, chunk c into its own buffer; then C += chunk 1 + chunk 2 +
// ... in that order. Whether and where the sum is cut depends on M, N and K only, so the bits of C
// are the same for any number of threads. When the threads can share the chunks evenly, each
// chunk runs on one thread: packing and arithmetic from its own caches, one meeting at the end.
// Otherwise the chunks run one after the other, each split over its row panels. A sum of more
// than kMaxChunks kChunk terms takes kMaxChunks longer chunks: the buffers stay within 4 MB.
// Measured with make gemm-ab on 2 threads (Zen 4): the small preset's X^T dY with 192 rows
// 1.03-1.05x as fast in quiet minutes, 1.46-1.58x in spells where the row split slowed down
// (the chunks share nothing between the cores until the final sum); with 512 or 768 rows (the
// FFN's output weights, 43 or 64 row panels to share) 0.96-0.97x, hence kChunkMaxRows
// (experiments/results/speed/chunked-sums-cbca433.md).
//
// Transposed chunks. A tall, narrow C such as those (512 or 768 x 192) is cut all the same, but
// each chunk computes its piece of the transpose, C^T = op(B)^T op(A)^T (192 x 768: the shape of
// the FFN's input weights' gradient, few rows and wide panels), into a buffer of its own, and the
// final sum adds the chunks' transposes into C. make gemm-ab on Zen 4: those two products
// 1.03-1.07x as fast on 2 threads and 1.04-1.09x on 1 (no other product takes this path); small
// steps within the noise, 0.995-1.019x (experiments/results/speed/transposed-chunks-09acd0c.md).
constexpr int kChunk = 1024;
constexpr int kMaxChunks = 4;
constexpr int kChunkMaxRows = 256;

bool chunked_sum(int M, int N, int K) {
    return K > kChunk && M <= kChunkMaxRows && static_cast<long>(M) * N <= kBBudget;
}

// A sum whose transpose is chunked, and not itself.
bool transposed_chunked_sum(int M, int N, int K) { return !chunked_sum(M, N, K) && chunked_sum(N, M, K); }

// Terms per chunk: kChunk, or more when that would make more than kMaxChunks chunks.
int chunk_length(int K) { return std::max(kChunk, (K + kMaxChunks - 1) / kMaxChunks); }

thread_local Scratch t_chunk_sums;  // the chunks' buffers, owned by the thread that calls gemm

// C (M x N, ld ldc) += chunks 1, 2, ... in that order, chunk c at partial + (c - 1) M N (ld N).
void add_chunks(int M, int N, int chunks, const float* partial, float* C, long ldc, bool parallel) {
    const long c_floats = static_cast<long>(M) * N;
    for_range(M, parallel, [&](int i) {
        float* ci = C + i * ldc;
        for (int c = 1; c < chunks; ++c) {
            const float* pi = partial + (c - 1) * c_floats + static_cast<long>(i) * N;
#pragma omp simd
            for (int j = 0; j < N; ++j) ci[j] += pi[j];
        }
    });
}

// C (M x N, ld ldc) = (accumulate ? C : 0) + the sum of the chunks' transposes, in chunk order,
// chunk c's C^T (N x M) at partial + c M N (ld M). A block of 16 x 16 at a time: C^T's columns,
// M floats apart, would otherwise be read one float per cache line.
void add_transposed_chunks(int M, int N, int chunks, const float* partial, float* C, long ldc, bool accumulate,
                           bool parallel) {
    constexpr int kSide = 16;
    const long c_floats = static_cast<long>(M) * N;
    for_range((M + kSide - 1) / kSide, parallel, [&](int block) {
        const int i0 = block * kSide, rows = std::min(kSide, M - i0);
        for (int j0 = 0; j0 < N; j0 += kSide) {
            const int cols = std::min(kSide, N - j0);
            float sum[kSide][kSide] = {};  // sum[jj][ii]: element (i0 + ii, j0 + jj) of C
            for (int c = 0; c < chunks; ++c)
                for (int jj = 0; jj < cols; ++jj) {
                    const float* row = partial + c * c_floats + static_cast<long>(j0 + jj) * M + i0;  // of C^T
#pragma omp simd
                    for (int ii = 0; ii < kSide; ++ii) sum[jj][ii] += ii < rows ? row[ii] : 0.0f;
                }
            for (int ii = 0; ii < rows; ++ii) {
                float* ci = C + (i0 + ii) * ldc + j0;
                for (int jj = 0; jj < cols; ++jj) ci[jj] = accumulate ? ci[jj] + sum[jj][ii] : sum[jj][ii];
            }
        }
    });
}

// The sum cut into chunks, each chunk's product of C, or of C^T when `transposed`.
void gemm_chunked(bool trans_a, bool trans_b, int M, int N, int K, const float* A, long lda, const float* B,
                  long ldb, float* C, long ldc, bool accumulate, bool parallel, bool transposed) {
    const int length = chunk_length(K), chunks = (K + length - 1) / length;
    const long c_floats = static_cast<long>(M) * N;
    // Chunk 0 goes straight into C unless transposed: then every chunk has a buffer.
    const int buffers = transposed ? chunks : chunks - 1;
    float* partial = t_chunk_sums.get(static_cast<size_t>(buffers) * c_floats);
    auto sum_chunk = [&](int c, bool parallel_inside) {
        const int k0 = c * length, kc = std::min(length, K - k0);
        const float* a = trans_a ? A + k0 * lda : A + k0;  // op(A)[:, k0:k0+kc]
        const float* b = trans_b ? B + k0 : B + k0 * ldb;  // op(B)[k0:k0+kc, :]
        if (transposed) {  // (N x M) = op(B)^T op(A)^T, ld M
            gemm_tiles_for_n(!trans_b, !trans_a, N, M, kc, b, ldb, a, lda, partial + c * c_floats, M, false,
                             parallel_inside, false);
        } else {
            float* dst = c == 0 ? C : partial + (c - 1) * c_floats;
            gemm_tiles_for_n(trans_a, trans_b, M, N, kc, a, lda, b, ldb, dst, c == 0 ? ldc : N, c == 0 && accumulate,
                             parallel_inside, false);
        }
    };
    const int threads = parallel ? omp_get_max_threads() : 1;
    if (threads > 1 && chunks % threads == 0)
        for_range(chunks, true, [&](int c) { sum_chunk(c, false); });
    else
        for (int c = 0; c < chunks; ++c) sum_chunk(c, parallel);
    if (transposed)
        add_transposed_chunks(M, N, chunks, partial, C, ldc, accumulate, parallel);
    else
        add_chunks(M, N, chunks, partial, C, ldc, parallel);
}

// The blocked product, and the cases with nothing to sum.
void gemm_blocked(bool trans_a, bool trans_b, int M, int N, int K, const float* A, long lda, const float* B,
                  long ldb, float* C, long ldc, bool accumulate, bool parallel, bool stream_c) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {  // an empty sum
        if (!accumulate)
            for (int i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, 0.0f);
        return;
    }
    const bool transposed = transposed_chunked_sum(M, N, K);
    if (transposed || chunked_sum(M, N, K))
        gemm_chunked(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, parallel, transposed);
    else
        gemm_tiles_for_n(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, parallel, stream_c);
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda, const float* B, int ldb,
          float* C, int ldc, bool accumulate) {
    const bool parallel = static_cast<double>(M) * N * K >= kMinParallelWork;
    const bool stream_c = streams_output(1, M, N, K, C, ldc, 0, accumulate);
    gemm_blocked(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, parallel, stream_c);
}

void gemm_batched(int count, bool trans_a, bool trans_b, int M, int N, int K, const float* A, int lda,
                  long stride_a, const float* B, int ldb, long stride_b, float* C, int ldc, long stride_c,
                  bool accumulate) {
    // Many items (attention: batch x heads): one whole product per thread, no sharing inside an
    // item. Few items: one after the other, each split over its row panels. Either way each
    // element of C is computed by the same code in the same order, so the bits are the same.
    const double work = static_cast<double>(M) * N * K;  // per item
    const bool by_item = count >= 2 * omp_get_max_threads();
    const bool stream_c = streams_output(count, M, N, K, C, ldc, stride_c, accumulate);
    if (by_item) {
        for_range(count, work * count >= kMinParallelWork, [&](int i) {
            gemm_blocked(trans_a, trans_b, M, N, K, A + i * stride_a, lda, B + i * stride_b, ldb, C + i * stride_c,
                         ldc, accumulate, false, stream_c);
        });
    } else {
        for (int i = 0; i < count; ++i)
            gemm_blocked(trans_a, trans_b, M, N, K, A + i * stride_a, lda, B + i * stride_b, ldb, C + i * stride_c,
                         ldc, accumulate, work >= kMinParallelWork, stream_c);
    }
}

const char* gemm_kernel_name() { return kKernelName; }

}  // namespace glulab
