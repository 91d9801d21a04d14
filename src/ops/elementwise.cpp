// elementwise.cpp — add, mul (with suffix broadcasting), scale, and the reductions sum, mean.
//
// Legend (tensor.h): B batch, T context, d model width, H heads, hd head width, F d_ff, V vocab.
//
// Broadcasting is deliberately minimal: b's shape must equal a's or be a suffix of it, so b is
// repeated `reps` times along a's leading dims. That covers everything the model needs: a gain
// (d) over (B, T, d), positions (T, d) over (B, T, d). The flat index of a is r * nb + j with
// r in [0, reps) the repeat and j in [0, nb) the position inside b, so b's element is b[j].
// b's gradient sums over r in a fixed order (r = 0, 1, ...) on one thread: the bits do not
// depend on the thread count. Left out: general numpy broadcasting, in-place ops.
#include <stdexcept>
#include <string>
#include <utility>

#include "glulab/autograd.h"
#include "glulab/ops.h"

namespace glulab {

namespace {

std::string shapes_of(const Tensor& a, const Tensor& b) {
    return ", shapes " + a.shape_str() + " and " + b.shape_str();
}

// How many times b repeats inside a: a (lead..., suffix) and b (suffix) -> numel(lead).
// Throws unless b's shape is a suffix of a's (equal shapes are the case reps = 1).
size_t broadcast_reps(const char* op, const Tensor& a, const Tensor& b) {
    const Shape& sa = a.shape();
    const Shape& sb = b.shape();
    bool suffix = sb.size() <= sa.size();
    for (size_t i = 0; suffix && i < sb.size(); ++i) suffix = sb[sb.size() - 1 - i] == sa[sa.size() - 1 - i];
    if (!suffix)
        throw std::invalid_argument(std::string(op) + ": b's shape must equal a's or be a suffix of it" +
                                    shapes_of(a, b));
    return a.numel() / b.numel();
}

// Calls f(i, j) for every flat index i = r * nb + j of a, with j the matching index of b.
// Iterations are independent, so they may run on several threads.
template <class F>
void for_each_broadcast(size_t reps, size_t nb, F f) {
    if (reps == 1) {  // same shapes: one flat loop
        const long n = static_cast<long>(nb);
#pragma omp parallel for schedule(static) if (n > kParallelMinElements)
        for (long i = 0; i < n; ++i) f(i, i);
        return;
    }
    const long rows = static_cast<long>(reps);
    const long width = static_cast<long>(nb);
#pragma omp parallel for schedule(static) if (rows * width > kParallelMinElements)
    for (long r = 0; r < rows; ++r)
        for (long j = 0; j < width; ++j) f(r * width + j, j);
}

// db[j] += sum_r src[r * nb + j], over r in increasing order (deterministic).
// src is (reps, nb) flattened.
void sum_into_suffix(float* db, const float* src, size_t reps, size_t nb) {
    for (size_t r = 0; r < reps; ++r) {  // rows in order; the inner loop is contiguous
        const float* row = src + r * nb;
        for (size_t j = 0; j < nb; ++j) db[j] += row[j];
    }
}
}  // namespace

// ---- add ----
// y = a + b           a (..., S), b (S)  -> (..., S)
// da = dy,  db = sum over the repeats of dy
Tensor add(const Tensor& a, const Tensor& b) {
    const size_t reps = broadcast_reps("add", a, b);
    Tensor y = Tensor::empty(a.shape());  // (..., S)
    const float* ad = a.data();
    const float* bd = b.data();
    float* yd = y.data();
    for_each_broadcast(reps, b.numel(), [&](long i, long j) { yd[i] = ad[i] + bd[j]; });

    return record(y, "add", {a, b}, [a, b, reps](TensorImpl& out) {
        const float* dy = out.grad.data();  // (..., S)
        if (b.requires_grad()) {
            if (reps == 1)
                add_to_grad(b, [&](long i) { return dy[i]; });
            else
                sum_into_suffix(b.grad(), dy, reps, b.numel());
        }
        // Last, because out's gradient is no longer needed after this: it becomes a's.
        if (a.requires_grad()) a.impl()->accumulate_grad(std::move(out.grad));
    });
}

// ---- mul ----
// y = a * b           a (..., S), b (S)  -> (..., S)
// da = dy * b,  db = sum over the repeats of dy * a
Tensor mul(const Tensor& a, const Tensor& b) {
    const size_t reps = broadcast_reps("mul", a, b);
    Tensor y = Tensor::empty(a.shape());  // (..., S)
    const float* ad = a.data();
    const float* bd = b.data();
    float* yd = y.data();
    for_each_broadcast(reps, b.numel(), [&](long i, long j) { yd[i] = ad[i] * bd[j]; });

    return record(y, "mul", {a, b}, [a, b, reps](TensorImpl& out) {
        const float* dy = out.grad.data();  // (..., S)
        const float* av = a.data();
        const float* bv = b.data();
        const size_t nb = b.numel();
        if (a.requires_grad()) {
            if (reps == 1) {
                add_to_grad(a, [&](long i) { return dy[i] * bv[i]; });
            } else {
                float* da = a.grad();
                for_each_broadcast(reps, nb, [&](long i, long j) { da[i] += dy[i] * bv[j]; });
            }
        }
        if (b.requires_grad()) {
            // mul(x, x) is fine: da and db alias, and each pass adds its own share.
            if (reps == 1) {
                add_to_grad(b, [&](long i) { return dy[i] * av[i]; });
            } else {  // the repeats in order, on one thread (deterministic)
                float* db = b.grad();
                for (size_t r = 0; r < reps; ++r)
                    for (size_t j = 0; j < nb; ++j) db[j] += dy[r * nb + j] * av[r * nb + j];
            }
        }
    });
}

// ---- scale ----
// y = s x;  dx = s dy
Tensor scale(const Tensor& x, float s) {
    const long n = static_cast<long>(x.numel());
    Tensor y = Tensor::empty(x.shape());  // same shape as x
    const float* xd = x.data();
    float* yd = y.data();
#pragma omp parallel for schedule(static) if (n > kParallelMinElements)
    for (long i = 0; i < n; ++i) yd[i] = s * xd[i];

    return record(y, "scale", {x}, [x, s](TensorImpl& out) {
        if (!x.requires_grad()) return;
        const float* dy = out.grad.data();
        add_to_grad(x, [&](long i) { return s * dy[i]; });
    });
}

// ---- sum and mean ----
// y = c * sum_i x_i -> (1), with c = 1 (sum) or 1/n (mean);  dx_i = c dy
// The sum runs in double on one thread, in index order: exact enough and bit-reproducible.
namespace {
Tensor scaled_total(const Tensor& x, const char* op, bool divide_by_n) {
    const size_t n = x.numel();
    const double c = divide_by_n ? 1.0 / static_cast<double>(n) : 1.0;
    const float* xd = x.data();
    double total = 0.0;
    for (size_t i = 0; i < n; ++i) total += xd[i];
    Tensor y = Tensor::from_values({1}, {static_cast<float>(total * c)});  // (1)

    return record(y, op, {x}, [x, c](TensorImpl& out) {
        if (!x.requires_grad()) return;
        const float g = static_cast<float>(out.grad[0] * c);
        add_to_grad(x, [g](long) { return g; });
    });
}
}  // namespace

Tensor sum(const Tensor& x) { return scaled_total(x, "sum", false); }
Tensor mean(const Tensor& x) { return scaled_total(x, "mean", true); }

}  // namespace glulab
