// options.h — `--key value` parsing for the subcommands, with help generated from the specs.
//
// Every subcommand declares its options once (name, whether it takes a value, help text,
// default); parsing rejects unknown flags, missing values and malformed numbers with one line
// that names the flag, and `--help` prints the generated usage.
#pragma once
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace glulab::cli {

// Bad command-line input: main prints "error: <what>" and exits with status 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct OptionSpec {
    std::string name;          // without dashes: "steps"
    std::string value_name;    // "N"; empty for a switch such as --json
    std::string help;
    std::string default_text;  // shown in --help; empty: no default
};

struct CommandSpec {
    std::string name;     // "train"
    std::string summary;  // one line
    std::string example;  // a full command line
    std::vector<OptionSpec> options;
    std::string positional;  // e.g. "RUN_DIR..." if the command takes bare arguments
};

class Options {
public:
    // Throws UsageError. `help_requested()` is true when --help or -h was given.
    static Options parse(const CommandSpec& spec, const std::vector<std::string>& args);

    bool help_requested() const { return help_; }
    bool has(const std::string& name) const { return values_.count(name) > 0; }
    bool flag(const std::string& name) const { return has(name); }
    std::string text(const std::string& name, const std::string& fallback = "") const;
    std::string required(const std::string& name) const;  // throws "--name is required"
    // Whole numbers in [lo, hi]; "12x", "1e3", "" and out-of-range values are rejected.
    long integer(const std::string& name, long fallback, long lo, long hi) const;
    // Finite numbers in [lo, hi]; "nan", "inf" and trailing characters are rejected.
    double real(const std::string& name, double fallback, double lo, double hi) const;
    const std::vector<std::string>& positional() const { return positional_; }

private:
    std::map<std::string, std::string> values_;
    std::vector<std::string> positional_;
    bool help_ = false;
};

std::string usage(const CommandSpec& spec);

// Parses `args` against `spec`, prints usage for --help, runs `body`, and turns exceptions into
// one line on stderr: "error: ..." with exit code 2 for usage errors, 1 for everything else.
int run_command(const CommandSpec& spec, const std::vector<std::string>& args,
                const std::function<int(const Options&)>& body);

}  // namespace glulab::cli
