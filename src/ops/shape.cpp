// shape.cpp — reshape (a view: no copy) and transpose12 (a copy: splits and merges heads).
//
// Legend (tensor.h): B batch, T context, d model width, H heads, hd head width, F d_ff, V vocab.
//
// Tensors are contiguous and row-major (no strides), so a reshape shares the numbers and a
// transpose moves them. Left out: general permutations; only the one attention needs is here.
#include <cstring>
#include <stdexcept>
#include <utility>

#include "glulab/autograd.h"
#include "glulab/ops.h"

namespace glulab {

// ---- reshape ----
// y = x viewed with another shape of the same numel (same storage, no copy)
// dx = dy viewed with x's shape: the flat layout is the same, so dx_i += dy_i
Tensor reshape(const Tensor& x, const Shape& shape) {
    if (shape.empty() || shape.size() > 4)
        throw std::invalid_argument("reshape: the new shape must have rank 1 to 4, shapes " + x.shape_str() +
                                    " and " + shape_to_string(shape));
    for (int dim : shape)
        if (dim < 1)
            throw std::invalid_argument("reshape: dimensions must be >= 1, shapes " + x.shape_str() + " and " +
                                        shape_to_string(shape));
    if (shape_numel(shape) != x.numel())
        throw std::invalid_argument("reshape: the number of elements must not change, shapes " + x.shape_str() +
                                    " and " + shape_to_string(shape));
    Tensor y = x.share_storage_as(shape);  // same numbers, new shape

    // out's gradient is no longer needed once this runs: it becomes x's (or is added to it).
    return record(y, "reshape", {x}, [x](TensorImpl& out) {
        if (x.requires_grad()) x.impl()->accumulate_grad(std::move(out.grad));
    });
}

// ---- transpose12 ----
// y[a, c, b, :] = x[a, b, c, :]        x (A, B, C, D) -> (A, C, B, D);  e.g. (B, T, H, hd) -> (B, H, T, hd)
// dx[a, b, c, :] += dy[a, c, b, :]     (the same swap: it is its own inverse)
// Each (a, b, c) moves one contiguous run of D floats; every run has its own destination.
Tensor transpose12(const Tensor& x) {
    if (x.rank() != 4)
        throw std::invalid_argument("transpose12: needs a rank-4 (A, B, C, D) input, shape " + x.shape_str());
    const int A = x.size(0), Bn = x.size(1), C = x.size(2), D = x.size(3);
    Tensor y = Tensor::empty({A, C, Bn, D});  // (A, C, B, D)
    const float* xd = x.data();
    float* yd = y.data();
    // Offsets of the run (a, b, c) in x (A, B, C, D) and in y (A, C, B, D).
    auto x_at = [=](long a, long b, long c) { return ((a * Bn + b) * C + c) * D; };
    auto y_at = [=](long a, long b, long c) { return ((a * C + c) * Bn + b) * D; };
    const long runs = static_cast<long>(A) * Bn;  // parallel over (a, b); c inside
#pragma omp parallel for schedule(static) if (x.numel() > kParallelMinElements)
    for (long ab = 0; ab < runs; ++ab) {
        const long a = ab / Bn, b = ab % Bn;
        for (long c = 0; c < C; ++c) std::memcpy(yd + y_at(a, b, c), xd + x_at(a, b, c), D * sizeof(float));
    }

    return record(y, "transpose12", {x}, [x, runs, Bn, C, D, x_at, y_at](TensorImpl& out) {
        if (!x.requires_grad()) return;
        const float* dy = out.grad.data();  // (A, C, B, D)
        const TensorImpl::GradBuffer dx = x.impl()->grad_buffer();  // (A, B, C, D)
#pragma omp parallel for schedule(static) if (out.numel() > kParallelMinElements)
        for (long ab = 0; ab < runs; ++ab) {
            const long a = ab / Bn, b = ab % Bn;
            for (long c = 0; c < C; ++c) {
                const float* src = dy + y_at(a, b, c);
                store_grad(dx.data + x_at(a, b, c), D, dx.accumulate, [src](long j) { return src[j]; });
            }
        }
    });
}

}  // namespace glulab
