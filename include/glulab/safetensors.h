// safetensors.h — read and write the safetensors format (Hugging Face), float32 only, so that
// weights exported here load into PyTorch or NumPy without this project, and back.
//
// ---- the format, as its reference implementation (huggingface/safetensors) reads it ----
//   8 bytes   N, u64 little-endian: the size of the header
//   N bytes   the header: UTF-8 JSON, one object, starting with '{'; padded at the end with
//             spaces (0x20) so that 8 + N is a multiple of 8 and the data that follows is
//             aligned
//                {"__metadata__": {"key": "value", ...},            (optional, strings only)
//                 "NAME": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [BEGIN, END]},
//                 ...}
//   the rest  the byte buffer. BEGIN and END count from the start of the buffer (not of the
//             file); END is one past the last byte. Each tensor is row-major and little-endian,
//             END - BEGIN = 4 * prod(shape) for F32. The ranges, sorted, tile the buffer
//             exactly: the first starts at 0, each starts where the previous ended, the last
//             ends at the end of the file.
// The reference also allows rank-0 tensors (shape [], one value) and empty ones (a 0 in the
// shape, no bytes); so do we. Names are unique. The header is at most 100,000,000 bytes.
//
// Writing: tensors in the order given, packed one after another; compact JSON (as the
// reference writes it); "__metadata__" only when there is some.
// Reading checks every one of the rules above and every number before using it (the header
// size against the file, each range against the buffer, each size against dtype and shape,
// with overflow checks), and refuses other dtypes by name; errors are one line,
// "safetensors PATH: what is wrong".
//
// Deliberately left out: dtypes other than F32, memory-mapping, reading one tensor lazily.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "glulab/fileio.h"

namespace glulab {

struct SafetensorsFile {
    std::vector<NamedArray> tensors;                             // in header order
    std::vector<std::pair<std::string, std::string>> metadata;  // "__metadata__", in header order
};

// The header's size limit, as in the reference implementation (a guard against huge JSON).
constexpr size_t kSafetensorsMaxHeader = 100000000;

// Atomic (write_file_atomic); F32 only. Throws std::runtime_error("safetensors PATH: ...") for
// contents the format cannot hold (duplicate or empty names, a name "__metadata__", text that
// is not UTF-8, a shape whose element count differs from values.size()) and for I/O failures.
void write_safetensors(const std::string& path, const SafetensorsFile& f);

// Throws std::runtime_error("safetensors PATH: ...") naming the first problem found.
SafetensorsFile read_safetensors(const std::string& path);

}  // namespace glulab
