// test_optim.cpp — the schedule, AdamW and clipping against hand-computed values.
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <string>

#include "glulab/optim.h"
#include "thread_count.h"

using namespace glulab;
using glulab::testing::ThreadCountGuard;

TEST_CASE("schedule: warm-up from 0, 1e-3 at step 100, exactly 1e-4 at the last step") {
    ScheduleConfig c;
    CHECK(learning_rate(c, 0, 1000) == 0.0f);
    CHECK(learning_rate(c, 50, 1000) == doctest::Approx(5e-4));
    CHECK(learning_rate(c, 100, 1000) == doctest::Approx(1e-3));
    CHECK(learning_rate(c, 999, 1000) == doctest::Approx(1e-4).epsilon(1e-6));
    const double mid = 1e-4 + 0.5 * 9e-4 * (1 + std::cos(M_PI * 449.5 / 899.0));
    CHECK(learning_rate(c, 549, 1000) == doctest::Approx(mid).epsilon(1e-6));
    CHECK(std::isfinite(learning_rate(c, 100, 101)));  // the spec's 0/0 corner
}

namespace {
ParameterList one_parameter(std::vector<float> w, std::vector<float> g, ParamKind kind) {
    Tensor t = Tensor::from_values({static_cast<int>(w.size())}, w, true);
    for (size_t i = 0; i < g.size(); ++i) t.grad()[i] = g[i];
    return {{"p", t, kind}};
}
}  // namespace

TEST_CASE("adamw: the first two steps match the formulas, decay only on non-gains") {
    for (ParamKind kind : {ParamKind::Linear, ParamKind::Gain}) {
        ParameterList params = one_parameter({1.0f, -2.0f}, {0.5f, -0.25f}, kind);
        AdamW opt(params);
        const float lr = 0.01f;
        opt.step(params, lr);
        // Step 1: m_hat = g, v_hat = g^2, so the update is lr * g / (|g| + eps) = lr * sign(g).
        const double decay = kind == ParamKind::Gain ? 1.0 : 1.0 - lr * 0.1;
        CHECK(params[0].value.data()[0] == doctest::Approx(1.0 * decay - lr).epsilon(1e-6));
        CHECK(params[0].value.data()[1] == doctest::Approx(-2.0 * decay + lr).epsilon(1e-6));
        // Step 2 with the same gradient: m = g (0.9 * 0.1 + 0.1) ... bias-corrected back to g.
        const double w1 = params[0].value.data()[0];
        opt.step(params, lr);
        CHECK(params[0].value.data()[0] == doctest::Approx(w1 * decay - lr).epsilon(1e-5));
    }
}

TEST_CASE("clipping: scales to the max norm only when above it, and reports the norm before") {
    ParameterList params = one_parameter({0, 0}, {3.0f, 4.0f}, ParamKind::Linear);
    CHECK(clip_grad_norm(params, 1.0) == doctest::Approx(5.0));
    CHECK(params[0].value.grad()[0] == doctest::Approx(0.6).epsilon(1e-5));
    CHECK(params[0].value.grad()[1] == doctest::Approx(0.8).epsilon(1e-5));
    ParameterList small = one_parameter({0, 0}, {0.3f, 0.4f}, ParamKind::Linear);
    clip_grad_norm(small, 1.0);
    CHECK(small[0].value.grad()[0] == 0.3f);
}

// train_step() relies on this: it checks the norm, not every gradient, for divergence.
TEST_CASE("clipping: a gradient of inf or NaN anywhere makes the norm inf or NaN") {
    for (float bad : {INFINITY, -INFINITY, NAN}) {
        std::vector<float> grads(40, 0.5f);  // long enough for the 16-lane sum and its tail
        grads[37] = bad;
        ParameterList params = one_parameter(std::vector<float>(40, 1.0f), grads, ParamKind::Linear);
        CHECK_FALSE(std::isfinite(clip_grad_norm(params, 1.0)));
    }
}

// The parameters are shared among the threads: the norm and the clipped gradients must not
// depend on how many there are. Parameters of very different sizes, values that round
// differently in another order (a sum of squares in float lanes would show it).
TEST_CASE("clipping: the same bits with 1 and 2 threads") {
    auto make = [] {
        ParameterList params;
        for (int i = 0; i < 7; ++i) {
            const int n = i % 2 ? 100003 : 17 + i;
            Tensor t = Tensor::zeros({n}, true);
            for (int j = 0; j < n; ++j) t.grad()[j] = std::sin(0.37f * j + i) * (1.0f + j % 13);
            params.push_back({"p" + std::to_string(i), t, ParamKind::Linear});
        }
        return params;
    };
    ThreadCountGuard guard;
    ParameterList one = make(), two = make();
    omp_set_num_threads(1);
    const double norm1 = clip_grad_norm(one, 1.0);
    omp_set_num_threads(2);
    const double norm2 = clip_grad_norm(two, 1.0);
    CHECK(norm1 > 1.0);  // so the gradients were scaled
    CHECK(std::memcmp(&norm1, &norm2, sizeof norm1) == 0);
    for (size_t i = 0; i < one.size(); ++i)
        CHECK(std::memcmp(one[i].value.grad(), two[i].value.grad(), one[i].value.numel() * sizeof(float)) == 0);
}
