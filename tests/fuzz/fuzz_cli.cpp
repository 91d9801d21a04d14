// fuzz_cli.cpp — libFuzzer target for the command line: glulab::cli::run (src/cli/dispatch.cpp,
// options.cpp and every subcommand's option handling). An input is one argument per line. The
// program must end with exit code 0, 1 or 2 and never crash; cli_input in fuzz_entry.h explains
// how the sandbox makes sure that no input can train, read a real file or write one.
// Build and run: `make fuzz` (tests/fuzz/README.md).
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return glulab::fuzz::guarded([&] { glulab::fuzz::cli_input(data, size); });
}
