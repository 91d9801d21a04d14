// activations.cpp — the pointwise nonlinearities of the FFN variants (Shazeer 2020, Table 1).
//
// Each op: a forward kernel, a backward kernel, and the graph record, under its f and f'.
// The backward kernels ACCUMULATE into dx, as every backward does (see autograd.h).
// exp and tanh are vecmath.h's branch-free versions, so every loop here vectorises.
#include "glulab/autograd.h"
#include "glulab/ops.h"
#include "glulab/vecmath.h"

namespace glulab {

namespace {
// Applies a pointwise op: y = f(x), recorded with dx += dy * f'(x, y).
template <class Forward, class Derivative>
Tensor pointwise(const Tensor& x, const char* op, Forward f, Derivative df) {
    Tensor y = Tensor::empty(x.shape());
    const float* xd = x.data();
    float* yd = y.data();
    const long n = static_cast<long>(x.numel());
#pragma omp parallel for schedule(static) if (n > 65536)
    for (long i = 0; i < n; ++i) yd[i] = f(xd[i]);
    return record(y, op, {x}, [x, df](TensorImpl& out) mutable {
        if (!x.requires_grad()) return;
        const float* xv = x.data();
        const float* yv = out.data();
        const float* dy = out.grad.data();
        add_to_grad(x, [&](long i) { return dy[i] * df(xv[i], yv[i]); });
    });
}

// The same with an intermediate u = inner(x) (a sigmoid, a tanh) that both y = f(x, u) and
// f'(x, u) need: computed once in the forward and saved, so the backward calls no exp or tanh.
template <class Inner, class Forward, class Derivative>
Tensor pointwise_saving(const Tensor& x, const char* op, Inner inner, Forward f, Derivative df) {
    Tensor y = Tensor::empty(x.shape());
    const long n = static_cast<long>(x.numel());
    Storage saved(static_cast<size_t>(n));  // u for each element; not zeroed, all written below
    const float* xd = x.data();
    float* yd = y.data();
    float* ud = saved.data();
#pragma omp parallel for schedule(static) if (n > 65536)
    for (long i = 0; i < n; ++i) {
        ud[i] = inner(xd[i]);
        yd[i] = f(xd[i], ud[i]);
    }
    return record(y, op, {x}, [x, df, u = std::move(saved)](TensorImpl& out) {
        const float* xv = x.data();
        const float* dy = out.grad.data();
        add_to_grad(x, [&](long i) { return dy[i] * df(xv[i], u[i]); });
    });
}

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCubic = 0.044715f;
}  // namespace

// ReLU(x) = max(0, x)
// ReLU'(x) = 1 if x > 0 else 0 (we take 0 at the kink)
Tensor relu(const Tensor& x) {
    return pointwise(
        x, "relu", [](float v) { return v > 0.0f ? v : 0.0f; },
        [](float v, float) { return v > 0.0f ? 1.0f : 0.0f; });
}

// GELU(x) ~= 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)     (Hendrycks & Gimpel, tanh form)
// GELU'(x) = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
Tensor gelu(const Tensor& x) {
    return pointwise_saving(
        x, "gelu", [](float v) { return tanh_approx(kSqrt2OverPi * (v + kGeluCubic * v * v * v)); },  // t = tanh u
        [](float v, float t) { return 0.5f * v * (1.0f + t); },
        [](float v, float t) {
            return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * v * v);
        });
}

// sigmoid(x) = 1 / (1 + exp(-x))
// sigmoid'(x) = y (1 - y), written with the saved output y
Tensor sigmoid(const Tensor& x) {
    return pointwise(
        x, "sigmoid", [](float v) { return sigmoid_approx(v); }, [](float, float y) { return y * (1.0f - y); });
}

// Swish_1(x) = SiLU(x) = x sigmoid(x)                                    (Ramachandran et al. 2017)
// SiLU'(x) = s (1 + x (1 - s)),  s = sigmoid(x)
Tensor silu(const Tensor& x) {
    return pointwise_saving(
        x, "silu", [](float v) { return sigmoid_approx(v); },  // s = sigmoid(x)
        [](float v, float s) { return v * s; },
        [](float v, float s) { return s * (1.0f + v * (1.0f - s)); });
}

}  // namespace glulab
