// attention.cpp — causal scaled dot-product attention for every head at once, fused per
// (batch, head): Vaswani et al., "Attention Is All You Need" (2017), section 3.2.1:
//     Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V                                  (eq. 1)
// with d_k = hd and the decoder's causal mask: query i sees keys 0..i (section 3.2.3).
//
// Legend (tensor.h): B batch, T context, d model width, H heads, hd = d / H head width.
//
// The same numbers as causal_attention_reference() in src/nn/attention.cpp (read that first: it
// composes split_heads, matmul, scale, softmax and merge_heads), computed as one op because:
//  - no copies of the heads: q, k, v are (B, T, d) with head h of token t in the columns
//    [h hd, (h + 1) hd) of row t, so one head is a T x hd block with leading dimension d, which
//    gemm reads in place; the output is written straight into its block of (B, T, d), which is
//    Concat(head_1, ..., head_H) without a merge;
//  - one head's T x T scores stay in cache from q k^T through the softmax to the product with v
//    (the composed version writes and reads whole (B, H, T, T) tensors at each of those steps and
//    at the scale, forward and backward, and keeps three of them alive for the backward);
//  - the scale 1 / sqrt(hd) is folded into the softmax's exp and its backward;
//  - the upper triangle (the future, exactly 0 after the mask) is skipped: queries go in
//    blocks of kBlock = 64, and block [i0, i1) needs keys [0, i1) only, which at T = 128 does 3/4
//    of the full products' work (and tends to 1/2 as T grows);
//  - P is kept transposed, keys x queries (P^T, and S^T, dP^T, dS^T likewise), so that the
//    softmax and its backward run down the keys for 16 queries at once, in whole vectors (see
//    softmax_columns). gemm reads a transposed operand by its strides, so the products cost the
//    same either way. Against P by rows, a row softmax at a time (make step-ab, small preset,
//    swiglu, 40-60 paired steps): whole training steps 1.015-1.026 times as fast on 2 threads,
//    1.025-1.026 on 1 (experiments/results/speed/attention-columns-2b4f6c1.md).
// The (batch, head) items are independent: they are shared among the OpenMP threads, and each
// runs its gemm calls on its own thread (gemm.h), so the bits do not depend on the thread count.
// Heads of at most 16 columns (the tiny preset's 12) take a direct path instead of gemm, with the
// same passes: see "small heads" below.
//
// P^T (B, H, T, ldp) is saved for the backward, as the composed version saves softmax's output.
// Not recomputed (FlashAttention's choice): that would save its memory (6 MB per layer in the
// small preset) but cost a third product and all the exps again in the backward. Measured on the
// small preset's shapes (one layer, one thread, each item's P in a per-thread scratch instead;
// P by rows then): the forward was no faster (2.9 ms either way: writing P out is not what limits
// it) and the backward took 5.2 instead of 3.1 ms. Where the forward's time went, measured the
// same way: q k^T 0.75 ms, the softmax by rows 1.5 (its exps alone 0.6), P v 0.75.
// Left out: dropout on P, padding masks, a key/value cache for generation, and FlashAttention's
// online softmax (Dao et al. 2022), which never stores P and pays off only for long contexts.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "glulab/autograd.h"
#include "glulab/gemm.h"
#include "glulab/ops.h"
#include "glulab/thread_scratch.h"
#include "glulab/vecmath.h"

namespace glulab {

namespace {

// Queries per row block, and keys per column block in the backward (the same blocks, so that a
// column block is always inside the computed part of every row block below it; see backward).
// Why 64 and not smaller: a gemm call costs about 0.75 us before any arithmetic (measured on the
// small preset's shapes: mostly entering its OpenMP regions, which run on one thread here), and
// blocks of 32 need twice the calls; their saved work (5/8 instead of 3/4 at T = 128) did not pay
// for that (9.8 against 7.4 ms per layer, forward and backward, one thread). Measured again
// after gemm stopped entering OpenMP for one-thread products (c7183e7): whole training steps
// with 32 and 64, alternated three times, differed by less than the machine's noise.
constexpr int kBlock = 64;

// Below this many multiply-adds (B H T^2 hd) the items run on one thread: a team costs more.
constexpr double kMinParallelWork = 1 << 20;

// Heads of at most kLanes columns take the direct path ("small heads" below): kLanes floats are
// one AVX-512 register, and its register tiles have kTile rows (kTile divides kLanes).
constexpr int kLanes = 16;
constexpr int kTile = 8;
static_assert(kBlock % kLanes == 0, "a block of queries must be whole groups for the column softmax");

// The sizes of one call, and where item (b, h), numbered b H + h, keeps its blocks.
struct AttentionDims {
    int B, T, d, H, hd;
    float c;  // the scale 1 / sqrt(hd)

    // Heads of at most kLanes columns take the direct path, wider ones gemm. On both, P^T and
    // dS^T (keys x queries) have rows of ldp = T rounded up to a multiple of kLanes floats.
    bool direct() const { return hd <= kLanes; }
    int ldp() const { return (T + kLanes - 1) / kLanes * kLanes; }

    int items() const { return B * H; }
    // Item (b, h)'s T x hd block of a (B, T, d) tensor: rows b T.., columns h hd..; leading dim d.
    long head(int item) const { return static_cast<long>(item / H) * T * d + static_cast<long>(item % H) * hd; }
    // Item (b, h)'s T x ldp matrix of P^T (B, H, T, ldp).
    long scores(int item) const { return static_cast<long>(item) * T * ldp(); }
};

// ---- the softmax and its backward, 16 queries at once, down the columns of P^T ----
// Both paths keep P transposed (see the top): the weights of 16 queries for one key are one
// vector, so the softmax runs down the keys for 16 queries at once, whole vectors and no sums
// across lanes (a row at a time, rows 64 keys long on average at T = 128, spends most of its
// time on the sums across lanes and the scalar tails).

// The keys [0, keys) that the query block [i0, i0 + kLanes) sees.
int block_keys(const AttentionDims& n, int i0) { return std::min(n.T, i0 + kLanes); }

// P^T from S^T in place, for the queries i = i0 + l of a group, lane l, down the keys j < keys of
// the columns i0.. (pt, leading dim ldp):
//   P_ij = exp(c (S_ij - m_i)) / sum_{j' <= i} exp(c (S_ij' - m_i)),  m_i = max_{j' <= i} S_ij'   (j <= i)
//   P_ij = 0                                                                                   (j > i)
// Subtracting m_i keeps exp from overflowing (c > 0, so max c S_i = c m_i); j > i is selected
// out, not branched on. Each lane's max and sum go over j in order.
void softmax_columns(float* pt, int ldp, int i0, int keys, float c) {
    float m[kLanes], z[kLanes];
    std::fill(m, m + kLanes, -HUGE_VALF);
    for (int j = 0; j < keys; ++j) {
        const float* s = pt + static_cast<long>(j) * ldp;
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) m[l] = std::max(m[l], j <= i0 + l ? s[l] : -HUGE_VALF);
    }
    std::fill(z, z + kLanes, 0.0f);
    for (int j = 0; j < keys; ++j) {
        float* e = pt + static_cast<long>(j) * ldp;
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) {
            e[l] = j <= i0 + l ? exp_approx(c * (e[l] - m[l])) : 0.0f;
            z[l] += e[l];
        }
    }
    for (int l = 0; l < kLanes; ++l) z[l] = 1.0f / z[l];  // z >= 1: the max term is exp(0)
    for (int j = 0; j < keys; ++j) {
        float* e = pt + static_cast<long>(j) * ldp;
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) e[l] *= z[l];
    }
}

// dS^T from dP^T in place, the same lanes and keys. P_i = softmax(c S_i) gives
//   dS_ij = c P_ij (dP_ij - sum_j' dP_ij' P_ij')   (j <= i),   0 (j > i, also where dP overflowed)
// (softmax's Jacobian diag(P) - P P^T, times c for the scale inside).
void softmax_backward_columns(const float* pt, float* dst, int ldp, int i0, int keys, float c) {
    float s[kLanes] = {};
    for (int j = 0; j < keys; ++j) {
        const float *p = pt + static_cast<long>(j) * ldp, *dp = dst + static_cast<long>(j) * ldp;
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) s[l] += j <= i0 + l ? dp[l] * p[l] : 0.0f;
    }
    for (int j = 0; j < keys; ++j) {
        const float* p = pt + static_cast<long>(j) * ldp;
        float* ds = dst + static_cast<long>(j) * ldp;
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) ds[l] = j <= i0 + l ? c * p[l] * (ds[l] - s[l]) : 0.0f;
    }
}

// Zero for the keys [from, to) of the 16 queries at i0 (their future): the products after the
// softmax read whole blocks of keys.
void zero_keys(float* pt, int ldp, int i0, int from, int to) {
    for (int j = from; j < to; ++j) std::fill_n(pt + static_cast<long>(j) * ldp + i0, kLanes, 0.0f);
}

// Zero for the padding queries [T, ldp) of every key: when kLanes does not divide T, the last
// group of 16 queries runs past T, and gemm writes only the queries that exist.
void zero_padding(const AttentionDims& n, float* pt) {
    for (int j = 0; j < n.T; ++j) std::fill(pt + static_cast<long>(j) * n.ldp() + n.T, pt + (j + 1L) * n.ldp(), 0.0f);
}

// P^T (or dS^T) for the query block [i0, i1) from S^T (or dP^T), whose keys [0, i1) gemm wrote:
// each group of 16 queries through `column_op`, then zero past the group's diagonal block.
template <class ColumnOp>
void block_softmax(const AttentionDims& n, int i0, int i1, float* pt, ColumnOp column_op) {
    for (int g0 = i0; g0 < i1; g0 += kLanes) {
        const int keys = block_keys(n, g0);
        column_op(g0, keys);
        zero_keys(pt, n.ldp(), g0, keys, i1);
    }
}

// ---- forward, one (batch, head) item ----
// S^T = k q^T (keys x queries), P^T = its causal softmax down each column, O = P v (T x hd), one
// block of queries [i0, i1) at a time, which sees the keys [0, i1):
//   S^T[0:i1, i0:i1] = k[0:i1] q[i0:i1]^T          (i1 x rows)   written into P^T's columns
//   P^T[0:i1, i0:i1] = softmax_columns, 16 queries at a time
//   O[i0:i1]         = P^T[0:i1, i0:i1]^T v[0:i1]  (rows x hd)   the keys >= i1 have P = 0
// q, k, v, o: T x hd blocks with leading dim d; pt: T x ldp.
void forward_item(const AttentionDims& n, const float* q, const float* k, const float* v, float* pt, float* o) {
    const int T = n.T, ld = n.d, hd = n.hd, ldp = n.ldp();
    if (ldp > T) zero_padding(n, pt);
    for (int i0 = 0; i0 < T; i0 += kBlock) {
        const int i1 = std::min(T, i0 + kBlock), rows = i1 - i0;
        gemm(false, true, i1, rows, hd, k, ld, q + static_cast<long>(i0) * ld, ld, pt + i0, ldp, false);
        block_softmax(n, i0, i1, pt, [&](int g0, int keys) { softmax_columns(pt + g0, ldp, g0, keys, n.c); });
        gemm(true, false, rows, hd, i1, pt + i0, ldp, v, ld, o + static_cast<long>(i0) * ld, ld, false);
    }
}

// The gradients to write, each with its flag `accumulate` (add, or assign the first gradient to
// arrive: TensorImpl::grad_buffer); data is null for an input that needs none.
struct AttentionGrads {
    TensorImpl::GradBuffer dq, dk, dv;

    // The same buffers moved to the block at `offset` (one item's head).
    AttentionGrads at(long offset) const {
        auto shift = [offset](TensorImpl::GradBuffer g) {
            return TensorImpl::GradBuffer{g.data ? g.data + offset : nullptr, g.accumulate};
        };
        return {shift(dq), shift(dk), shift(dv)};
    }
};

// ---- backward, one (batch, head) item ----
// From O = P v, P = causal softmax(c S), S = q k^T, and dO (T x hd):
//   dv = P^T dO                           (T x hd)
//   dP = dO v^T                           (T x T)
//   dS = c P ⊙ (dP - rowsum(dP ⊙ P))      (T x T)   softmax_backward_columns, on the transposes
//   dq = dS k,   dk = dS^T q              (T x hd)
// Pass 1, by query blocks [i0, i1) over keys [0, i1): dP^T and dS^T into the scratch ds (T x
// ldp), and dq[i0:i1] = dS^T[0:i1, i0:i1]^T k[0:i1].
// Pass 2, by key blocks [j0, j1), which only queries [j0, T) see: dk[j0:j1] = dS^T[j0:j1, j0:T]
// q[j0:T] and dv[j0:j1] = P^T[j0:j1, j0:T] dO[j0:T]. Those entries were set in pass 1 (and in the
// forward): query i >= j0 lies in a block ending at or after j1, since blocks have the same size
// and start, and every key before a block's end is set for each of its queries.
// Each gradient block is written by one gemm with its whole sum: added to the gradient there, or
// assigned when it is the first (so a new buffer needs no zeroing).
void backward_item(const AttentionDims& n, const float* q, const float* k, const float* v, const float* pt,
                   const float* dout, const AttentionGrads& g, float* ds) {
    const int T = n.T, ld = n.d, hd = n.hd, ldp = n.ldp();
    if (g.dq.data || g.dk.data) {
        if (ldp > T) zero_padding(n, ds);
        for (int i0 = 0; i0 < T; i0 += kBlock) {
            const int i1 = std::min(T, i0 + kBlock), rows = i1 - i0;
            gemm(false, true, i1, rows, hd, v, ld, dout + static_cast<long>(i0) * ld, ld, ds + i0, ldp, false);  // dP^T
            block_softmax(n, i0, i1, ds, [&](int g0, int keys) {
                softmax_backward_columns(pt + g0, ds + g0, ldp, g0, keys, n.c);
            });
            if (g.dq.data)
                gemm(true, false, rows, hd, i1, ds + i0, ldp, k, ld, g.dq.data + static_cast<long>(i0) * ld, ld,
                     g.dq.accumulate);
        }
    }
    for (int j0 = 0; j0 < T; j0 += kBlock) {
        const int cols = std::min(T, j0 + kBlock) - j0, seen_by = T - j0;
        const long at = static_cast<long>(j0) * ldp + j0;  // element (j0, j0) of a T x ldp matrix
        const long row = static_cast<long>(j0) * ld;       // row j0 of a T x hd block
        if (g.dk.data)
            gemm(false, false, cols, hd, seen_by, ds + at, ldp, q + row, ld, g.dk.data + row, ld, g.dk.accumulate);
        if (g.dv.data)
            gemm(false, false, cols, hd, seen_by, pt + at, ldp, dout + row, ld, g.dv.data + row, ld, g.dv.accumulate);
    }
}

// ---- small heads: the direct path ----
// For hd <= kLanes = 16: the tiny preset (hd = 12, T = 64). There gemm fits these products badly:
// its 12 x 32 register tiles see K = 12 in q k^T and N = 12 in the other products, so every tile
// goes through its scratch-tile path, the transposes are packed one float at a time, and each
// call costs about 0.75 us before any arithmetic; and the softmax, then a row at a time (rows 33
// keys long on average), spent most of its 90 ns per row on scalar tails and sums across lanes.
// The tiny preset's items took about 9.5 us forward and 10 us backward each (the op on one
// thread, the fastest of 300 calls), and the op 30% of a training step. The same passes, done
// differently:
//  - Queries go in blocks [i0, i0 + 16) with keys [0, i0 + 16) (2560 of the 4096 pairs at T =
//    64; entries of P^T outside the blocks are not written, and not read), each through the
//    column softmax. (This path is where P^T began; the gemm path took it over later.)
//  - One kernel for all six products, tile_product: an 8 x 16 tile of the result in registers,
//    each element summed over t in order; X read with any strides, Y 16 contiguous floats per t.
//      product                      tile rows   lanes        t          X                  Y
//      S^T = k q^T, dP^T = v dO^T   8 keys      16 queries   c < hd     k, v in place      q^T, dO^T (hd x ldp)
//      O = P v, dq = dS k           8 queries   c            key j      P^T, dS^T columns  v, k padded
//      dv = P^T dO, dk = dS^T q     8 keys      c            query i    P^T, dS^T rows     dO, q padded
//    (padded: T x kLanes, lanes c >= hd zero, and not stored).
// Measured the same way: 3.4 us forward and 4.3 us backward per item (2.8x and 2.3x faster). Of
// the forward, 1.9 us go to the softmax, most of it to its 2560 exps (exp_approx takes about
// 7 ns per 16 here); 0.7 us to S^T and 0.65 to O. In training (glulab bench --preset tiny, ten
// rounds alternated with the gemm path) the op's median went from 3.7 to 1.6 ms per step on one
// thread, from 1.9 to 0.8 ms on two.
//
// 512-bit vectors: GCC's tuning for this CPU picks 256-bit ones unless told otherwise (the
// Makefile's -mprefer-vector-width=512), with which this op took 1.5 times as long.

// acc = X Y for one R x kLanes tile, each element summed over t in order:
//   acc[r][l] = sum_{t < K} X[r, t] Y[t, l],   X[r, t] = x[r xr + t xt],   Y[t, l] = y[t yt + l]
// The tile stays in registers (8 AVX-512 ones for R = 8): R independent chains of fused
// multiply-adds, with a broadcast of X[r, t] each and one load of Y[t] for all of them.
template <int R>
void tile_product(int K, const float* x, long xr, long xt, const float* y, long yt, float (&acc)[R][kLanes]) {
    for (int r = 0; r < R; ++r)
        for (int l = 0; l < kLanes; ++l) acc[r][l] = 0.0f;
    for (int t = 0; t < K; ++t) {
        const float* y_t = y + t * yt;
        for (int r = 0; r < R; ++r) {
            const float x_rt = x[r * xr + t * xt];
#pragma omp simd
            for (int l = 0; l < kLanes; ++l) acc[r][l] += x_rt * y_t[l];
        }
    }
}

// The same for rows <= kTile rows, handing row r of the result to put(r, acc_r): a full tile at
// once, a short one (the last, when kTile does not divide T) one row at a time.
template <class Put>
void product_rows(int rows, int K, const float* x, long xr, long xt, const float* y, long yt, Put put) {
    if (rows == kTile) {
        float acc[kTile][kLanes];
        tile_product<kTile>(K, x, xr, xt, y, yt, acc);
        for (int r = 0; r < kTile; ++r) put(r, acc[r]);
    } else {
        for (int r = 0; r < rows; ++r) {
            float acc[1][kLanes];
            tile_product<1>(K, x + r * xr, xr, xt, y, yt, acc);
            put(r, acc[0]);
        }
    }
}

// A put() for product_rows: the first hd lanes into row r of a T x hd block (leading dim ld),
// assigned or added. (Masked lanes, not a loop to hd: GCC makes that a call to memcpy.)
auto into_head(float* out, int ld, int hd, bool accumulate) {
    return [=](int r, const float* acc) {
        float* row = out + static_cast<long>(r) * ld;
#pragma omp simd
        for (int c = 0; c < kLanes; ++c)
            if (c < hd) row[c] = accumulate ? row[c] + acc[c] : acc[c];
    };
}

// One head (T x hd, leading dim d) copied for tile_product's Y: transposed (hd x ldp, queries
// padded with zeros) or padded (T x kLanes, columns hd.. zero). Returns dst.
float* pack_transposed(const AttentionDims& n, const float* a, float* dst) {
    const int ldp = n.ldp();
    for (int c = 0; c < n.hd; ++c)
#pragma omp simd
        for (int i = 0; i < ldp; ++i) dst[c * ldp + i] = i < n.T ? a[static_cast<long>(i) * n.d + c] : 0.0f;
    return dst;
}

float* pack_padded(const AttentionDims& n, const float* a, float* dst) {
    for (int j = 0; j < n.T; ++j) {
        const float* row = a + static_cast<long>(j) * n.d;
#pragma omp simd
        for (int c = 0; c < kLanes; ++c) dst[j * kLanes + c] = c < n.hd ? row[c] : 0.0f;
    }
    return dst;
}

// Room for one item's packed heads: one transposed, up to three padded.
size_t packed_floats(const AttentionDims& n) {
    return static_cast<size_t>(n.hd) * n.ldp() + 3 * static_cast<size_t>(n.T) * kLanes;
}

// S^T or dP^T for the query block at i0: out[j, i0 + l] = sum_c a[j, c] bt[c, i0 + l] for keys
// j < keys, lanes l < kLanes, with a = k or v (T x hd, leading dim d) and bt = q or dO transposed.
// out: T x ldp.
void keys_times_queries(const AttentionDims& n, int i0, int keys, const float* a, const float* bt, float* out) {
    const int ldp = n.ldp();
    for (int j0 = 0; j0 < keys; j0 += kTile) {
        float* out_rows = out + static_cast<long>(j0) * ldp + i0;
        product_rows(std::min(kTile, keys - j0), n.hd, a + static_cast<long>(j0) * n.d, n.d, 1, bt + i0, ldp,
                     [=](int r, const float* s) { std::copy(s, s + kLanes, out_rows + static_cast<long>(r) * ldp); });
    }
}

// O or dq for the query block at i0: out[i] (+)= sum_{j < keys} W[i, j] b[j] for its queries i < T,
// with W = P or dS read from its transpose wt (T x ldp), b = v or k padded, out: T x hd (ld d).
void queries_times_keys(const AttentionDims& n, int i0, int keys, const float* wt, const float* b, float* out,
                        bool accumulate) {
    for (int r0 = i0; r0 < std::min(n.T, i0 + kLanes); r0 += kTile)
        product_rows(std::min(kTile, n.T - r0), keys, wt + r0, 1, n.ldp(), b, kLanes,
                     into_head(out + static_cast<long>(r0) * n.d, n.d, n.hd, accumulate));
}

// ---- forward, one (batch, head) item with hd <= kLanes ----
// forward_item's steps by query blocks [i0, i0 + 16), keys [0, keys), with qt = q transposed and
// vp = v padded; p: P^T, T x ldp:
//   S^T[0:keys, i0:i0+16] = k[0:keys] q[i0:i0+16]^T     keys_times_queries
//   P^T[:, i0:i0+16]      = softmax of each column      softmax_columns
//   O[i0:i0+16]           = P[i0:i0+16, 0:keys] v[0:keys]   queries_times_keys
void forward_item_small(const AttentionDims& n, const float* q, const float* k, const float* v, float* p, float* o,
                        float* packed) {
    const float* qt = pack_transposed(n, q, packed);
    const float* vp = pack_padded(n, v, packed + static_cast<long>(n.hd) * n.ldp());
    for (int i0 = 0; i0 < n.T; i0 += kLanes) {
        const int keys = block_keys(n, i0);
        keys_times_queries(n, i0, keys, k, qt, p);
        softmax_columns(p + i0, n.ldp(), i0, keys, n.c);
        queries_times_keys(n, i0, keys, p, vp, o, false);
    }
}

// ---- backward, one (batch, head) item with hd <= kLanes ----
// backward_item's two passes, with dot = dO transposed, kp, qp, dop = k, q, dO padded, and
// ds: dS^T (T x ldp).
// Pass 1, query blocks [i0, i0 + 16): dP^T[0:keys, i0:i0+16] = v[0:keys] dO[i0:i0+16]^T, dS^T
// by columns, dq[i0:i0+16] (+)= dS[i0:i0+16, 0:keys] k[0:keys].
// Pass 2, key tiles [j0, j0 + 8): dk[j0:j0+8] (+)= dS[j0:T, j0:j0+8]^T q[j0:T] and dv likewise
// with P and dO. Query i >= j0 lies in a block whose keys end at a multiple of 16 above i, so at
// or after j0 + 8 (j0 is a multiple of 8): those entries of dS^T were set in pass 1.
void backward_item_small(const AttentionDims& n, const float* q, const float* k, const float* v, const float* p,
                         const float* dout, const AttentionGrads& g, float* ds, float* packed) {
    const int T = n.T, ldp = n.ldp();
    const long padded = static_cast<long>(T) * kLanes;
    const float* dot = pack_transposed(n, dout, packed);
    float* rest = packed + static_cast<long>(n.hd) * ldp;
    const float* kp = pack_padded(n, k, rest);
    const float* qp = pack_padded(n, q, rest + padded);
    const float* dop = pack_padded(n, dout, rest + 2 * padded);
    if (g.dq.data || g.dk.data) {
        for (int i0 = 0; i0 < T; i0 += kLanes) {
            const int keys = block_keys(n, i0);
            keys_times_queries(n, i0, keys, v, dot, ds);  // dP^T
            softmax_backward_columns(p + i0, ds + i0, ldp, i0, keys, n.c);
            if (g.dq.data) queries_times_keys(n, i0, keys, ds, kp, g.dq.data, g.dq.accumulate);
        }
    }
    for (int j0 = 0; j0 < T; j0 += kTile) {
        const int rows = std::min(kTile, T - j0), seen_by = T - j0;
        const long at = static_cast<long>(j0) * ldp + j0;  // element (j0, j0) of a T x ldp matrix
        const long row = static_cast<long>(j0) * n.d;      // row j0 of a T x hd block
        if (g.dk.data)
            product_rows(rows, seen_by, ds + at, ldp, 1, qp + j0 * kLanes, kLanes,
                         into_head(g.dk.data + row, n.d, n.hd, g.dk.accumulate));
        if (g.dv.data)
            product_rows(rows, seen_by, p + at, ldp, 1, dop + j0 * kLanes, kLanes,
                         into_head(g.dv.data + row, n.d, n.hd, g.dv.accumulate));
    }
}

}  // namespace

// The useful work of the two products q k^T and P v: 2 hd FLOPs each per (query i, key j <= i)
// pair of each head, T (T + 1) / 2 pairs, 4 d per pair over the H heads. Both paths compute
// somewhat more (whole blocks past the diagonal: 3/4 of T^2 on the gemm path at T = 128, 5/8 on
// the direct path at T = 64), so the profile's GFLOP/s is useful work per second, the same
// yardstick for both.
double causal_attention_flops(int B, int T, int d) { return 4.0 * B * d * (T * (T + 1.0) / 2.0); }

// ---- causal_attention: the op ----
// Items (b, h) in parallel; each reads and writes only its own blocks (its head's columns of its
// sequence's rows, its own T x ldp matrix of P or P^T), so no two threads write the same memory.
Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, int n_head) {
    if (q.rank() != 3 || k.shape() != q.shape() || v.shape() != q.shape())
        throw std::invalid_argument("causal_attention: q, k and v must be (B, T, d) of one shape, shapes " +
                                    q.shape_str() + ", " + k.shape_str() + " and " + v.shape_str());
    if (n_head < 1 || q.size(2) % n_head != 0)
        throw std::invalid_argument("causal_attention: the width d = " + std::to_string(q.size(2)) +
                                    " must split into n_head = " + std::to_string(n_head) + " heads of equal width");
    const int hd = q.size(2) / n_head;
    const AttentionDims n{q.size(0), q.size(1), q.size(2), n_head, hd, 1.0f / std::sqrt(static_cast<float>(hd))};
    const bool parallel = static_cast<double>(n.items()) * n.T * n.T * hd >= kMinParallelWork;

    Tensor out = Tensor::empty(q.shape());          // (B, T, d): every head's block is written
    Tensor p = Tensor::empty({n.B, n.H, n.T, n.ldp()});  // (B, H, T, ldp): P, or P^T for small heads
    const float *qd = q.data(), *kd = k.data(), *vd = v.data();
    float *pd = p.data(), *od = out.data();
    ThreadScratch heads(parallel, n.direct() ? packed_floats(n) : 0);  // each thread's packed heads
#pragma omp parallel if (parallel)
    {
        float* my_packed = heads.mine();
#pragma omp for schedule(static)
        for (int item = 0; item < n.items(); ++item) {
            const long h = n.head(item);
            if (n.direct())
                forward_item_small(n, qd + h, kd + h, vd + h, pd + n.scores(item), od + h, my_packed);
            else
                forward_item(n, qd + h, kd + h, vd + h, pd + n.scores(item), od + h);
        }
    }

    return record(out, "causal_attention", {q, k, v}, [q, k, v, p, n, parallel](TensorImpl& o) {
        // Only the gradients that are needed (dP and dS only if dq or dk is). Every element of
        // each is written once, so buffers come unzeroed. They are asked for in the order the
        // items first write them, dq (pass 1), dk, dv (pass 2): for an input passed twice, as x
        // in causal_attention(x, x, v), the first write then assigns and the second adds.
        auto buffer = [](const Tensor& x) {  // (B, T, d)
            return x.requires_grad() ? x.impl()->grad_buffer() : TensorImpl::GradBuffer{nullptr, false};
        };
        const AttentionGrads grads{buffer(q), buffer(k), buffer(v)};  // a braced list runs in order
        const float* dout = o.grad.data();  // (B, T, d)
        ThreadScratch ds(parallel, static_cast<size_t>(n.T) * n.ldp());  // each thread's dP and dS, or transposes
        ThreadScratch packed(parallel, n.direct() ? packed_floats(n) : 0);  // and its packed heads
#pragma omp parallel if (parallel)
        {
            float *my_ds = ds.mine(), *my_packed = packed.mine();
#pragma omp for schedule(static)
            for (int item = 0; item < n.items(); ++item) {
                const long h = n.head(item);
                if (n.direct())
                    backward_item_small(n, q.data() + h, k.data() + h, v.data() + h, p.data() + n.scores(item),
                                        dout + h, grads.at(h), my_ds, my_packed);
                else
                    backward_item(n, q.data() + h, k.data() + h, v.data() + h, p.data() + n.scores(item), dout + h,
                                  grads.at(h), my_ds);
            }
        }
    });
}

}  // namespace glulab
