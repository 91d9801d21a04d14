// svg.h — a tiny plotting library that writes standalone SVG 1.1 text: line plots with shaded
// bands (loss curves) and bar charts with error bars (final losses). No dependencies.
//
// The output renders in browsers and on code hosting sites (which show SVG through <img>, so
// it uses presentation attributes only: no scripts, no external fonts or stylesheets).
// Left out on purpose: log axes, multiple panels, interactivity and text measurement (label
// widths are estimated from the character count, good enough for short labels).
#pragma once
#include <limits>
#include <string>
#include <vector>

namespace glulab::svg {

// ---- building blocks (public so that tests and other plots can use them) ----

// Axis ticks at "nice" numbers: multiples of 1, 2 or 5 x 10^k covering [lo, hi].
struct Ticks {
    double lo = 0.0, hi = 1.0;   // the axis range: the first and last tick, unless tight
    double step = 0.2;
    int decimals = 1;            // digits after the point that show every tick exactly
    std::vector<double> values;  // lo, lo + step, ..., hi
};
// About `target` ticks for data in [lo, hi]. The axis range is widened out to the ticks around
// the data, or, if `tight`, stays [lo, hi] with only the ticks inside it (an x axis of steps
// 0..150 then ends at 150, not at 160). A zero-width range is widened around its value;
// non-finite bounds throw std::invalid_argument.
Ticks nice_ticks(double lo, double hi, int target = 6, bool tight = false);
// A tick label: fixed-point with the tick set's decimals ("0.25", "1000", "-1.5").
std::string format_number(double v, int decimals);

// Text made safe for SVG/XML character data and attribute values (& < > " ').
std::string escape(const std::string& text);

// Eight colours that stay distinct for the common forms of colour blindness: the Okabe & Ito
// (2008) palette, with its pale yellow (#F0E442, unreadable as a thin line on white) replaced
// by a mid grey and black moved last.
const std::vector<std::string>& palette();

// ---- line plot ----

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Series {
    std::string name;                 // shown in the legend
    std::vector<double> x, y;         // points; a non-finite y leaves a gap in the line
    std::vector<double> band_lo;      // optional shaded band (same length as x), e.g. min..max
    std::vector<double> band_hi;      //   or mean - std .. mean + std; empty for none
    std::string colour;               // empty: palette()[index of the series % 8]
    bool dashed = false;
};

struct LinePlot {
    std::string title, subtitle, x_label, y_label;
    std::vector<Series> series;
    int width = 760, height = 460;
    double x_min = kNaN;                // start the x axis here (e.g. step 0); NaN: at the data
    double y_min = kNaN, y_max = kNaN;  // fix the y range (data outside is clipped); NaN: fit the data
};

// The whole SVG document. Throws std::invalid_argument if no series has a finite point or a
// series' vectors differ in length.
std::string line_plot(const LinePlot& plot);

// ---- bar chart ----

struct Bar {
    std::string label;  // under the bar
    double value = 0.0;
    double error = kNaN;  // half-length of the error bar; NaN: no error bar
    std::string colour;   // empty: palette()[index % 8]
};

struct BarChart {
    std::string title, subtitle, y_label;
    std::vector<Bar> bars;
    double reference = kNaN;        // a dashed horizontal line at this value; NaN: none
    std::string reference_label;
    bool from_zero = false;         // false: the y axis is fitted to the bars (and says so when
                                    // it does not start at 0), so small differences are visible
    int width = 760, height = 440;
    int value_decimals = 3;         // digits of the value printed above each bar
};

// The whole SVG document. Throws std::invalid_argument if there are no bars or a value is not finite.
std::string bar_chart(const BarChart& chart);

}  // namespace glulab::svg
