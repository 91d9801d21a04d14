// test_svg.cpp — nice ticks, escaping, and well-formed line plots and bar charts.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "glulab/svg.h"
#include "svg_check.h"

using namespace glulab;
using glulab::testing::check_svg;

namespace {
// How many times `needle` occurs in `hay`.
size_t count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t i = hay.find(needle); i != std::string::npos; i = hay.find(needle, i + 1)) ++n;
    return n;
}

// Whether step is 1, 2 or 5 times a power of ten.
bool is_nice(double step) {
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (std::fabs(mantissa - m) < 1e-9) return true;
    return false;
}

svg::Series ramp(const std::string& name, double scale, bool band) {
    svg::Series s;
    s.name = name;
    for (int step = 0; step <= 1000; step += 50) {
        const double loss = 1.4 + scale * std::exp(-step / 200.0);
        s.x.push_back(step);
        s.y.push_back(loss);
        if (band) {
            s.band_lo.push_back(loss - 0.03);
            s.band_hi.push_back(loss + 0.03);
        }
    }
    return s;
}
}  // namespace

TEST_CASE("svg: nice ticks on known ranges") {
    const svg::Ticks a = svg::nice_ticks(0, 1000);
    CHECK(a.step == 200);
    CHECK(a.values.size() == 6);
    CHECK(a.lo == 0);
    CHECK(a.hi == 1000);
    CHECK(a.decimals == 0);
    const svg::Ticks b = svg::nice_ticks(1.43, 1.61);
    CHECK(b.step == doctest::Approx(0.05));
    CHECK(b.decimals == 2);
    CHECK(b.lo == doctest::Approx(1.40));
    CHECK(b.hi == doctest::Approx(1.65));
    CHECK(svg::format_number(b.values[1], b.decimals) == "1.45");
    const svg::Ticks c = svg::nice_ticks(-0.013, 0.021);
    CHECK(c.lo <= -0.013);
    CHECK(c.hi >= 0.021);
    bool has_zero = false;
    for (double v : c.values) has_zero = has_zero || svg::format_number(v, c.decimals) == "0.000";
    CHECK(has_zero);  // zero is a tick when the range spans it, and prints without a minus sign
}

TEST_CASE("svg: nice ticks cover the data with a 1-2-5 step, for many ranges") {
    for (double lo : {-1234.5, -3.0, 0.0, 0.001, 1.4, 17.0, 5e6})
        for (double span : {1e-6, 0.01, 0.37, 1.0, 9.9, 250.0, 1e7}) {
            const svg::Ticks t = svg::nice_ticks(lo, lo + span, 6);
            CHECK(is_nice(t.step));
            CHECK(t.lo <= lo + 1e-9 * std::fabs(lo));
            CHECK(t.hi >= lo + span - 1e-9 * std::fabs(lo + span));
            CHECK(t.values.size() >= 3);
            CHECK(t.values.size() <= 13);
            // Every tick prints differently at the chosen number of decimals.
            for (size_t i = 1; i < t.values.size(); ++i)
                CHECK(svg::format_number(t.values[i], t.decimals) != svg::format_number(t.values[i - 1], t.decimals));
        }
}

TEST_CASE("svg: tight ticks keep the range and list only the ticks inside it") {
    const svg::Ticks t = svg::nice_ticks(0, 150, 6, /*tight=*/true);
    CHECK(t.lo == 0);
    CHECK(t.hi == 150);
    CHECK(t.step == 20);
    CHECK(t.values.front() == 0);
    CHECK(t.values.back() == 140);
    const svg::Ticks u = svg::nice_ticks(25, 150, 6, true);
    CHECK(u.values.front() == 40);
    CHECK(svg::nice_ticks(0, 1000, 6, true).values.back() == 1000);  // a bound on a tick keeps it
}

TEST_CASE("svg: a zero-width range is widened, a non-finite one throws") {
    const svg::Ticks t = svg::nice_ticks(2.0, 2.0);
    CHECK(t.lo < 2.0);
    CHECK(t.hi > 2.0);
    CHECK_THROWS_AS(svg::nice_ticks(0, INFINITY), std::invalid_argument);
    CHECK_THROWS_AS(svg::nice_ticks(NAN, 1), std::invalid_argument);
}

TEST_CASE("svg: escape makes text safe and drops forbidden control characters") {
    CHECK(svg::escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
    CHECK(svg::escape(std::string("x\x01y\tz")) == "x" "y\tz");
    CHECK(svg::escape("caf\xc3\xa9") == "caf\xc3\xa9");
}

TEST_CASE("svg: the palette has eight distinct colours") {
    const auto& p = svg::palette();
    REQUIRE(p.size() == 8);
    for (size_t i = 0; i < p.size(); ++i)
        for (size_t j = i + 1; j < p.size(); ++j) CHECK(p[i] != p[j]);
}

TEST_CASE("svg: a line plot is well-formed and names every series") {
    svg::LinePlot plot;
    plot.title = "Validation loss <tiny> & \"friends\"";
    plot.subtitle = "mean of 3 seeds; band: min..max";
    plot.x_label = "step";
    plot.y_label = "loss (nats/byte)";
    plot.series = {ramp("relu", 4.0, true), ramp("swiglu", 3.5, true), ramp("geglu", 3.6, false)};
    plot.series[0].dashed = true;
    plot.series[2].y[5] = NAN;  // a gap
    const std::string doc = svg::line_plot(plot);
    CHECK(check_svg(doc) == "");
    for (const char* name : {"relu", "swiglu", "geglu"})
        CHECK(doc.find(std::string(">") + name + "<") != std::string::npos);
    CHECK(doc.find("Validation loss &lt;tiny&gt; &amp; &quot;friends&quot;") != std::string::npos);
    CHECK(count(doc, "fill-opacity=\"0.18\" stroke=\"none\"") == 2);  // two bands
    CHECK(count(doc, "stroke-dasharray=\"7 4\"") == 2);                // the dashed line and its legend entry
    CHECK(doc.find(svg::palette()[1]) != std::string::npos);
    CHECK(doc.find(">1000<") != std::string::npos);  // an x tick label
}

TEST_CASE("svg: a fixed y range clips, and bad input throws") {
    svg::LinePlot plot;
    plot.series = {ramp("a", 4.0, false)};
    plot.y_max = 2.0;
    const std::string doc = svg::line_plot(plot);
    CHECK(check_svg(doc) == "");
    CHECK(doc.find("clip-path=\"url(#plot-area)\"") != std::string::npos);

    svg::LinePlot empty;
    CHECK_THROWS_AS(svg::line_plot(empty), std::invalid_argument);
    svg::LinePlot ragged;
    ragged.series = {ramp("a", 1.0, false)};
    ragged.series[0].y.pop_back();
    CHECK_THROWS_AS(svg::line_plot(ragged), std::invalid_argument);
    svg::LinePlot all_nan;
    all_nan.series = {svg::Series{"n", {1, 2}, {NAN, NAN}, {}, {}, "", false}};
    CHECK_THROWS_AS(svg::line_plot(all_nan), std::invalid_argument);
}

TEST_CASE("svg: a bar chart is well-formed, with error bars, values and a reference line") {
    svg::BarChart c;
    c.title = "Final validation loss";
    c.y_label = "loss";
    c.bars = {{"relu", 1.52, 0.01, ""}, {"gelu", 1.515, 0.012, ""}, {"swiglu", 1.49, NAN, ""}};
    c.reference = 1.52;
    c.reference_label = "ReLU 1.520";
    const std::string doc = svg::bar_chart(c);
    CHECK(check_svg(doc) == "");
    for (const char* label : {">relu<", ">gelu<", ">swiglu<", ">1.515<", ">ReLU 1.520<"})
        CHECK(doc.find(label) != std::string::npos);
    CHECK(count(doc, "stroke=\"#222222\"") == 6);  // two error bars, three lines each
    CHECK(doc.find("does not reach 0") != std::string::npos);  // a fitted axis says so

    c.from_zero = true;
    const std::string zero = svg::bar_chart(c);
    CHECK(check_svg(zero) == "");
    CHECK(zero.find("does not reach 0") == std::string::npos);
    CHECK(zero.find(">0.0<") != std::string::npos);
}

TEST_CASE("svg: bars of differences may be negative") {
    svg::BarChart c;
    c.bars = {{"gelu", -0.01, 0.004, ""}, {"swiglu", -0.03, 0.005, ""}, {"swish", 0.004, 0.006, ""}};
    c.reference = 0.0;
    const std::string doc = svg::bar_chart(c);
    CHECK(check_svg(doc) == "");
    CHECK(doc.find("does not reach 0") == std::string::npos);
    CHECK_THROWS_AS(svg::bar_chart(svg::BarChart{}), std::invalid_argument);
    c.bars[0].value = NAN;
    CHECK_THROWS_AS(svg::bar_chart(c), std::invalid_argument);
}

TEST_CASE("svg: the checker itself rejects broken documents") {
    CHECK(check_svg(
              "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\" width=\"1\" height=\"1\"></svg>") == "");
    CHECK(check_svg(
              "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\" width=\"1\" height=\"1\">"
              "<g></svg>") != "");
    CHECK(check_svg(
              "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\" width=\"1\" height=\"1\">"
              "a & b</svg>") != "");
    CHECK(check_svg(
              "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\" width=\"1\" height=\"1\">"
              "<rect x=\"nan\"/></svg>") != "");
    CHECK(check_svg("<svg width=\"1\"></svg>") != "");
}
