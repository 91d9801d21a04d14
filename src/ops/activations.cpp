// activations.cpp — the pointwise nonlinearities of the FFN variants (Shazeer 2020, Table 1),
// and the GLU family's gate act(a) * b fused into one op.
//
// Legend (tensor.h): B batch, T context, d model width, H heads, hd head width, F d_ff, V vocab.
//
// Each activation is written once, as a struct of three scalar functions:
//   u = inner(x)   the expensive part (an exp or a tanh) that f and f' both need, or nothing
//   f(x, u)        the value
//   df(x, u)       the derivative f'(x)
// The standalone ops (relu, gelu, sigmoid, silu) and the fused gate use the same structs, so a
// formula lives in one place. exp and tanh are vecmath.h's branch-free versions: every loop here
// vectorises. The backward kernels ACCUMULATE into dx, as every backward does (autograd.h).
#include <stdexcept>
#include <string>

#include "glulab/autograd.h"
#include "glulab/ops.h"
#include "glulab/vecmath.h"

namespace glulab {

namespace {
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCubic = 0.044715f;

// ReLU(x) = max(0, x)
// ReLU'(x) = 1 if x > 0 else 0 (we take 0 at the kink)
struct Relu {
    static constexpr bool kSavesInner = false;  // nothing worth saving
    static float inner(float) { return 0.0f; }
    static float f(float x, float) { return x > 0.0f ? x : 0.0f; }
    static float df(float x, float) { return x > 0.0f ? 1.0f : 0.0f; }
};

// GELU(x) ~= 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)     (Hendrycks & Gimpel, tanh form)
// GELU'(x) = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
struct Gelu {
    static constexpr bool kSavesInner = true;
    static float inner(float x) { return tanh_approx(kSqrt2OverPi * (x + kGeluCubic * x * x * x)); }  // t = tanh u
    static float f(float x, float t) { return 0.5f * x * (1.0f + t); }
    static float df(float x, float t) {
        return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x * x);
    }
};

// sigmoid(x) = 1 / (1 + exp(-x))
// sigmoid'(x) = s (1 - s),  s = sigmoid(x)
struct Sigmoid {
    static constexpr bool kSavesInner = true;
    static float inner(float x) { return sigmoid_approx(x); }  // s
    static float f(float, float s) { return s; }
    static float df(float, float s) { return s * (1.0f - s); }
};

// Swish_1(x) = SiLU(x) = x sigmoid(x)                                    (Ramachandran et al. 2017)
// SiLU'(x) = s (1 + x (1 - s)),  s = sigmoid(x)
struct Silu {
    static constexpr bool kSavesInner = true;
    static float inner(float x) { return sigmoid_approx(x); }  // s
    static float f(float x, float s) { return x * s; }
    static float df(float x, float s) { return s * (1.0f + x * (1.0f - s)); }
};

// The identity, Bilinear's "activation": f(x) = x, f'(x) = 1. Only the gate uses it, and the
// gate saves no inner value for any activation (hence maybe_unused: clang warns otherwise).
struct Identity {
    [[maybe_unused]] static constexpr bool kSavesInner = false;
    static float inner(float) { return 0.0f; }
    static float f(float x, float) { return x; }
    static float df(float, float) { return 1.0f; }
};

// ---- the standalone op: y = f(x), dx = dy * f'(x) ----
// u = inner(x) is computed once in the forward and, where it costs an exp or a tanh, saved, so
// the backward calls neither.
template <class Act>
Tensor pointwise(const Tensor& x, const char* op) {
    Tensor y = Tensor::empty(x.shape());
    const long n = static_cast<long>(x.numel());
    Storage saved(Act::kSavesInner ? static_cast<size_t>(n) : 0);  // u per element; all written below
    const float* xd = x.data();
    float* yd = y.data();
    float* ud = saved.data();
#pragma omp parallel for schedule(static) if (n > kParallelMinElements)
    for (long i = 0; i < n; ++i) {
        const float u = Act::inner(xd[i]);
        if (Act::kSavesInner) ud[i] = u;
        yd[i] = Act::f(xd[i], u);
    }
    return record(y, op, {x}, [x, u = std::move(saved)](TensorImpl& out) {
        if (!x.requires_grad()) return;
        const float* xv = x.data();
        const float* dy = out.grad.data();
        add_to_grad(x, [&](long i) {
            return dy[i] * Act::df(xv[i], Act::kSavesInner ? u[i] : Act::inner(xv[i]));
        });
    });
}

// ---- the fused gate: y = act(a) * b ----
// Forward:   y_i = f(a_i) b_i
// Backward:  da_i = dy_i b_i f'(a_i),   db_i = dy_i f(a_i)
// The same numbers as mul(act(a), b), but one pass over memory each way instead of two, and
// nothing saved: the backward recomputes u = inner(a) (an exp is cheaper than writing a
// (B, T, F) tensor in the forward and reading it back).

// dst[i] = v, or dst[i] += v when the buffer already holds a gradient (TensorImpl::grad_buffer).
inline void put_grad(const TensorImpl::GradBuffer& g, long i, float v) {
    if (g.accumulate)
        g.data[i] += v;
    else
        g.data[i] = v;
}

template <class Act>
Tensor fused_gate(const Tensor& a, const Tensor& b, const char* op) {
    if (a.shape() != b.shape())
        throw std::invalid_argument(std::string(op) + ": a and b must have one shape, shapes " + a.shape_str() +
                                    " and " + b.shape_str());
    Tensor y = Tensor::empty(a.shape());  // (..., F)
    const long n = static_cast<long>(a.numel());
    const float* ad = a.data();
    const float* bd = b.data();
    float* yd = y.data();
#pragma omp parallel for schedule(static) if (n > kParallelMinElements)
    for (long i = 0; i < n; ++i) yd[i] = Act::f(ad[i], Act::inner(ad[i])) * bd[i];
    return record(y, op, {a, b}, [a, b, n](TensorImpl& out) {
        const float* av = a.data();
        const float* bv = b.data();
        const float* dy = out.grad.data();
        // Scalar functions of the values, not lambdas over the pointers: with those GCC did not
        // vectorise the loop below (it was 2-3x slower).
        auto da = [](float dyi, float ai, float bi, float u) { return dyi * bi * Act::df(ai, u); };
        auto db = [](float dyi, float ai, float u) { return dyi * Act::f(ai, u); };
        if (a.requires_grad() && b.requires_grad() && a.impl() != b.impl()) {  // the usual case: one pass
            const TensorImpl::GradBuffer ga = a.impl()->grad_buffer(), gb = b.impl()->grad_buffer();
#pragma omp parallel for schedule(static) if (n > kParallelMinElements)
            for (long i = 0; i < n; ++i) {
                const float u = Act::inner(av[i]);
                put_grad(ga, i, da(dy[i], av[i], bv[i], u));
                put_grad(gb, i, db(dy[i], av[i], u));
            }
            return;
        }
        // One of them needs no gradient, or gate(a, a): one pass per gradient, the second adding.
        if (a.requires_grad()) add_to_grad(a, [&](long i) { return da(dy[i], av[i], bv[i], Act::inner(av[i])); });
        if (b.requires_grad()) add_to_grad(b, [&](long i) { return db(dy[i], av[i], Act::inner(av[i])); });
    });
}
}  // namespace

Tensor relu(const Tensor& x) { return pointwise<Relu>(x, "relu"); }
Tensor gelu(const Tensor& x) { return pointwise<Gelu>(x, "gelu"); }
Tensor sigmoid(const Tensor& x) { return pointwise<Sigmoid>(x, "sigmoid"); }
Tensor silu(const Tensor& x) { return pointwise<Silu>(x, "silu"); }

// The gates of Shazeer (2020), eq. (6), with a = x W and b = x V:
//   GLU: sigmoid(a) * b   Bilinear: a * b   ReGLU: max(0, a) * b   GEGLU: GELU(a) * b   SwiGLU: Swish_1(a) * b
Tensor gate(FfnKind kind, const Tensor& a, const Tensor& b) {
    switch (kind) {
        case FfnKind::GLU: return fused_gate<Sigmoid>(a, b, "glu_gate");
        case FfnKind::Bilinear: return fused_gate<Identity>(a, b, "bilinear_gate");
        case FfnKind::ReGLU: return fused_gate<Relu>(a, b, "reglu_gate");
        case FfnKind::GEGLU: return fused_gate<Gelu>(a, b, "geglu_gate");
        case FfnKind::SwiGLU: return fused_gate<Silu>(a, b, "swiglu_gate");
        default: break;
    }
    throw std::invalid_argument("gate: " + ffn_name(kind) + " is not a gated (GLU-family) variant");
}

}  // namespace glulab
