// gradcheck.h — finite-difference gradient checking, shared by every op and model test.
//
// The check: pick a fixed random projection R of the output and compare, for every input
// element, the analytic dL/dx of L = sum(f(x) * R) (one backward seeded with R) with the
// central difference (L(x + h) - L(x - h)) / 2h. A projection, not sum(f(x)): for softmax
// sum(f(x)) is constant and would hide any bug.
//
// Tolerance: the forward runs in float32 (relative rounding ~6e-8 per op) while L is summed in
// double. With h = 1e-2 on inputs of size ~1 the central difference has truncation error
// ~h^2/6 * |f'''| ~ 2e-5 and rounding error ~ eps_f32 * |L| / h ~ 1e-5 * |L|; a mismatch from a
// wrong derivative is of the size of the gradient itself. So |analytic - numeric| <=
// atol + rtol * max(|analytic|, |numeric|) with atol = 2e-3 and rtol = 2e-2 separates the two
// by orders of magnitude on the sizes used here (a wrong factor of 2, or a missing term, fails).
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "glulab/autograd.h"
#include "glulab/rng.h"
#include "glulab/tensor.h"

namespace glulab::testing {

// A tensor of the given shape with N(0, std) entries from a seeded generator.
inline Tensor random_tensor(const Shape& shape, Rng& rng, float std = 1.0f, bool requires_grad = true) {
    std::vector<float> v(shape_numel(shape));
    for (float& x : v) x = std * rng.normal();
    return Tensor::from_values(shape, std::move(v), requires_grad);
}

// Checks that every element of `got` is within rel times the largest magnitude in `want`: for
// two ways of computing the same numbers whose last bits may differ (a fused op against its
// composition, a fast kernel against its reference). `want` must not be all zeros, or the check
// would say nothing.
inline void check_close(const std::vector<float>& got, const std::vector<float>& want, double rel) {
    REQUIRE(got.size() == want.size());
    double largest = 0.0, worst = 0.0;
    for (size_t i = 0; i < want.size(); ++i) {
        largest = std::max(largest, std::fabs(static_cast<double>(want[i])));
        worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - want[i]));
    }
    INFO("largest |want| " << largest << ", largest difference " << worst);
    CHECK(largest > 0.0);
    CHECK(worst <= rel * largest);
}

struct GradcheckOptions {
    double h = 1e-2;
    double atol = 2e-3;
    double rtol = 2e-2;
    size_t max_elements = 0;  // per input; 0 checks every element, n checks n evenly spread ones
};

// Checks every input that requires a gradient. `f` must build a fresh graph from `inputs` each call.
inline void check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                            GradcheckOptions opt = {}, uint64_t seed = 1234) {
    Tensor out = f(inputs);
    Rng rng(seed);
    std::vector<float> R(out.numel());
    for (float& r : R) r = rng.normal();

    auto projected_loss = [&]() {
        NoGradGuard no_grad;
        Tensor y = f(inputs);
        double L = 0.0;
        for (size_t i = 0; i < y.numel(); ++i) L += static_cast<double>(y.data()[i]) * R[i];
        return L;
    };

    for (Tensor& in : inputs) in.zero_grad();
    backward(out, R.data());

    for (size_t which = 0; which < inputs.size(); ++which) {
        Tensor& x = inputs[which];
        if (!x.requires_grad()) continue;
        REQUIRE(x.has_grad());
        const std::vector<float> analytic = x.grad_vector();
        const size_t stride = opt.max_elements ? std::max<size_t>(1, x.numel() / opt.max_elements) : 1;
        for (size_t i = 0; i < x.numel(); i += stride) {
            const float saved = x.data()[i];
            x.data()[i] = static_cast<float>(saved + opt.h);
            const double plus = projected_loss();
            x.data()[i] = static_cast<float>(saved - opt.h);
            const double minus = projected_loss();
            x.data()[i] = saved;
            const double numeric = (plus - minus) / (2.0 * opt.h);
            const double a = analytic[i];
            const double allowed = opt.atol + opt.rtol * std::max(std::fabs(a), std::fabs(numeric));
            INFO("input " << which << " " << x.shape_str() << " element " << i << ": analytic " << a << ", numeric "
                          << numeric);
            CHECK(std::fabs(a - numeric) <= allowed);
        }
    }
}

}  // namespace glulab::testing
