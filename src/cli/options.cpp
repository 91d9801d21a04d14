// options.cpp — strict `--key value` parsing and generated help.
#include "glulab/options.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace glulab::cli {

namespace {
const OptionSpec* find_option(const CommandSpec& spec, const std::string& name) {
    for (const OptionSpec& o : spec.options)
        if (o.name == name) return &o;
    return nullptr;
}
}  // namespace

Options Options::parse(const CommandSpec& spec, const std::vector<std::string>& args) {
    Options out;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            out.help_ = true;
            continue;
        }
        if (a.rfind("--", 0) != 0 || a.size() == 2) {
            if (spec.positional.empty())
                throw UsageError("glulab " + spec.name + ": unexpected argument '" + a + "' (see glulab " + spec.name +
                                 " --help)");
            out.positional_.push_back(a);
            continue;
        }
        std::string name = a.substr(2), value;
        const size_t eq = name.find('=');
        const bool inline_value = eq != std::string::npos;
        if (inline_value) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const OptionSpec* o = find_option(spec, name);
        if (!o) throw UsageError("glulab " + spec.name + ": unknown option --" + name + " (see glulab " + spec.name +
                                 " --help)");
        if (o->value_name.empty()) {
            if (inline_value) throw UsageError("--" + name + " takes no value");
        } else if (!inline_value) {
            if (i + 1 >= args.size()) throw UsageError("--" + name + " needs a value " + o->value_name);
            value = args[++i];
        }
        if (out.values_.count(name)) throw UsageError("--" + name + " is given twice");
        out.values_[name] = value;
    }
    return out;
}

std::string Options::text(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

std::string Options::required(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end() || it->second.empty()) throw UsageError("--" + name + " is required");
    return it->second;
}

long Options::integer(const std::string& name, long fallback, long lo, long hi) const {
    if (!has(name)) return fallback;
    const std::string& s = values_.at(name);
    errno = 0;
    char* end = nullptr;
    const long v = s.empty() ? 0 : std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno == ERANGE)
        throw UsageError("--" + name + " expects a whole number, got '" + s + "'");
    if (v < lo || v > hi)
        throw UsageError("--" + name + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                         ", got " + s);
    return v;
}

double Options::real(const std::string& name, double fallback, double lo, double hi) const {
    if (!has(name)) return fallback;
    const std::string& s = values_.at(name);
    char* end = nullptr;
    const double v = s.empty() ? 0.0 : std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v))
        throw UsageError("--" + name + " expects a finite number, got '" + s + "'");
    if (v < lo || v > hi) {
        char range[96];
        std::snprintf(range, sizeof range, "between %g and %g", lo, hi);
        throw UsageError("--" + name + " must be " + range + ", got " + s);
    }
    return v;
}

std::string usage(const CommandSpec& spec) {
    std::string u = "usage: glulab " + spec.name + " [options]" +
                    (spec.positional.empty() ? "" : " " + spec.positional) +
                    "\n\n" + spec.summary + "\n\noptions:\n";
    for (const OptionSpec& o : spec.options) {
        std::string left = "  --" + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
        if (left.size() < 26) left.resize(26, ' ');
        else left += "  ";
        u += left + o.help + (o.default_text.empty() ? "" : " (default " + o.default_text + ")") + "\n";
    }
    u += "  --help                  this message\n\nexample:\n  " + spec.example + "\n";
    return u;
}

int run_command(const CommandSpec& spec, const std::vector<std::string>& args,
                const std::function<int(const Options&)>& body) {
    try {
        const Options options = Options::parse(spec, args);
        if (options.help_requested()) {
            std::fputs(usage(spec).c_str(), stdout);
            return 0;
        }
        return body(options);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}

}  // namespace glulab::cli
