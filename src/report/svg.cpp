// svg.cpp — line plots and bar charts as standalone SVG 1.1 text (svg.h).
//
// Layout: a title block on top, the plot area in the middle with the y axis on its left, and,
// for line plots, the legend to the right of the plot area so that it never hides a curve.
// Both chart types share the document, the title block and the y axis; only the x axis (numeric
// or one label per bar) and the marks differ.
//
// Left out: text measurement (widths are estimated at 0.6 em per character), automatic label
// rotation, and log scales.
#include "glulab/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace glulab::svg {

// ---- building blocks ----

Ticks nice_ticks(double lo, double hi, int target, bool tight) {
    if (!std::isfinite(lo) || !std::isfinite(hi)) throw std::invalid_argument("nice_ticks: the range must be finite");
    if (target < 2) target = 2;
    if (lo > hi) std::swap(lo, hi);
    if (hi - lo <= 1e-12 * std::max(1.0, std::fabs(lo))) {  // one value: give it room around it
        const double pad = lo == 0.0 ? 1.0 : 0.05 * std::fabs(lo);
        lo -= pad;
        hi += pad;
    }
    // Heckbert's "nice numbers": round the raw step to 1, 2 or 5 times a power of ten.
    const double raw = (hi - lo) / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double n = raw / mag;
    Ticks t;
    t.step = (n < 1.5 ? 1.0 : n < 3.0 ? 2.0 : n < 7.0 ? 5.0 : 10.0) * mag;
    t.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(t.step) + 1e-9)));
    // The 1e-9 keeps a bound that is already a multiple of the step (up to rounding) as a tick.
    const double k_lo = lo / t.step, k_hi = hi / t.step;
    const auto kmin = static_cast<long long>(tight ? std::ceil(k_lo - 1e-9) : std::floor(k_lo + 1e-9));
    const auto kmax = static_cast<long long>(tight ? std::floor(k_hi + 1e-9) : std::ceil(k_hi - 1e-9));
    for (long long k = kmin; k <= kmax; ++k) t.values.push_back(static_cast<double>(k) * t.step);
    t.lo = tight ? lo : t.values.front();
    t.hi = tight ? hi : t.values.back();
    return t;
}

std::string format_number(double v, int decimals) {
    char buf[64];
    const double half_unit = 0.5 * std::pow(10.0, -decimals);
    if (std::fabs(v) < half_unit) v = 0.0;  // no "-0.00"
    std::snprintf(buf, sizeof buf, "%.*f", std::max(0, decimals), v);
    return buf;
}

std::string escape(const std::string& text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                // XML 1.0 forbids control characters other than tab, newline and return,
                // even as character references: drop them.
                if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += c;
        }
    }
    return out;
}

const std::vector<std::string>& palette() {
    static const std::vector<std::string> colours = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                     "#E69F00", "#56B4E9", "#8C8C8C", "#000000"};
    return colours;
}

// ---- the document and its shared parts ----

namespace {

constexpr double kCharWidth = 0.6;  // estimated glyph width, in em
constexpr const char* kTextColour = "#333333";
constexpr const char* kGridColour = "#e6e6e6";

// A pixel coordinate: two decimals, trailing zeros dropped. Callers only pass finite values.
std::string px(double v) {
    std::string s = format_number(v, 2);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
}

double text_width(const std::string& s, double font_size) {
    return kCharWidth * font_size * static_cast<double>(s.size());
}

// An SVG document under construction; each method appends one element.
class Doc {
public:
    Doc(int width, int height) {
        out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + std::to_string(width) +
               "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
               std::to_string(height) + "\" font-family=\"Helvetica, Arial, sans-serif\">\n";
        // An opaque background, so the plot stays readable on dark-mode pages.
        rect(0, 0, width, height, "#ffffff");
    }
    void raw(const std::string& element) { out_ += element + "\n"; }
    void line(double x1, double y1, double x2, double y2, const std::string& stroke, double width,
              const std::string& extra = "") {
        raw("<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) + "\" stroke=\"" +
            stroke + "\" stroke-width=\"" + px(width) + "\"" + extra + "/>");
    }
    void rect(double x, double y, double w, double h, const std::string& fill, const std::string& extra = "") {
        raw("<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(w) + "\" height=\"" + px(h) + "\" fill=\"" +
            fill + "\"" + extra + "/>");
    }
    // anchor: start, middle or end; extra: further attributes (" font-weight=\"bold\"").
    void text(double x, double y, const std::string& s, double size, const char* anchor = "start",
              const std::string& extra = "") {
        raw("<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" font-size=\"" + px(size) + "\" text-anchor=\"" + anchor +
            "\" fill=\"" + kTextColour + "\"" + extra + ">" + escape(s) + "</text>");
    }
    std::string finish() { return out_ + "</svg>\n"; }

private:
    std::string out_;
};

// The plot area in pixels and the data range it shows.
struct Frame {
    double left = 0, top = 0, width = 0, height = 0;
    Ticks x, y;
    double px_x(double v) const { return left + (v - x.lo) / (x.hi - x.lo) * width; }
    double px_y(double v) const { return top + height - (v - y.lo) / (y.hi - y.lo) * height; }
    double bottom() const { return top + height; }
    double right() const { return left + width; }
};

// Room above the plot area for the title block.
double title_height(const std::string& title, const std::string& subtitle) {
    return 18.0 + (title.empty() ? 0.0 : 22.0) + (subtitle.empty() ? 0.0 : 18.0);
}

void draw_title(Doc& doc, const Frame& f, const std::string& title, const std::string& subtitle) {
    double y = 18.0;
    if (!title.empty()) doc.text(f.left, y += 12.0, title, 16, "start", " font-weight=\"bold\"");
    if (!subtitle.empty()) doc.text(f.left, y += 18.0, subtitle, 12, "start", " fill-opacity=\"0.8\"");
}

// Room left of the plot area for the y tick labels and the rotated axis label.
double y_axis_width(const Ticks& y, bool has_label) {
    double widest = 0.0;
    for (double v : y.values) widest = std::max(widest, text_width(format_number(v, y.decimals), 12));
    return widest + 16.0 + (has_label ? 24.0 : 0.0);
}

// Horizontal grid lines with their labels, the left axis line and the rotated y label.
void draw_y_axis(Doc& doc, const Frame& f, const std::string& label) {
    for (double v : f.y.values) {
        const double y = f.px_y(v);
        doc.line(f.left, y, f.right(), y, kGridColour, 1);
        doc.text(f.left - 8, y + 4, format_number(v, f.y.decimals), 12, "end");
    }
    doc.line(f.left, f.top, f.left, f.bottom(), kTextColour, 1);
    if (!label.empty()) {
        const double x = 18.0, y = f.top + f.height / 2;
        doc.text(x, y, label, 13, "middle", " transform=\"rotate(-90 " + px(x) + " " + px(y) + ")\"");
    }
}

// Tick marks, tick labels, the bottom axis line and the x label of a numeric x axis.
void draw_x_axis(Doc& doc, const Frame& f, const std::string& label) {
    for (double v : f.x.values) {
        const double x = f.px_x(v);
        doc.line(x, f.bottom(), x, f.bottom() + 5, kTextColour, 1);
        doc.text(x, f.bottom() + 19, format_number(v, f.x.decimals), 12, "middle");
    }
    doc.line(f.left, f.bottom(), f.right(), f.bottom(), kTextColour, 1);
    if (!label.empty()) doc.text(f.left + f.width / 2, f.bottom() + 40, label, 13, "middle");
}

std::string colour_of(const std::string& chosen, size_t index) {
    return chosen.empty() ? palette()[index % palette().size()] : chosen;
}

bool finite(double v) { return std::isfinite(v); }

}  // namespace

// ---- line plot ----

namespace {

// Maximal runs [begin, end) of indices where ok(i) holds: each becomes one unbroken path.
template <typename Ok>
std::vector<std::pair<size_t, size_t>> runs(size_t n, Ok ok) {
    std::vector<std::pair<size_t, size_t>> out;
    for (size_t i = 0; i < n;) {
        if (!ok(i)) { ++i; continue; }
        size_t j = i;
        while (j < n && ok(j)) ++j;
        out.emplace_back(i, j);
        i = j;
    }
    return out;
}

bool has_band(const Series& s) { return !s.band_lo.empty(); }

void check_series(const Series& s) {
    const size_t n = s.x.size();
    if (s.y.size() != n || (has_band(s) && (s.band_lo.size() != n || s.band_hi.size() != n)))
        throw std::invalid_argument("line_plot: series '" + s.name +
                                    "' has x, y and band vectors of different lengths");
}

// The data range over every finite point and band edge; false if there is none.
bool data_range(const std::vector<Series>& series, double& x0, double& x1, double& y0, double& y1) {
    x0 = y0 = INFINITY;
    x1 = y1 = -INFINITY;
    for (const Series& s : series)
        for (size_t i = 0; i < s.x.size(); ++i) {
            if (!finite(s.x[i])) continue;
            for (double v : {s.y[i], has_band(s) ? s.band_lo[i] : NAN, has_band(s) ? s.band_hi[i] : NAN}) {
                if (!finite(v)) continue;
                x0 = std::min(x0, s.x[i]);
                x1 = std::max(x1, s.x[i]);
                y0 = std::min(y0, v);
                y1 = std::max(y1, v);
            }
        }
    return x0 <= x1;
}

// The shaded band of a series: for each unbroken run, the upper edge left to right and the
// lower edge back, closed.
void draw_band(Doc& doc, const Frame& f, const Series& s, const std::string& colour) {
    const auto ok = [&](size_t i) { return finite(s.x[i]) && finite(s.band_lo[i]) && finite(s.band_hi[i]); };
    for (const auto& [b, e] : runs(s.x.size(), ok)) {
        std::string d;
        for (size_t i = b; i < e; ++i) d += (i == b ? "M" : " L") + px(f.px_x(s.x[i])) + "," + px(f.px_y(s.band_hi[i]));
        for (size_t i = e; i-- > b;) d += " L" + px(f.px_x(s.x[i])) + "," + px(f.px_y(s.band_lo[i]));
        doc.raw("<path d=\"" + d + " Z\" fill=\"" + colour + "\" fill-opacity=\"0.18\" stroke=\"none\"/>");
    }
}

void draw_line(Doc& doc, const Frame& f, const Series& s, const std::string& colour) {
    const std::string dash = s.dashed ? " stroke-dasharray=\"7 4\"" : "";
    const auto ok = [&](size_t i) { return finite(s.x[i]) && finite(s.y[i]); };
    for (const auto& [b, e] : runs(s.x.size(), ok)) {
        std::string d;
        for (size_t i = b; i < e; ++i) d += (i == b ? "M" : " L") + px(f.px_x(s.x[i])) + "," + px(f.px_y(s.y[i]));
        doc.raw("<path d=\"" + d + "\" fill=\"none\" stroke=\"" + colour +
                "\" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\"" + dash + "/>");
    }
    // Sparse series (evaluations every few hundred steps) also get a dot per point.
    if (s.x.size() <= 40)
        for (size_t i = 0; i < s.x.size(); ++i)
            if (ok(i))
                doc.raw("<circle cx=\"" + px(f.px_x(s.x[i])) +
                        "\" cy=\"" + px(f.px_y(s.y[i])) + "\" r=\"2.5\" fill=\"" +
                        colour + "\"/>");
}

double legend_width(const std::vector<Series>& series) {
    double widest = 0.0;
    for (const Series& s : series) widest = std::max(widest, text_width(s.name, 12));
    return 28.0 + widest + 16.0;
}

void draw_legend(Doc& doc, const Frame& f, const std::vector<Series>& series) {
    const double x = f.right() + 16;
    double y = f.top + 10;
    for (size_t i = 0; i < series.size(); ++i, y += 20) {
        const Series& s = series[i];
        const std::string colour = colour_of(s.colour, i);
        if (has_band(s)) doc.rect(x, y - 6, 22, 12, colour, " fill-opacity=\"0.18\"");
        doc.line(x, y, x + 22, y, colour, 2, s.dashed ? " stroke-dasharray=\"7 4\"" : "");
        doc.text(x + 28, y + 4, s.name, 12);
    }
}

}  // namespace

std::string line_plot(const LinePlot& plot) {
    for (const Series& s : plot.series) check_series(s);
    double x0, x1, y0, y1;
    if (!data_range(plot.series, x0, x1, y0, y1)) throw std::invalid_argument("line_plot: no finite points to plot");
    if (finite(plot.x_min)) x0 = std::min(x0, plot.x_min);
    if (finite(plot.y_min)) y0 = plot.y_min;
    if (finite(plot.y_max)) y1 = plot.y_max;

    Frame f;
    f.x = nice_ticks(x0, x1, 6, /*tight=*/true);
    f.y = nice_ticks(y0, y1, 6);
    f.top = title_height(plot.title, plot.subtitle);
    f.left = y_axis_width(f.y, !plot.y_label.empty());
    f.width = plot.width - f.left - legend_width(plot.series);
    f.height = plot.height - f.top - (plot.x_label.empty() ? 32.0 : 54.0);
    if (f.width < 50 || f.height < 50) throw std::invalid_argument("line_plot: the image is too small for its labels");

    Doc doc(plot.width, plot.height);
    draw_title(doc, f, plot.title, plot.subtitle);
    draw_y_axis(doc, f, plot.y_label);
    draw_x_axis(doc, f, plot.x_label);
    // Marks are clipped to the plot area, so a fixed y range cannot spill over the labels; 4 px
    // to each side keep the dots on the first and last step whole.
    doc.raw("<clipPath id=\"plot-area\"><rect x=\"" + px(f.left - 4) + "\" y=\"" + px(f.top) + "\" width=\"" +
            px(f.width + 8) + "\" height=\"" + px(f.height) + "\"/></clipPath>");
    doc.raw("<g clip-path=\"url(#plot-area)\">");
    for (size_t i = 0; i < plot.series.size(); ++i)
        if (has_band(plot.series[i])) draw_band(doc, f, plot.series[i], colour_of(plot.series[i].colour, i));
    for (size_t i = 0; i < plot.series.size(); ++i)
        draw_line(doc, f, plot.series[i], colour_of(plot.series[i].colour, i));
    doc.raw("</g>");
    draw_legend(doc, f, plot.series);
    return doc.finish();
}

// ---- bar chart ----

namespace {

// The y range of a bar chart: the bars with their error bars and the reference line, from 0
// when asked (or when the data nearly reach it anyway), else fitted with 15% padding.
Ticks bar_ticks(const BarChart& c) {
    double lo = INFINITY, hi = -INFINITY;
    for (const Bar& b : c.bars) {
        const double e = finite(b.error) ? std::fabs(b.error) : 0.0;
        lo = std::min(lo, b.value - e);
        hi = std::max(hi, b.value + e);
    }
    if (finite(c.reference)) {
        lo = std::min(lo, c.reference);
        hi = std::max(hi, c.reference);
    }
    const double pad = 0.15 * (hi - lo);
    if (c.from_zero || (lo > 0.0 && lo - pad <= 0.0)) lo = std::min(lo, 0.0);
    else lo -= pad;
    if (c.from_zero && hi < 0.0) hi = 0.0;
    else hi += pad;
    return nice_ticks(lo, hi, 6);
}

}  // namespace

std::string bar_chart(const BarChart& c) {
    if (c.bars.empty()) throw std::invalid_argument("bar_chart: no bars");
    for (const Bar& b : c.bars)
        if (!finite(b.value)) throw std::invalid_argument("bar_chart: bar '" + b.label + "' has no finite value");

    Frame f;
    f.y = bar_ticks(c);
    f.top = title_height(c.title, c.subtitle);
    f.left = y_axis_width(f.y, !c.y_label.empty());
    // The reference line's label sits right of the plot area, where no bar can hide it.
    const bool labelled_reference = finite(c.reference) && !c.reference_label.empty();
    f.width = c.width - f.left - (labelled_reference ? text_width(c.reference_label, 11) + 14.0 : 24.0);
    f.height = c.height - f.top - 48.0;
    if (f.width < 50 || f.height < 50) throw std::invalid_argument("bar_chart: the image is too small for its labels");

    Doc doc(c.width, c.height);
    draw_title(doc, f, c.title, c.subtitle);
    draw_y_axis(doc, f, c.y_label);

    // Bars grow from 0, or from the bottom of the axis when the axis does not reach 0.
    const double base = std::clamp(0.0, f.y.lo, f.y.hi);
    const double slot = f.width / static_cast<double>(c.bars.size());
    const double bar_w = slot * 0.62;
    struct ValueLabel {
        double x, y;
        std::string text;
    };
    std::vector<ValueLabel> value_labels;  // drawn at the end, over everything
    for (size_t i = 0; i < c.bars.size(); ++i) {
        const Bar& b = c.bars[i];
        const double cx = f.left + slot * (static_cast<double>(i) + 0.5);
        const double y_val = f.px_y(b.value), y_base = f.px_y(base);
        doc.rect(cx - bar_w / 2, std::min(y_val, y_base), bar_w, std::fabs(y_base - y_val), colour_of(b.colour, i),
                 " fill-opacity=\"0.85\"");
        double label_y = std::min(y_val, y_base);  // the top of what is drawn for this bar
        if (finite(b.error)) {
            const double e = std::fabs(b.error), top = f.px_y(b.value + e), bottom = f.px_y(b.value - e);
            const double cap = bar_w / 4;
            // A white halo under the dark strokes keeps the error bar visible on a dark bar.
            for (const auto& [colour, width] : {std::pair<const char*, double>{"#ffffff", 3.5}, {"#222222", 1.5}}) {
                doc.line(cx, top, cx, bottom, colour, width);
                doc.line(cx - cap, top, cx + cap, top, colour, width);
                doc.line(cx - cap, bottom, cx + cap, bottom, colour, width);
            }
            label_y = std::min(label_y, top);
        }
        value_labels.push_back({cx, label_y - 6, format_number(b.value, c.value_decimals)});
        doc.text(cx, f.bottom() + 19, b.label, 12, "middle");
    }
    doc.line(f.left, f.bottom(), f.right(), f.bottom(), kTextColour, 1);

    if (finite(c.reference)) {
        const double y = f.px_y(c.reference);
        doc.line(f.left, y, f.right(), y, "#444444", 1.2, " stroke-dasharray=\"6 4\"");
        if (labelled_reference) doc.text(f.right() + 6, y + 4, c.reference_label, 11);
    }
    // The values last, over the reference line, each on a white halo, so a bar that ends near
    // the line keeps a readable label.
    for (const ValueLabel& v : value_labels)
        doc.text(v.x, v.y, v.text, 11, "middle", " stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\"");
    // A bar chart whose axis does not start at 0 exaggerates differences: say so on the chart.
    if (base != 0.0)
        doc.text(f.left, f.bottom() + 38, "note: the y axis does not reach 0; bars start at " +
                 format_number(base, f.y.decimals), 11, "start", " font-style=\"italic\"");
    return doc.finish();
}

}  // namespace glulab::svg
