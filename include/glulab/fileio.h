// fileio.h — whole-file reads and atomic writes.
//
// Atomic: the bytes go to a temporary file beside the target, are flushed and fsync'ed, and
// the temporary is renamed over the target. A crash or a full disk mid-write leaves the old
// file intact; a reader never sees half a file.
#pragma once
#include <string>
#include <vector>

#include "glulab/tensor.h"

namespace glulab {

// Throws std::runtime_error("cannot read PATH: reason").
std::string read_file(const std::string& path);
// Throws std::runtime_error("cannot write PATH: reason"); the target is untouched on failure.
void write_file_atomic(const std::string& path, const std::string& bytes);
// Creates a folder (and its parents) if needed; throws std::runtime_error naming it on failure.
void make_directories(const std::string& path);
bool file_exists(const std::string& path);

// A named float32 array: the unit of checkpoints and safetensors files.
struct NamedArray {
    std::string name;
    Shape shape;
    std::vector<float> values;
};

}  // namespace glulab
