// matmul.cpp — the matrix product as a differentiable op: y = op(a) @ op(b).
//
// The FLOPs are in gemm.h (the kernels); this file is shapes and calculus. Legend of tensor.h,
// plus M, K, N for the sizes of one product: op(a) is (M x K), op(b) is (K x N), y is (M x N).
//
// Two ways to use it, both in the model:
//   shared b   a (..., M, K) @ b (K, N): a linear layer, x (B, T, d) @ W (d, F). The leading
//              dims of a are folded into M, so the whole batch is a single (B*T x d) @ (d x F)
//              product: one big gemm instead of B small ones.
//   batched    a (..., M, K) @ b (..., K, N) with the same leading dims: attention,
//              q (B, H, T, hd) @ k^T -> (B, H, T, T) and p (B, H, T, T) @ v (B, H, T, hd).
// Either operand may be transposed by a flag; gemm reads it transposed in place, no copy is made.
//
// Deliberately left out: broadcasting leading dims of different sizes, 1-D operands (vectors),
// and a 2-D a with a batched b.
#include <stdexcept>
#include <string>

#include "glulab/autograd.h"
#include "glulab/gemm.h"
#include "glulab/ops.h"

namespace glulab {

// ---- the gradient of y = op(A) op(B), for one product ----
// From y_mn = sum_k op(A)_mk op(B)_kn:  dL/dop(A) = dY op(B)^T  and  dL/dop(B) = op(A)^T dY.
// Undoing op for the stored matrices gives the four cases (dY is M x N, stored as is):
//   y = A B      A (M x K)  B (K x N)   dA = dY B^T          dB = A^T dY
//   y = A B^T    A (M x K)  B (N x K)   dA = dY B            dB = dY^T A
//   y = A^T B    A (K x M)  B (K x N)   dA = B dY^T          dB = A dY
//   y = A^T B^T  A (K x M)  B (N x K)   dA = B^T dY^T        dB = dY^T A^T
// In gemm terms (flags name which stored operand is read transposed):
//   dA: !trans_a: gemm(false, !trans_b) of dY (M x N) and B        -> (M x K)
//        trans_a: gemm(trans_b, true)   of B and dY                -> (K x M)
//   dB: !trans_b: gemm(!trans_a, false) of A and dY                -> (K x N)
//        trans_b: gemm(true, trans_a)   of dY and A                -> (N x K)
// Each backward gemm adds into the gradient (accumulate = true), or assigns it when it is the
// first to arrive (TensorImpl::grad_buffer): gradients add up (autograd.h).

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
    auto fail = [&](const std::string& why) {
        throw std::invalid_argument("matmul: " + why + " for shapes " + a.shape_str() + (trans_a ? "^T" : "") +
                                    " and " + b.shape_str() + (trans_b ? "^T" : ""));
    };
    if (a.rank() < 2 || b.rank() < 2) fail("both operands need at least 2 dims");
    const bool batched = b.rank() > 2;
    if (batched) {
        if (a.rank() != b.rank()) fail("a batched b needs the rank of a");
        for (int d = 0; d + 2 < a.rank(); ++d)
            if (a.size(d) != b.size(d)) fail("leading dims differ");
    }
    // One product: op(a) (M x K) @ op(b) (K x N); `count` of them, one per leading index of a.
    const int a_rows = a.size(-2), a_cols = a.size(-1);  // as stored
    const int b_rows = b.size(-2), b_cols = b.size(-1);
    const int M = trans_a ? a_cols : a_rows, K = trans_a ? a_rows : a_cols;
    const int N = trans_b ? b_rows : b_cols;
    if ((trans_b ? b_cols : b_rows) != K)
        fail("inner dims differ (" + std::to_string(K) + " vs " + std::to_string(trans_b ? b_cols : b_rows) + ")");
    int count = 1;
    for (int d = 0; d + 2 < a.rank(); ++d) count *= a.size(d);

    Shape y_shape(a.shape().begin(), a.shape().end() - 2);  // (..., M, N)
    y_shape.push_back(M);
    y_shape.push_back(N);
    Tensor y = Tensor::empty(y_shape);  // every element is written by the gemm below

    // A shared b with an untransposed a: the leading dims of a are rows of one product.
    // (a^T with a shared b stays a batch of products that all read the same b.)
    int items = count, rows = M;
    if (!batched && !trans_a) {
        items = 1;
        rows = count * M;
    }
    const long stride_a = static_cast<long>(a_rows) * a_cols;   // one item of a
    const long stride_b = batched ? static_cast<long>(b_rows) * b_cols : 0;
    const long stride_y = static_cast<long>(rows) * N;           // one item of y

    // ---- forward: y = op(a) op(b) ----
    gemm_batched(items, trans_a, trans_b, rows, N, K, a.data(), a_cols, stride_a, b.data(), b_cols, stride_b,
                 y.data(), N, stride_y, false);

    // ---- backward: the table above, per item ----
    return record(y, "matmul", {a, b}, [a, b, trans_a, trans_b, batched, items, rows, N, K, stride_a, stride_b,
                                        stride_y, a_cols, b_cols](TensorImpl& out) {
        const float* dy = out.grad.data();  // (items, rows, N)
        if (a.requires_grad()) {
            const TensorImpl::GradBuffer da = a.impl()->grad_buffer();  // assigned if it is the first
            if (!trans_a)  // dA (rows x K) = dY op(b)^T
                gemm_batched(items, false, !trans_b, rows, K, N, dy, N, stride_y, b.data(), b_cols, stride_b, da.data,
                             a_cols, stride_a, da.accumulate);
            else  // dA (K x M) = op(b) dY^T
                gemm_batched(items, trans_b, true, K, rows, N, b.data(), b_cols, stride_b, dy, N, stride_y, da.data,
                             a_cols, stride_a, da.accumulate);
        }
        if (b.requires_grad()) {
            // dB = op(a)^T dY, or its transpose dY^T op(a) when b is stored transposed. With a shared b
            // every item adds into the same dB, so those products run one after the other.
            auto db_item = [&](int first, int n, long stride_db) {
                const TensorImpl::GradBuffer db = b.impl()->grad_buffer();  // assigned by the first item
                const float* ai = a.data() + first * stride_a;
                const float* dyi = dy + first * stride_y;
                float* dbi = db.data + first * stride_db;
                if (!trans_b)  // dB (K x N) = op(a)^T dY
                    gemm_batched(n, !trans_a, false, K, N, rows, ai, a_cols, stride_a, dyi, N, stride_y, dbi, b_cols,
                                 stride_db, db.accumulate);
                else  // dB (N x K) = dY^T op(a)
                    gemm_batched(n, true, trans_a, N, K, rows, dyi, N, stride_y, ai, a_cols, stride_a, dbi, b_cols,
                                 stride_db, db.accumulate);
            };
            if (batched)
                db_item(0, items, stride_b);
            else
                for (int i = 0; i < items; ++i) db_item(i, 1, 0);
        }
    });
}

}  // namespace glulab
