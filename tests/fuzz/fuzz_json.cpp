// fuzz_json.cpp — libFuzzer target for the JSON parser (src/io/json.cpp), which reads the
// safetensors headers and the runs' summaries and metrics. An input is JSON text; it must either
// be refused with "json: ... at byte N", or parse to a value that json::quote and
// json::number_to_string write back to text that parses to the same value, bit for bit.
// Build and run: `make fuzz` (tests/fuzz/README.md).
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    return glulab::fuzz::guarded([&] { glulab::fuzz::json_input(data, size); });
}
