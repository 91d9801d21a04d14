// test_stats.cpp — means, standard deviations, t quantiles, Welch intervals and rank
// correlations against textbook values.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "glulab/stats.h"

using namespace glulab::stats;
using doctest::Approx;

TEST_CASE("stats: mean and sample standard deviation") {
    const std::vector<double> x = {2, 4, 4, 4, 5, 5, 7, 9};  // population std 2, sample std sqrt(32/7)
    CHECK(mean(x) == 5.0);
    CHECK(sample_std(x) == Approx(std::sqrt(32.0 / 7.0)).epsilon(1e-14));
    CHECK(std::isnan(mean({})));
    CHECK(std::isnan(sample_std({3.0})));  // one seed: no spread to report
    CHECK(sample_std({1.5, 1.5, 1.5}) == 0.0);
}

TEST_CASE("stats: quantiles and the median, in any order of the sample") {
    const std::vector<double> odd = {9, 1, 5, 3, 7};  // sorted 1 3 5 7 9
    CHECK(median(odd) == 5.0);
    CHECK(quantile(odd, 0.25) == 3.0);  // rank 1 exactly
    CHECK(quantile(odd, 0.0) == 1.0);
    CHECK(quantile(odd, 1.0) == 9.0);
    CHECK(quantile(odd, 0.1) == Approx(1.8));  // rank 0.4: between 1 and 3
    CHECK(median({4, 1, 3, 2}) == 2.5);        // the mean of the two middle values
    CHECK(median({6.0}) == 6.0);
    CHECK(std::isnan(median({})));
}

TEST_CASE("stats: t quantiles match the printed table") {
    // Two-sided 95% (p = 0.975) critical values from any t table, to the digits printed there.
    struct Row { double df, t; };
    const Row rows[] = {{1, 12.706204736}, {2, 4.302652730}, {3, 3.182446305}, {5, 2.570581836},
                        {7, 2.364624252}, {10, 2.228138852}, {30, 2.042272456}, {100, 1.983971519}};
    for (const Row& r : rows) CHECK(t_quantile(0.975, r.df) == Approx(r.t).epsilon(1e-9));
    CHECK(t_quantile(0.95, 5) == Approx(2.015048373).epsilon(1e-9));
    CHECK(t_quantile(0.995, 2) == Approx(9.924843201).epsilon(1e-9));
    CHECK(t_quantile(0.975, 1e7) == Approx(1.959963985).epsilon(1e-6));  // -> the normal quantile
    CHECK(t_quantile(0.5, 4) == 0.0);
    CHECK(t_quantile(0.025, 10) == Approx(-2.228138852).epsilon(1e-9));
}

TEST_CASE("stats: t_cdf inverts t_quantile, also for fractional df") {
    for (double df : {0.7, 1.0, 2.5, 7.3, 24.98, 300.0})
        for (double p : {0.6, 0.9, 0.975, 0.999}) CHECK(t_cdf(t_quantile(p, df), df) == Approx(p).epsilon(1e-10));
    CHECK(t_cdf(0.0, 3) == 0.5);
    CHECK(t_cdf(1.0, 1) == Approx(0.75));  // Cauchy: 1/2 + atan(1)/pi
    CHECK_THROWS(t_quantile(1.0, 3));
    CHECK_THROWS(t_quantile(0.9, 0));
}

TEST_CASE("stats: 95% interval of a mean") {
    const std::vector<double> x = {2, 4, 4, 4, 5, 5, 7, 9};
    const Interval ci = mean_ci95(x);
    const double half = 2.364624252 * std::sqrt(32.0 / 7.0) / std::sqrt(8.0);
    CHECK(ci.estimate == 5.0);
    CHECK(ci.df == 7.0);
    CHECK(ci.low == Approx(5.0 - half).epsilon(1e-9));
    CHECK(ci.high == Approx(5.0 + half).epsilon(1e-9));
    CHECK_FALSE(mean_ci95({1.0}).defined());
    CHECK(mean_ci95({1.0}).estimate == 1.0);
}

TEST_CASE("stats: Welch's interval for a difference of means (Wikipedia's example 1)") {
    // The Welch's t-test article: t = -2.46, df = 24.9 (24.99 before rounding), p = 0.021.
    const std::vector<double> a1 = {27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1,
                                    21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4};
    const std::vector<double> a2 = {27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0,
                                    24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4};
    const Interval d = diff_ci95(a1, a2);
    CHECK(d.estimate == Approx(-2.1666666667));
    CHECK(d.df == Approx(24.98853).epsilon(1e-6));
    const double se = 0.8824245100;  // sqrt(s1^2/n1 + s2^2/n2)
    CHECK(d.estimate / se == Approx(-2.4554).epsilon(1e-4));
    CHECK(2.0 * t_cdf(d.estimate / se, d.df) == Approx(0.0214).epsilon(0.02));
    const double half = t_quantile(0.975, d.df) * se;
    CHECK(d.low == Approx(d.estimate - half).epsilon(1e-9));
    CHECK(d.high == Approx(d.estimate + half).epsilon(1e-9));
    CHECK(d.high < 0.0);  // p < 0.05, so the interval excludes zero
    CHECK_FALSE(diff_ci95(a1, {20.0}).defined());
}

TEST_CASE("stats: a contrast of group means with zero spread has a zero-width interval") {
    const Interval c = contrast_ci95({{1.0, 1.0}, {2.0, 2.0}, {4.0, 4.0}}, {0.5, 0.5, -1.0});
    CHECK(c.estimate == -2.5);
    CHECK(c.low == -2.5);
    CHECK(c.high == -2.5);
    CHECK_THROWS(contrast_ci95({{1.0}}, {1.0, 2.0}));
}

TEST_CASE("stats: the contrast interval matches Welch for two groups and widens with weights") {
    const std::vector<double> a = {1.0, 1.2, 0.9}, b = {1.5, 1.4, 1.8, 1.6};
    const Interval d = diff_ci95(a, b), c = contrast_ci95({a, b}, {1.0, -1.0});
    CHECK(c.low == d.low);
    CHECK(c.high == d.high);
    const Interval twice = contrast_ci95({a, b}, {2.0, -2.0});
    CHECK(twice.high - twice.low == Approx(2.0 * (d.high - d.low)));
    CHECK(twice.df == Approx(d.df));
}

TEST_CASE("stats: average ranks share tied places") {
    const std::vector<double> r = average_ranks({10, 20, 20, 5, 30});
    CHECK(r == std::vector<double>{2, 3.5, 3.5, 1, 5});
}

TEST_CASE("stats: Kendall's tau-b") {
    // Hand count without ties: 6 concordant, 4 discordant pairs of 10 -> 0.2.
    CHECK(kendall_tau_b({1, 2, 3, 4, 5}, {3, 4, 1, 2, 5}) == Approx(0.2));
    // With ties: C = 4, D = 0, one pair tied in x, one in y -> 4 / sqrt(5 * 5) = 0.8.
    CHECK(kendall_tau_b({1, 2, 2, 3}, {1, 2, 3, 3}) == Approx(0.8));
    // SciPy's documented example of kendalltau: -0.47140452079103173.
    CHECK(kendall_tau_b({12, 2, 1, 12, 2}, {1, 4, 7, 1, 0}) == Approx(-0.47140452079103173).epsilon(1e-12));
    CHECK(kendall_tau_b({1, 2, 3}, {3, 2, 1}) == -1.0);
    CHECK(std::isnan(kendall_tau_b({1, 1, 1}, {1, 2, 3})));
    CHECK_THROWS(kendall_tau_b({1, 2}, {1, 2, 3}));
}

TEST_CASE("stats: Spearman's rho") {
    CHECK(spearman_rho({1, 2, 3, 4, 5}, {3, 4, 1, 2, 5}) == Approx(0.2));  // 1 - 6*16/(5*24)
    // Wikipedia's IQ vs. hours of TV example: rho = -29/165.
    CHECK(spearman_rho({106, 100, 86, 101, 99, 103, 97, 113, 112, 110}, {7, 27, 2, 50, 28, 29, 20, 12, 6, 17}) ==
          Approx(-29.0 / 165.0).epsilon(1e-12));
    // With ties (SciPy's documented spearmanr example): 0.8207826816681233.
    CHECK(spearman_rho({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}) == Approx(0.8207826816681233).epsilon(1e-12));
    CHECK(spearman_rho({1, 2, 2, 3}, {1, 2, 3, 3}) == Approx(3.75 / 4.5));
    CHECK(std::isnan(spearman_rho({2, 2}, {1, 2})));
}
