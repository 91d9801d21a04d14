// checkpoint.h — the glulab checkpoint: configuration, counters and named float32 arrays in one
// self-checking binary file.
//
// A checkpoint holds everything needed to resume training bit-exactly: the resolved
// configuration as text key/values, integer counters (the step, every generator's state) and
// every parameter and optimiser moment by name. The format is ours (safetensors.h is the
// exchange format); it carries a magic string, a version, its own length and a CRC-32, so a
// truncated, corrupted or foreign file is refused with a one-line CheckpointError instead of
// being half-loaded.
//
// ---- format, version 1 ----
// Every integer is unsigned little-endian, whatever the machine; floats are IEEE-754 binary32
// stored as their bit pattern (u32 little-endian), so -0, denormals and NaN payloads survive.
// A "str" is a u32 byte length followed by that many bytes (UTF-8 by convention, no NUL).
//
//   offset  size  field
//   0       8     magic "GLULABCK" (ASCII, no terminator)
//   8       4     u32 format version = 1
//   12      8     u64 total file size in bytes, including the trailing CRC
//   20      4     u32 C, the number of config entries
//   24      4     u32 K, the number of counters
//   28      4     u32 A, the number of arrays
//   32      ...   C config entries:  str key, str value
//           ...   K counters:        str name, u64 value
//           ...   A arrays:          str name, u32 rank R (1..8), R x u32 dims (each >= 1),
//                                    then prod(dims) x f32 values, row-major
//   size-4  4     u32 CRC-32 (IEEE 802.3, as zlib's crc32) of every byte before it
//
// Entries keep the order they were given in. Names are unique within each of the three
// sections. Loading checks, in order: the file can be read; it is long enough for the header;
// the magic; the version; the stored size against the real size (truncation); the CRC (any
// flipped byte); then every count and length against the bytes that remain before anything
// is allocated, so a corrupt length field can never ask for gigabytes.
//
// Deliberately left out: compression, other dtypes, memory-mapping, partial loading.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "glulab/fileio.h"

namespace glulab {

constexpr char kCheckpointMagic[8] = {'G', 'L', 'U', 'L', 'A', 'B', 'C', 'K'};
constexpr uint32_t kCheckpointVersion = 1;

// Every checkpoint problem, as one line: "checkpoint PATH: what went wrong".
struct CheckpointError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct CheckpointContents {
    std::vector<std::pair<std::string, std::string>> config;  // {"ffn","swiglu"}, {"d_model","48"}, ...
    std::vector<std::pair<std::string, uint64_t>> counters;   // {"step",300}, {"rng.sampler.0", ...}
    std::vector<NamedArray> arrays;                           // parameters and optimiser moments

    // ---- look-ups; each throws CheckpointError("checkpoint PATH: missing 'name'") ----
    const std::string& config_value(const std::string& key) const;
    uint64_t counter(const std::string& name) const;
    const NamedArray& array(const std::string& name) const;
    // Also checks the shape: "checkpoint PATH: 'name' has shape (a, b), the model expects (c, d)".
    const NamedArray& array(const std::string& name, const Shape& expected) const;
    bool has_config(const std::string& key) const;
    bool has_counter(const std::string& name) const;
    bool has_array(const std::string& name) const;

    // The file these contents came from (set by load_checkpoint), for error messages. The
    // `= {}` keeps `CheckpointContents{config, counters, arrays}` free of -Wextra warnings.
    std::string path = {};
};

// Writes atomically (write_file_atomic): the old file stays intact if anything fails.
// Throws CheckpointError for contents that cannot be stored (duplicate or empty names, a shape
// whose element count differs from values.size(), rank 0 or above 8), and for I/O failures.
void save_checkpoint(const std::string& path, const CheckpointContents& c);

// Throws CheckpointError naming the path and the problem; never returns partial contents.
CheckpointContents load_checkpoint(const std::string& path);

// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), continuing from `crc` (0 to start):
// crc32(0, "123456789") == 0xCBF43926, the standard check value.
uint32_t crc32(uint32_t crc, const void* data, size_t n);

}  // namespace glulab
