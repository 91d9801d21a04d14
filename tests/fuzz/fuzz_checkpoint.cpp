// fuzz_checkpoint.cpp — libFuzzer target for the checkpoint loader (src/io/checkpoint.cpp).
// An input is a mode byte and a file (see checkpoint_file_bytes in fuzz_entry.h); the file must
// either load, and then save back to the same bytes, or be refused with a one-line
// CheckpointError. Build and run: `make fuzz` (tests/fuzz/README.md).
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return glulab::fuzz::guarded([&] { glulab::fuzz::checkpoint_input(data, size); });
}
