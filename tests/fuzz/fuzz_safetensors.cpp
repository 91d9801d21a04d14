// fuzz_safetensors.cpp — libFuzzer target for the safetensors reader and writer
// (src/io/safetensors.cpp). An input is a whole file; it must either be refused with one line
// "safetensors PATH: ...", or read, write and read back to the same tensors and metadata.
// Build and run: `make fuzz` (tests/fuzz/README.md).
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return glulab::fuzz::guarded([&] { glulab::fuzz::safetensors_input(data, size); });
}
