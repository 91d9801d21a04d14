// main.cpp — the entry point of build/glulab; the subcommands live in src/cli/.
#include "glulab/cli.h"

int main(int argc, char** argv) { return glulab::cli::run(argc, argv); }
