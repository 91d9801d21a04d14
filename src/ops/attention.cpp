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
//  - the upper triangle (the future, exactly 0 after the mask) is skipped: queries go in row
//    blocks of kBlock = 64, and block [i0, i1) needs keys [0, i1) only, which at T = 128 does 3/4
//    of the full products' work (and tends to 1/2 as T grows).
// The (batch, head) items are independent: they are shared among the OpenMP threads, and each
// runs its gemm calls on its own thread (gemm.h), so the bits do not depend on the thread count.
//
// P (B, H, T, T) is saved for the backward, as the composed version saves softmax's output. Not
// recomputed (FlashAttention's choice): that would save its memory (6 MB per layer in the small
// preset) but cost a third product and all the exps again in the backward, for T = 128 rows that
// fit in cache anyway; we have not measured it.
// Left out: dropout on P, padding masks, a key/value cache for generation, and FlashAttention's
// online softmax (Dao et al. 2022), which never stores P and pays off only for long contexts.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "glulab/autograd.h"
#include "glulab/gemm.h"
#include "glulab/ops.h"
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

// The sizes of one call, and where item (b, h), numbered b H + h, keeps its blocks.
struct AttentionDims {
    int B, T, d, H, hd;
    float c;  // the scale 1 / sqrt(hd)

    int items() const { return B * H; }
    // Item (b, h)'s T x hd block of a (B, T, d) tensor: rows b T.., columns h hd..; leading dim d.
    long head(int item) const { return static_cast<long>(item / H) * T * d + static_cast<long>(item % H) * hd; }
    // Item (b, h)'s T x T matrix of P (B, H, T, T); leading dim T.
    long scores(int item) const { return static_cast<long>(item) * T * T; }
};

// (query, key) pairs inside the computed blocks, each row block [i0, i1) with keys [0, i1): the
// entries of S each product of one item touches. Equal to sum over column blocks [j0, j1) of
// (j1 - j0)(T - j0), the count for the backward's second pass.
double computed_pairs(int T) {
    double pairs = 0.0;
    for (int i0 = 0; i0 < T; i0 += kBlock) {
        const int i1 = std::min(T, i0 + kBlock);
        pairs += static_cast<double>(i1 - i0) * i1;
    }
    return pairs;
}

// ---- forward, one row: P_i = softmax(c S_i) over keys 0..i, in place ----
// P_ij = exp(c (S_ij - m)) / sum_{j' <= i} exp(c (S_ij' - m)),  m = max_{j' <= i} S_ij'   (j <= i)
// P_ij = 0  (j > i)
// Subtracting m keeps exp from overflowing (c > 0, so max c S = c m). Columns up to T are set:
// P is saved, and the backward reads its masked zeros.
void softmax_row(float* row, int visible, int T, float c) {
    const float m = max_of(row, visible);
    for (int j = 0; j < visible; ++j) row[j] = exp_approx(c * (row[j] - m));
    const float inv_z = static_cast<float>(1.0 / sum_of(row, visible));  // z >= 1: the max term is exp(0)
    for (int j = 0; j < visible; ++j) row[j] *= inv_z;
    std::fill(row + visible, row + T, 0.0f);
}

// ---- forward, one (batch, head) item ----
// S = q k^T (T x T), P = causal softmax(c S), O = P v (T x hd), one row block at a time:
//   S[i0:i1, 0:i1] = q[i0:i1] k[0:i1]^T          (rows x i1)    written into P's rows
//   P[i0:i1, :]    = softmax_row of each row      (rows x T)
//   O[i0:i1]       = P[i0:i1, 0:i1] v[0:i1]       (rows x hd)    the keys >= i1 have P = 0
// q, k, v, o: T x hd blocks with leading dim ld; p: T x T, leading dim T.
void forward_item(const AttentionDims& n, const float* q, const float* k, const float* v, float* p, float* o) {
    const int T = n.T, ld = n.d, hd = n.hd;
    for (int i0 = 0; i0 < T; i0 += kBlock) {
        const int i1 = std::min(T, i0 + kBlock), rows = i1 - i0;
        float* p_rows = p + static_cast<long>(i0) * T;
        gemm(false, true, rows, i1, hd, q + static_cast<long>(i0) * ld, ld, k, ld, p_rows, T, false);
        for (int i = i0; i < i1; ++i) softmax_row(p + static_cast<long>(i) * T, i + 1, T, n.c);
        gemm(false, false, rows, hd, i1, p_rows, T, v, ld, o + static_cast<long>(i0) * ld, ld, false);
    }
}

// ---- backward, one row: dS_i from dP_i, in place ----
// P_i = softmax(c S_i)  =>  dS_ij = c P_ij (dP_ij - sum_{j'} dP_ij' P_ij')
// (softmax's Jacobian diag(P) - P P^T, times c for the scale inside). Masked entries (j > i,
// P_ij = 0) get exactly 0, also where dP overflowed; up to the block's edge `computed`, since
// the later products read the row up to there.
void softmax_backward_row(const float* p_row, float* ds_row, int visible, int computed, float c) {
    const float s = static_cast<float>(dot_of(ds_row, p_row, visible));  // sum_j dP_ij P_ij
    for (int j = 0; j < visible; ++j) ds_row[j] = c * p_row[j] * (ds_row[j] - s);
    std::fill(ds_row + visible, ds_row + computed, 0.0f);
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
//   dS = c P ⊙ (dP - rowsum(dP ⊙ P))      (T x T)   softmax_backward_row
//   dq = dS k,   dk = dS^T q              (T x hd)
// Pass 1, by row blocks [i0, i1) over keys [0, i1): dP and dS into the scratch ds (T x T), and
// dq[i0:i1] += dS[i0:i1, 0:i1] k[0:i1].
// Pass 2, by column blocks [j0, j1), which only queries [j0, T) see: dk[j0:j1] += dS[j0:T, j0:j1]^T
// q[j0:T] and dv[j0:j1] += P[j0:T, j0:j1]^T dO[j0:T]. Those columns were computed in pass 1: row i
// >= j0 lies in a block ending at or after j1, since blocks have the same size and start.
// Each gradient block is written by one gemm with its whole sum: added to the gradient there, or
// assigned when it is the first (so a new buffer needs no zeroing).
void backward_item(const AttentionDims& n, const float* q, const float* k, const float* v, const float* p,
                   const float* dout, const AttentionGrads& g, float* ds) {
    const int T = n.T, ld = n.d, hd = n.hd;
    if (g.dq.data || g.dk.data) {
        for (int i0 = 0; i0 < T; i0 += kBlock) {
            const int i1 = std::min(T, i0 + kBlock), rows = i1 - i0;
            float* ds_rows = ds + static_cast<long>(i0) * T;
            gemm(false, true, rows, i1, hd, dout + static_cast<long>(i0) * ld, ld, v, ld, ds_rows, T, false);  // dP
            for (int i = i0; i < i1; ++i)
                softmax_backward_row(p + static_cast<long>(i) * T, ds + static_cast<long>(i) * T, i + 1, i1, n.c);
            if (g.dq.data)
                gemm(false, false, rows, hd, i1, ds_rows, T, k, ld, g.dq.data + static_cast<long>(i0) * ld, ld,
                     g.dq.accumulate);
        }
    }
    for (int j0 = 0; j0 < T; j0 += kBlock) {
        const int cols = std::min(T, j0 + kBlock) - j0, seen_by = T - j0;
        const long at = static_cast<long>(j0) * T + j0;   // element (j0, j0) of a T x T matrix
        const long row = static_cast<long>(j0) * ld;      // row j0 of a T x hd block
        if (g.dk.data) gemm(true, false, cols, hd, seen_by, ds + at, T, q + row, ld, g.dk.data + row, ld, g.dk.accumulate);
        if (g.dv.data) gemm(true, false, cols, hd, seen_by, p + at, T, dout + row, ld, g.dv.data + row, ld, g.dv.accumulate);
    }
}

}  // namespace

double causal_attention_flops(int B, int T, int d) { return 4.0 * B * d * computed_pairs(T); }

// ---- causal_attention: the op ----
// Items (b, h) in parallel; each reads and writes only its own blocks (its head's columns of its
// sequence's rows, its own T x T matrix of P), so no two threads write the same memory.
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
    Tensor p = Tensor::empty({n.B, n.H, n.T, n.T});  // (B, H, T, T): every row is written
    const float *qd = q.data(), *kd = k.data(), *vd = v.data();
    float *pd = p.data(), *od = out.data();
#pragma omp parallel for schedule(static) if (parallel)
    for (int item = 0; item < n.items(); ++item) {
        const long h = n.head(item);
        forward_item(n, qd + h, kd + h, vd + h, pd + n.scores(item), od + h);
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
#pragma omp parallel if (parallel)
        {
            Storage ds(static_cast<size_t>(n.T) * n.T);  // this thread's dP and dS (T x T)
#pragma omp for schedule(static)
            for (int item = 0; item < n.items(); ++item) {
                const long h = n.head(item);
                backward_item(n, q.data() + h, k.data() + h, v.data() + h, p.data() + n.scores(item), dout + h,
                              grads.at(h), ds.data());
            }
        }
    });
}

}  // namespace glulab
