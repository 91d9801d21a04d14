// cli.h — the `glulab` command: one function per subcommand (src/cli/<name>.cpp).
// Each takes the arguments after the subcommand name and returns the process exit code;
// errors print one line "error: ..." to stderr and return non-zero (2 for bad usage).
#pragma once
#include <string>
#include <vector>

namespace glulab::cli {

using Args = std::vector<std::string>;

int run(int argc, char** argv);  // dispatch on argv[1]

int cmd_train(const Args& args);    // train.cpp
int cmd_eval(const Args& args);     // eval.cpp
int cmd_sample(const Args& args);   // sample.cpp
int cmd_export(const Args& args);   // export.cpp
int cmd_inspect(const Args& args);  // inspect.cpp

}  // namespace glulab::cli
