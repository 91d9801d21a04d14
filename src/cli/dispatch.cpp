// dispatch.cpp — `glulab <subcommand> ...`: the list of subcommands and the top-level help.
#include <cstdio>
#include <cstring>

#include "glulab/cli.h"

namespace glulab::cli {

int run(int argc, char** argv) {
    (void)argc;
    (void)argv;
    std::fprintf(stderr, "error: no subcommands yet\n");
    return 2;
}

}  // namespace glulab::cli
