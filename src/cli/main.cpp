// main.cpp — the entry point of build/glulab; the subcommands live in src/cli/.
#include <malloc.h>

#include "glulab/cli.h"

int main(int argc, char** argv) {
#ifdef M_MMAP_THRESHOLD
    // A training step allocates and frees the same large activation buffers every step. By
    // default glibc serves blocks over 128 KiB with fresh mmaps and returns freed memory to the
    // system, so every step pays page faults to map them again. Keeping large blocks in the heap
    // (and not trimming it) lets the next step reuse them. Numerics are unaffected.
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
    return glulab::cli::run(argc, argv);
}
