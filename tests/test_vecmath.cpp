// test_vecmath.cpp — the vectorisable exp, sigmoid and tanh against libm, over the whole float
// range, and the fixed-order reductions against plain loops.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "glulab/vecmath.h"

using namespace glulab;

namespace {
// Every float in [lo, hi) at a relative spacing of about 1e-5 (and 1e-6 absolute near 0):
// about 2 million points over exp's range, every exponent and many mantissas.
template <class Visit>
void sweep(float lo, float hi, Visit visit) {
    for (float x = lo; x < hi; x += std::max(std::fabs(x) * 1e-5f, 1e-6f)) visit(x);
}
}  // namespace

TEST_CASE("vecmath: exp_approx is within 2e-7 relative of exp wherever exp is a normal float") {
    double worst = 0.0;
    float worst_at = 0.0f;
    sweep(-87.33f, 88.72f, [&](float x) {
        const double exact = std::exp(static_cast<double>(x));
        const double rel = std::fabs(exp_approx(x) - exact) / exact;
        if (rel > worst) worst = rel, worst_at = x;
    });
    INFO("worst relative error " << worst << " at x = " << worst_at);
    CHECK(worst < 2e-7);
}

TEST_CASE("vecmath: exp_approx at the edges: exact 1 at 0, 0 and inf beyond the range, NaN kept") {
    const float inf = std::numeric_limits<float>::infinity();
    CHECK(exp_approx(0.0f) == 1.0f);
    CHECK(exp_approx(-0.0f) == 1.0f);
    CHECK(exp_approx(-inf) == 0.0f);
    CHECK(exp_approx(-100.0f) == 0.0f);  // exp(-100) ~ 3.7e-44 is subnormal: flushed to 0
    CHECK(exp_approx(inf) == inf);
    CHECK(exp_approx(89.0f) == inf);
    CHECK(std::isnan(exp_approx(std::nanf(""))));
    // 88.7 needs 2^128 before the polynomial's factor below 1: built in two halves, still finite.
    CHECK(exp_approx(88.7f) == doctest::Approx(std::exp(88.7f)).epsilon(1e-6));
    CHECK(std::isfinite(exp_approx(88.72f)));
}

TEST_CASE("vecmath: sigmoid_approx and tanh_approx are within 3e-7 absolute of libm") {
    double worst_sigmoid = 0.0, worst_tanh = 0.0;
    sweep(-100.0f, 100.0f, [&](float x) {
        const double xd = x;
        worst_sigmoid = std::max(worst_sigmoid, std::fabs(sigmoid_approx(x) - 1.0 / (1.0 + std::exp(-xd))));
        worst_tanh = std::max(worst_tanh, std::fabs(tanh_approx(x) - std::tanh(xd)));
    });
    CHECK(worst_sigmoid < 3e-7);
    CHECK(worst_tanh < 3e-7);
    const float inf = std::numeric_limits<float>::infinity();
    CHECK(sigmoid_approx(-inf) == 0.0f);
    CHECK(sigmoid_approx(inf) == 1.0f);
    CHECK(tanh_approx(0.0f) == 0.0f);
    CHECK(tanh_approx(-inf) == -1.0f);
    CHECK(tanh_approx(inf) == 1.0f);
    CHECK(std::isnan(sigmoid_approx(std::nanf(""))));
}

TEST_CASE("vecmath: max_of, sum_of and dot_of agree with plain loops on every length 1..70") {
    std::vector<float> x(70), y(70);
    for (int i = 0; i < 70; ++i) {
        x[i] = std::sin(1.3f * i) * (i % 7 + 1);
        y[i] = std::cos(0.7f * i) - 0.25f;
    }
    for (int n = 1; n <= 70; ++n) {
        CAPTURE(n);
        float m = x[0];
        double s = 0.0, d = 0.0;
        for (int j = 0; j < n; ++j) {
            m = std::max(m, x[j]);
            s += x[j];
            d += static_cast<double>(x[j]) * y[j];
        }
        CHECK(max_of(x.data(), n) == m);  // max is exact in any order
        CHECK(sum_of(x.data(), n) == doctest::Approx(s).epsilon(1e-12));
        CHECK(dot_of(x.data(), y.data(), n) == doctest::Approx(d).epsilon(1e-12));
    }
}
