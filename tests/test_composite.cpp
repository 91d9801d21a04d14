// test_composite.cpp — ops composed the way the model composes them, checked end to end:
// the SwiGLU FFN and causal multi-head self-attention, each in its composed (reference) and fused
// (model) form, the attention against a scalar-loop reference, and
// the fused ops (rmsnorm, cross_entropy) against plain double-precision reference loops.
//
// Legend (tensor.h): B batch, T context, d model width, H heads, hd head width, F d_ff, V vocab.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "glulab/attention.h"
#include "glulab/ffn.h"
#include "glulab/ops.h"
#include "gradcheck.h"

using namespace glulab;
using namespace glulab::testing;

namespace {
// The model's two attentions: the composed reference (src/nn/attention.cpp, op by op, as the
// paper writes it) and the fused one the model runs. x (B, T, d) -> (B, T, d)
Tensor attention_composed(const Tensor& x, const Tensor& Wq, const Tensor& Wk, const Tensor& Wv, const Tensor& Wo,
                          int H) {
    return causal_self_attention_reference(x, AttentionWeights{Wq, Wk, Wv, Wo}, H);
}
Tensor attention_fused(const Tensor& x, const Tensor& Wq, const Tensor& Wk, const Tensor& Wv, const Tensor& Wo, int H) {
    return causal_self_attention(x, AttentionWeights{Wq, Wk, Wv, Wo}, H);
}

// The same attention as plain loops in double, one head and one query position at a time.
std::vector<double> attention_reference(const Tensor& x, const Tensor& Wq, const Tensor& Wk, const Tensor& Wv,
                                        const Tensor& Wo, int H) {
    const int B = x.size(0), T = x.size(1), d = x.size(2), hd = d / H;
    auto proj = [&](const Tensor& W) {  // x W, (B, T, d)
        std::vector<double> out(static_cast<size_t>(B) * T * d, 0.0);
        for (int bt = 0; bt < B * T; ++bt)
            for (int j = 0; j < d; ++j)
                for (int k = 0; k < d; ++k) out[bt * d + j] += double(x.data()[bt * d + k]) * W.data()[k * d + j];
        return out;
    };
    const std::vector<double> q = proj(Wq), k = proj(Wk), v = proj(Wv);
    std::vector<double> merged(static_cast<size_t>(B) * T * d, 0.0);  // heads concatenated, (B, T, d)
    for (int b = 0; b < B; ++b)
        for (int h = 0; h < H; ++h)
            for (int i = 0; i < T; ++i) {
                std::vector<double> s(i + 1);  // scores against positions 0..i
                double m = -1e300;
                for (int j = 0; j <= i; ++j) {
                    double dot = 0;
                    for (int c = 0; c < hd; ++c)
                        dot += q[(b * T + i) * d + h * hd + c] * k[(b * T + j) * d + h * hd + c];
                    s[j] = dot / std::sqrt(double(hd));
                    m = std::max(m, s[j]);
                }
                double z = 0;
                for (int j = 0; j <= i; ++j) z += std::exp(s[j] - m);
                for (int j = 0; j <= i; ++j)
                    for (int c = 0; c < hd; ++c)
                        merged[(b * T + i) * d + h * hd + c] +=
                            std::exp(s[j] - m) / z * v[(b * T + j) * d + h * hd + c];
            }
    std::vector<double> y(merged.size(), 0.0);
    for (int bt = 0; bt < B * T; ++bt)
        for (int j = 0; j < d; ++j)
            for (int k2 = 0; k2 < d; ++k2) y[bt * d + j] += merged[bt * d + k2] * Wo.data()[k2 * d + j];
    return y;
}

// Central differences of a double-precision function of a float vector, step h, in double.
std::vector<double> numeric_gradient(const std::function<double(const std::vector<double>&)>& f,
                                     std::vector<double> x, double h = 1e-6) {
    std::vector<double> g(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const double saved = x[i];
        x[i] = saved + h;
        const double plus = f(x);
        x[i] = saved - h;
        const double minus = f(x);
        x[i] = saved;
        g[i] = (plus - minus) / (2 * h);
    }
    return g;
}

std::vector<double> as_double(const Tensor& t) { return std::vector<double>(t.data(), t.data() + t.numel()); }
}  // namespace

TEST_CASE("composite: SwiGLU FFN end to end, composed and fused, gradients of x, W, V, W2") {
    Rng rng(81);
    for (auto ffn : {feed_forward_reference, feed_forward})
        check_gradients(
            [ffn](const std::vector<Tensor>& in) {
                return ffn(FfnKind::SwiGLU, in[0], FfnWeights{in[1], in[2], in[3]});
            },
            {random_tensor({2, 3, 6}, rng), random_tensor({6, 4}, rng, 0.5f), random_tensor({6, 4}, rng, 0.5f),
             random_tensor({4, 6}, rng, 0.5f)});
}

TEST_CASE("composite: causal self-attention, composed and fused, matches a scalar-loop reference") {
    for (auto attention : {attention_composed, attention_fused}) {
        Rng rng(82);
        const int H = 2;
        Tensor x = random_tensor({2, 5, 6}, rng);
        std::vector<Tensor> W;
        for (int i = 0; i < 4; ++i) W.push_back(random_tensor({6, 6}, rng, 0.5f));
        Tensor y = attention(x, W[0], W[1], W[2], W[3], H);
        REQUIRE(y.shape() == Shape{2, 5, 6});
        const std::vector<double> ref = attention_reference(x, W[0], W[1], W[2], W[3], H);
        for (size_t i = 0; i < ref.size(); ++i) {
            INFO("element " << i);
            CHECK(y.data()[i] == doctest::Approx(ref[i]).epsilon(1e-4).scale(1.0));
        }

        // Causality: changing the input at position t changes no output before t.
        const int t = 3, B = 2, T = 5, d = 6;
        Tensor x2 = Tensor::from_values(x.shape(), x.to_vector());
        for (int b = 0; b < B; ++b)
            for (int c = 0; c < d; ++c) x2.data()[(b * T + t) * d + c] += 5.0f;
        Tensor y2 = attention(x2, W[0], W[1], W[2], W[3], H);
        for (int b = 0; b < B; ++b)
            for (int i = 0; i < T; ++i)
                for (int c = 0; c < d; ++c) {
                    const float before = y.data()[(b * T + i) * d + c], after = y2.data()[(b * T + i) * d + c];
                    if (i < t) CHECK(before == after);
                }
        CHECK(y.data()[(0 * T + t) * d] != y2.data()[(0 * T + t) * d]);
    }
}

TEST_CASE("composite: causal self-attention end to end, composed and fused, gradients of x, Wq, Wk, Wv, Wo") {
    Rng rng(83);
    for (auto attention : {attention_composed, attention_fused})
        check_gradients(
            [attention](const std::vector<Tensor>& in) { return attention(in[0], in[1], in[2], in[3], in[4], 2); },
            {random_tensor({2, 5, 6}, rng), random_tensor({6, 6}, rng, 0.5f), random_tensor({6, 6}, rng, 0.5f),
             random_tensor({6, 6}, rng, 0.5f), random_tensor({6, 6}, rng, 0.5f)});
}

TEST_CASE("composite: rmsnorm against a double-precision reference loop") {
    Rng rng(84);
    const int rows = 21, d = 10;
    const float eps = 1e-5f;
    Tensor x = random_tensor({3, 7, d}, rng, 2.0f);
    Tensor g = random_tensor({d}, rng);
    // y = x / sqrt(mean(x^2) + eps) * g, then L = sum(y * R) for a fixed projection R
    std::vector<double> R(static_cast<size_t>(rows) * d);
    for (size_t i = 0; i < R.size(); ++i) R[i] = std::sin(1.0 + 0.7 * double(i));
    auto reference = [&](const std::vector<double>& xv, const std::vector<double>& gv) {
        std::vector<double> y(xv.size());
        for (int r = 0; r < rows; ++r) {
            double ms = 0;
            for (int j = 0; j < d; ++j) ms += xv[r * d + j] * xv[r * d + j];
            const double inv = 1.0 / std::sqrt(ms / d + double(eps));
            for (int j = 0; j < d; ++j) y[r * d + j] = xv[r * d + j] * inv * gv[j];
        }
        return y;
    };
    auto loss = [&](const std::vector<double>& xv, const std::vector<double>& gv) {
        const std::vector<double> y = reference(xv, gv);
        double L = 0;
        for (size_t i = 0; i < y.size(); ++i) L += y[i] * R[i];
        return L;
    };

    Tensor y = rmsnorm(x, g, eps);
    const std::vector<double> y_ref = reference(as_double(x), as_double(g));
    for (size_t i = 0; i < y_ref.size(); ++i) CHECK(y.data()[i] == doctest::Approx(y_ref[i]).epsilon(1e-5).scale(1.0));

    std::vector<float> seed(R.begin(), R.end());
    backward(y, seed.data());
    const std::vector<double> dx_ref =
        numeric_gradient([&](const std::vector<double>& xv) { return loss(xv, as_double(g)); }, as_double(x));
    const std::vector<double> dg_ref =
        numeric_gradient([&](const std::vector<double>& gv) { return loss(as_double(x), gv); }, as_double(g));
    for (size_t i = 0; i < dx_ref.size(); ++i)
        CHECK(x.grad()[i] == doctest::Approx(dx_ref[i]).epsilon(1e-4).scale(1.0));
    for (size_t j = 0; j < dg_ref.size(); ++j)
        CHECK(g.grad()[j] == doctest::Approx(dg_ref[j]).epsilon(1e-4).scale(1.0));
}

TEST_CASE("composite: cross_entropy against a double-precision reference loop") {
    Rng rng(85);
    const int N = 9, V = 13;
    Tensor logits = random_tensor({N, V}, rng, 4.0f);
    logits.data()[5] = 60.0f;  // one very confident row
    const std::vector<int> targets = {0, 12, 5, 5, 7, 1, 3, 12, 9};
    auto reference = [&](const std::vector<double>& z) {  // mean of -log softmax[target], naively in double
        double total = 0;
        for (int i = 0; i < N; ++i) {
            double s = 0;
            for (int j = 0; j < V; ++j) s += std::exp(z[i * V + j]);
            total += -std::log(std::exp(z[i * V + targets[i]]) / s);
        }
        return total / N;
    };
    Tensor L = cross_entropy(logits, targets);
    CHECK(L.item() == doctest::Approx(reference(as_double(logits))).epsilon(1e-6));
    L.backward();
    const std::vector<double> d_ref = numeric_gradient(reference, as_double(logits));
    for (size_t i = 0; i < d_ref.size(); ++i)
        CHECK(logits.grad()[i] == doctest::Approx(d_ref[i]).epsilon(1e-4).scale(1.0));
}
