// binary.h — little-endian encoding of integers and float32 arrays, and reading a whole binary
// file with a plain-language reason on failure. Shared by checkpoint.cpp and safetensors.cpp;
// internal to src/io (not part of the public headers).
//
// Bytes are assembled one at a time with shifts, never by copying a uint32_t's memory, so the
// files are the same on big- and little-endian machines. A float travels as its bit pattern
// (memcpy to uint32_t), so -0, denormals, infinities and NaN payloads come back bit-exact.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "glulab/fileio.h"

namespace glulab::binary {

// ---- encoding: append to a byte string ----
inline void store_u32(unsigned char* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline void put_u32(std::string& out, uint32_t v) {
    unsigned char b[4];
    store_u32(b, v);
    out.append(reinterpret_cast<const char*>(b), 4);
}
inline void put_u64(std::string& out, uint64_t v) {
    put_u32(out, static_cast<uint32_t>(v));
    put_u32(out, static_cast<uint32_t>(v >> 32));
}
inline void put_f32s(std::string& out, const float* x, size_t n) {
    const size_t at = out.size();
    out.resize(at + 4 * n);
    auto* p = reinterpret_cast<unsigned char*>(&out[at]);
    for (size_t i = 0; i < n; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &x[i], 4);
        store_u32(p + 4 * i, bits);
    }
}

// ---- decoding: the caller has already checked that the bytes are there ----
inline uint32_t load_u32(const unsigned char* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t load_u64(const unsigned char* p) {
    return uint64_t(load_u32(p)) | uint64_t(load_u32(p + 4)) << 32;
}
inline void load_f32s(const unsigned char* p, size_t n, float* out) {
    for (size_t i = 0; i < n; ++i) {
        const uint32_t bits = load_u32(p + 4 * i);
        std::memcpy(&out[i], &bits, 4);
    }
}

// ---- names in error messages ----
// A name read from a file, made fit for a one-line error message: control bytes (a newline, a
// carriage return, the escape sequences that move a terminal's cursor) become \xNN, and a name
// longer than 64 bytes is cut at a character boundary and ends in "...". Without this a crafted
// file could break the one-line message about itself over several lines, or overwrite it.
inline std::string printable(const std::string& name) {
    constexpr size_t kMaxBytes = 64;
    size_t end = name.size();
    if (end > kMaxBytes) {
        end = kMaxBytes;
        while (end > 0 && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) --end;  // not inside UTF-8
    }
    std::string out;
    for (size_t i = 0; i < end; ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c < 0x20 || c == 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += name[i];
        }
    }
    return end < name.size() ? out + "..." : out;
}

// ---- shapes ----
// The element count of a shape in `n`; false if a dimension is negative or the product does not
// fit in size_t (shape_numel would silently wrap: four dimensions of 65536 multiply to 0).
inline bool checked_numel(const Shape& shape, size_t& n) {
    n = 1;
    bool empty = false, overflow = false;
    for (int dim : shape) {
        if (dim < 0) return false;
        if (dim == 0) empty = true;  // empty, however big the other dimensions are
        else if (n > SIZE_MAX / static_cast<size_t>(dim)) overflow = true;
        else n *= static_cast<size_t>(dim);
    }
    if (empty) n = 0;
    return empty || !overflow;
}

// Reads the whole file into `bytes`. On failure returns false and puts a short reason in
// `why` ("no such file", "is a folder, not a file", "cannot read: Permission denied"), which
// the caller prefixes with its own "checkpoint PATH: " or "safetensors PATH: ".
inline bool read_whole_file(const std::string& path, std::string& bytes, std::string& why) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) {
        why = "no such file";
        return false;
    }
    if (std::filesystem::is_directory(status)) {  // an ifstream would "read" it as empty
        why = "is a folder, not a file";
        return false;
    }
    try {
        bytes = read_file(path);
        return true;
    } catch (const std::runtime_error& e) {
        // read_file says "cannot read PATH: reason"; the caller names the path already.
        const std::string head = "cannot read " + path + ": ";
        const std::string msg = e.what();
        why = "cannot read: " + (msg.rfind(head, 0) == 0 ? msg.substr(head.size()) : msg);
        return false;
    }
}

}  // namespace glulab::binary
