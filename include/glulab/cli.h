// cli.h — the `glulab` command: one function per subcommand (src/cli/<name>.cpp).
// Each takes the arguments after the subcommand name and returns the process exit code;
// errors print one line "error: ..." to stderr and return non-zero.
#pragma once
#include <string>
#include <vector>

namespace glulab::cli {

using Args = std::vector<std::string>;

int run(int argc, char** argv);  // dispatch on argv[1]

}  // namespace glulab::cli
