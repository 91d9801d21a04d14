// stats.h — the few statistics the reproduction report needs: means, seed spread, Student-t
// confidence intervals (Welch for differences) and rank correlations.
//
// Everything takes plain std::vector<double>. Quantities that are not defined for the data
// (a standard deviation of one value, a correlation of a constant ranking) come back as NaN or
// as an Interval with defined() == false; the report prints those as "n/a" rather than invent
// a number.
#pragma once
#include <vector>

namespace glulab::stats {

// Arithmetic mean; NaN for an empty sample.
double mean(const std::vector<double>& x);
// Sample standard deviation (n - 1 in the denominator); NaN for fewer than two values.
double sample_std(const std::vector<double>& x);
// The q-quantile, 0 <= q <= 1, interpolated linearly between the two nearest order statistics
// (rank q (n - 1), counted from 0); NaN for an empty sample. median(x) = quantile(x, 0.5): the
// middle value, or the mean of the two middle ones.
double quantile(std::vector<double> x, double q);
double median(std::vector<double> x);

// The p-quantile of Student's t distribution with df > 0 degrees of freedom (df may be
// fractional, as Welch's is); 0 < p < 1. t_quantile(0.975, 10) = 2.228...
double t_quantile(double p, double df);
// P(T <= t) for Student's t with df degrees of freedom.
double t_cdf(double t, double df);

// A point estimate with a two-sided 95% confidence interval.
struct Interval {
    double estimate = 0.0;
    double low = 0.0, high = 0.0;
    double df = 0.0;  // degrees of freedom of the t quantile used
    bool defined() const { return low == low && high == high; }  // false when low/high are NaN
};

// mean(x) +- t(0.975, n-1) * s / sqrt(n); low/high NaN for fewer than two values.
Interval mean_ci95(const std::vector<double>& x);
// mean(a) - mean(b) with Welch's interval (unequal variances, Welch–Satterthwaite df);
// low/high NaN unless both samples have at least two values.
Interval diff_ci95(const std::vector<double>& a, const std::vector<double>& b);
// sum_i weights[i] * mean(groups[i]), with the Welch–Satterthwaite interval for a linear
// contrast of independent group means (diff_ci95 is the case weights = {1, -1}).
Interval contrast_ci95(const std::vector<std::vector<double>>& groups, const std::vector<double>& weights);

// 1-based ranks of x, ties sharing the average of the ranks they span: {10, 20, 20} -> {1, 2.5, 2.5}.
std::vector<double> average_ranks(const std::vector<double>& x);
// Kendall's tau-b between two paired samples (ties allowed); NaN if either is constant.
double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);
// Spearman's rho: Pearson's correlation of the average ranks; NaN if either is constant.
double spearman_rho(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace glulab::stats
