// stats.cpp — means, standard deviations, Student-t intervals and rank correlations (stats.h).
//
// The t quantile is computed, not looked up: Student's t CDF is written with the regularized
// incomplete beta function I_x(a, b) (evaluated by its continued fraction, modified Lentz
// method, as in Numerical Recipes §6.4), and the quantile is found by bisection on that CDF.
// This is exact to ~1e-12 for any df, including the fractional df of Welch's test, where a
// table for integer df would need interpolation.
//
// Left out: p-values, bootstrap intervals and multiple-comparison corrections. The report
// only needs intervals, and says in words that eight variants are being compared.
#include "glulab/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace glulab::stats {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

// ---- moments ----

double mean(const std::vector<double>& x) {
    if (x.empty()) return kNaN;
    double sum = 0.0;
    for (double v : x) sum += v;
    return sum / static_cast<double>(x.size());
}

double sample_std(const std::vector<double>& x) {
    if (x.size() < 2) return kNaN;
    const double m = mean(x);
    double ss = 0.0;  // two passes: sum of squared deviations, stable for values near each other
    for (double v : x) ss += (v - m) * (v - m);
    return std::sqrt(ss / static_cast<double>(x.size() - 1));
}

double quantile(std::vector<double> x, double q) {
    if (x.empty()) return kNaN;
    std::sort(x.begin(), x.end());
    const double rank = q * static_cast<double>(x.size() - 1);
    const size_t below = static_cast<size_t>(rank);
    if (below + 1 >= x.size()) return x.back();
    return x[below] + (rank - static_cast<double>(below)) * (x[below + 1] - x[below]);
}

double median(std::vector<double> x) { return quantile(std::move(x), 0.5); }

// ---- Student's t via the regularized incomplete beta function ----

namespace {

// The continued fraction for I_x(a, b), converging fast for x < (a + 1) / (a + b + 2):
//   I_x(a,b) = x^a (1-x)^b / (a B(a,b)) * 1 / (1 + d1 / (1 + d2 / (1 + ...)))
//   d_{2m+1} = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1)),   d_{2m} = m(b-m) x / ((a+2m-1)(a+2m))
// evaluated front to back by the modified Lentz method (tiny stands in for a zero denominator).
double beta_continued_fraction(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-15;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (std::fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double f = d;
    for (int m = 1; m <= 1000; ++m) {
        const double m2 = 2.0 * m;
        for (int half = 0; half < 2; ++half) {
            const double coef = half == 0 ? m * (b - m) * x / ((a + m2 - 1.0) * (a + m2))
                                          : -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
            d = 1.0 + coef * d;
            c = 1.0 + coef / c;
            if (std::fabs(d) < tiny) d = tiny;
            if (std::fabs(c) < tiny) c = tiny;
            d = 1.0 / d;
            f *= d * c;
            if (half == 1 && std::fabs(d * c - 1.0) < eps) return f;
        }
    }
    return f;  // not reached for the a, b the t distribution uses
}

// I_x(a, b) for 0 <= x <= 1, using I_x(a,b) = 1 - I_{1-x}(b,a) where the fraction is slow.
double regularized_incomplete_beta(double a, double b, double x) {
    if (x <= 0.0) return 0.0;
    if (x >= 1.0) return 1.0;
    const double log_front =
        std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * beta_continued_fraction(a, b, x) / a;
    return 1.0 - std::exp(log_front) * beta_continued_fraction(b, a, 1.0 - x) / b;
}

// P(T > t) for t >= 0: 0.5 * I_{df/(df+t^2)}(df/2, 1/2). Kept as a tail so that quantiles
// near p = 1 do not lose digits to 1 - p.
double t_upper_tail(double t, double df) {
    return 0.5 * regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
}

void check_df(double df, const char* where) {
    if (!(df > 0.0)) throw std::invalid_argument(std::string(where) + ": degrees of freedom must be > 0");
}

}  // namespace

double t_cdf(double t, double df) {
    check_df(df, "t_cdf");
    const double tail = t_upper_tail(std::fabs(t), df);
    return t >= 0.0 ? 1.0 - tail : tail;
}

double t_quantile(double p, double df) {
    check_df(df, "t_quantile");
    if (!(p > 0.0 && p < 1.0)) throw std::invalid_argument("t_quantile: p must be in (0, 1)");
    if (p < 0.5) return -t_quantile(1.0 - p, df);
    if (p == 0.5) return 0.0;
    const double tail = 1.0 - p;
    // Bracket the answer in [lo, hi], then bisect: the tail is monotone, so this cannot fail.
    double lo = 0.0, hi = 1.0;
    while (t_upper_tail(hi, df) > tail) {
        lo = hi;
        hi *= 2.0;
    }
    for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; ++i) {
        const double mid = 0.5 * (lo + hi);
        (t_upper_tail(mid, df) > tail ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

// ---- confidence intervals ----

Interval contrast_ci95(const std::vector<std::vector<double>>& groups, const std::vector<double>& weights) {
    if (groups.size() != weights.size()) throw std::invalid_argument("contrast_ci95: one weight per group");
    Interval r;
    double var = 0.0, df_den = 0.0, df_pooled = 0.0;
    bool enough = true;
    for (size_t i = 0; i < groups.size(); ++i) {
        const double n = static_cast<double>(groups[i].size());
        r.estimate += weights[i] * mean(groups[i]);
        if (groups[i].size() < 2) { enough = false; continue; }
        const double s = sample_std(groups[i]);
        const double v = weights[i] * weights[i] * s * s / n;  // variance of this term
        var += v;
        df_den += v * v / (n - 1.0);
        df_pooled += n - 1.0;
    }
    if (!enough) {
        r.low = r.high = r.df = kNaN;
        return r;
    }
    // Welch–Satterthwaite: df = (sum v_i)^2 / sum v_i^2 / (n_i - 1). When every group has zero
    // spread (identical reruns) that is 0/0; the interval is then the point, whatever the df.
    r.df = df_den > 0.0 ? var * var / df_den : df_pooled;
    const double half = var > 0.0 ? t_quantile(0.975, r.df) * std::sqrt(var) : 0.0;
    r.low = r.estimate - half;
    r.high = r.estimate + half;
    return r;
}

Interval diff_ci95(const std::vector<double>& a, const std::vector<double>& b) {
    return contrast_ci95({a, b}, {1.0, -1.0});
}

Interval mean_ci95(const std::vector<double>& x) { return contrast_ci95({x}, {1.0}); }

// ---- rank correlations ----

std::vector<double> average_ranks(const std::vector<double>& x) {
    const size_t n = x.size();
    std::vector<double> r(n);
    // O(n^2) and obviously right: rank = 1 + (number below) + (number tied, others) / 2.
    for (size_t i = 0; i < n; ++i) {
        double below = 0.0, tied = 0.0;
        for (size_t j = 0; j < n; ++j) {
            if (x[j] < x[i]) below += 1.0;
            else if (j != i && x[j] == x[i]) tied += 1.0;
        }
        r[i] = 1.0 + below + tied / 2.0;
    }
    return r;
}

namespace {
void check_paired(const std::vector<double>& x, const std::vector<double>& y, const char* where) {
    if (x.size() != y.size())
        throw std::invalid_argument(std::string(where) + ": samples differ in length (" + std::to_string(x.size()) +
                                    " vs " + std::to_string(y.size()) + ")");
}

int sign(double v) { return (v > 0.0) - (v < 0.0); }

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
    const double mx = mean(x), my = mean(y);
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx == 0.0 || syy == 0.0) return kNaN;
    return sxy / std::sqrt(sxx * syy);
}
}  // namespace

// tau_b = (concordant - discordant) / sqrt((n0 - ties_x) (n0 - ties_y)), n0 = n(n-1)/2, where
// ties_x counts pairs tied in x (including those tied in both), likewise ties_y.
double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
    check_paired(x, y, "kendall_tau_b");
    double concordant_minus_discordant = 0.0, untied_x = 0.0, untied_y = 0.0;
    for (size_t i = 0; i < x.size(); ++i)
        for (size_t j = i + 1; j < x.size(); ++j) {
            const int sx = sign(x[i] - x[j]), sy = sign(y[i] - y[j]);
            concordant_minus_discordant += sx * sy;
            untied_x += sx != 0;
            untied_y += sy != 0;
        }
    if (untied_x == 0.0 || untied_y == 0.0) return kNaN;
    return concordant_minus_discordant / std::sqrt(untied_x * untied_y);
}

double spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
    check_paired(x, y, "spearman_rho");
    return pearson(average_ranks(x), average_ranks(y));
}

}  // namespace glulab::stats
