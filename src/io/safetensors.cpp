// safetensors.cpp — write_safetensors and read_safetensors: the format described in
// safetensors.h, with every rule of the reference implementation checked on reading.
//
// The reader trusts nothing in the file: the header size is checked against the file before
// the header is read, every offset against the buffer, every shape (with overflow checks)
// against its byte range, and the ranges against each other, all before a single tensor is
// allocated. Because the ranges must tile the buffer without overlap, the floats we allocate
// can never add up to more than the file's own size.
#include "glulab/safetensors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include "binary.h"
#include "glulab/json.h"

namespace glulab {

namespace {

constexpr size_t kSizeBytes = 8;  // the u64 header size at the start of the file
constexpr size_t kAlign = 8;      // the header is padded so the buffer starts 8-byte aligned
constexpr const char* kMetadataKey = "__metadata__";

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw std::runtime_error("safetensors " + path + ": " + what);
}

// Well-formed UTF-8 (RFC 3629): no stray continuation bytes, no overlong forms, no UTF-16
// surrogates, nothing above U+10FFFF. The reference refuses a header that is not UTF-8, so
// we check on reading and refuse to write names that would make such a header.
bool is_utf8(const std::string& s) {
    static const uint32_t kSmallest[5] = {0, 0, 0x80, 0x800, 0x10000};  // by sequence length
    for (size_t i = 0; i < s.size();) {
        const auto lead = static_cast<unsigned char>(s[i]);
        size_t len;
        uint32_t cp;
        if (lead < 0x80) { ++i; continue; }
        if ((lead & 0xE0) == 0xC0) { len = 2; cp = lead & 0x1F; }
        else if ((lead & 0xF0) == 0xE0) { len = 3; cp = lead & 0x0F; }
        else if ((lead & 0xF8) == 0xF0) { len = 4; cp = lead & 0x07; }
        else return false;
        if (s.size() - i < len) return false;
        for (size_t k = 1; k < len; ++k) {
            const auto next = static_cast<unsigned char>(s[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            cp = cp << 6 | (next & 0x3F);
        }
        if (cp < kSmallest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

// ---- writing ----

void check_name(std::set<std::string>& seen, const std::string& name, const char* kind, const std::string& path) {
    if (name.empty()) fail(path, std::string("a ") + kind + " has an empty name");
    if (!is_utf8(name)) fail(path, std::string(kind) + " name is not valid UTF-8");
    if (!seen.insert(name).second) fail(path, std::string("duplicate ") + kind + " '" + binary::printable(name) + "'");
}

void check_for_writing(const SafetensorsFile& f, const std::string& path) {
    std::set<std::string> names, keys;
    for (const NamedArray& t : f.tensors) {
        if (t.name == kMetadataKey) fail(path, "a tensor may not be named '__metadata__' (the format reserves it)");
        check_name(names, t.name, "tensor", path);
        size_t numel = 0;
        if (!binary::checked_numel(t.shape, numel) || numel != t.values.size())
            fail(path, "tensor '" + binary::printable(t.name) + "' has shape " + shape_to_string(t.shape) + " but " +
                           std::to_string(t.values.size()) + " values");
    }
    for (const auto& [key, value] : f.metadata) {
        check_name(keys, key, "metadata key", path);
        if (!is_utf8(value)) fail(path, "metadata value of '" + binary::printable(key) + "' is not valid UTF-8");
    }
}

// The JSON header in the reference writer's compact form, padded with spaces to a multiple of 8.
std::string header_json(const SafetensorsFile& f) {
    std::string h = "{";
    if (!f.metadata.empty()) {
        h += json::quote(kMetadataKey) + ":{";
        for (size_t i = 0; i < f.metadata.size(); ++i)
            h += (i ? "," : "") + json::quote(f.metadata[i].first) + ":" + json::quote(f.metadata[i].second);
        h += "}";
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < f.tensors.size(); ++i) {
        const NamedArray& t = f.tensors[i];
        const uint64_t end = offset + 4 * t.values.size();
        h += (i || !f.metadata.empty() ? "," : "") + json::quote(t.name) + ":{\"dtype\":\"F32\",\"shape\":[";
        for (size_t d = 0; d < t.shape.size(); ++d) h += (d ? "," : "") + std::to_string(t.shape[d]);
        h += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
        offset = end;
    }
    h += "}";
    h.resize((h.size() + kAlign - 1) / kAlign * kAlign, ' ');
    return h;
}

std::string encode(const SafetensorsFile& f, const std::string& path) {
    const std::string header = header_json(f);
    if (header.size() > kSafetensorsMaxHeader) fail(path, "the header would exceed the 100 MB limit of the format");
    std::string out;
    binary::put_u64(out, header.size());
    out += header;
    for (const NamedArray& t : f.tensors) binary::put_f32s(out, t.values.data(), t.values.size());
    return out;
}

// ---- reading ----

// One tensor as its header entry describes it, checked but not yet read.
struct Entry {
    std::string name;
    Shape shape;
    uint64_t begin = 0, end = 0;
};

// A JSON number that must be a whole number in [0, 2^53] (doubles are exact up to there).
uint64_t whole_number(const json::Value& v, const std::string& what, const std::string& path) {
    constexpr double kExact = 9007199254740992.0;  // 2^53
    if (!v.is_number()) fail(path, what + " is not a number");
    const double x = v.as_number();
    if (!(x >= 0 && x <= kExact) || std::floor(x) != x) fail(path, what + " is not a whole number >= 0");
    return static_cast<uint64_t>(x);
}

// JSON allows repeated keys and our parser keeps the last; the format forbids them.
void check_unique_keys(const json::Value& object, const std::string& where, const std::string& path) {
    std::set<std::string> seen;
    for (const auto& member : object.members())
        if (!seen.insert(member.first).second)
            fail(path, "duplicate key '" + binary::printable(member.first) + "' in " + where);
}

const json::Value& field(const json::Value& entry, const char* key, const std::string& label, const std::string& path) {
    if (!entry.has(key)) fail(path, label + " has no \"" + key + "\"");
    return entry[key];
}

Entry read_entry(const std::string& name, const json::Value& v, uint64_t buffer_bytes, const std::string& path) {
    // The reference allows a key "", but write_safetensors refuses it (a tensor must be found by
    // name), and whatever we read we must be able to write back.
    if (name.empty()) fail(path, "a tensor has an empty name (glulab names every tensor)");
    const std::string label = "tensor '" + binary::printable(name) + "'";
    if (!v.is_object()) fail(path, label + " is not an object {dtype, shape, data_offsets}");
    check_unique_keys(v, label, path);  // other keys are ignored, as the reference does
    const json::Value& dtype = field(v, "dtype", label, path);
    if (!dtype.is_string()) fail(path, label + " has a dtype that is not a string");
    if (dtype.as_string() != "F32")
        fail(path, label + " has dtype " + binary::printable(dtype.as_string()) +
                       "; glulab reads F32 only (convert with .float())");

    Entry e;
    e.name = name;
    const json::Value& shape = field(v, "shape", label, path);
    if (!shape.is_array()) fail(path, label + " has a shape that is not a list");
    uint64_t numel = 1;
    bool empty = false, too_big = false;  // a 0 anywhere makes the tensor empty, however big the rest
    for (const json::Value& d : shape.as_array()) {
        const uint64_t dim = whole_number(d, label + " shape entry", path);
        if (dim > uint64_t(std::numeric_limits<int>::max()))
            fail(path, label + " has dimension " + std::to_string(dim));
        e.shape.push_back(static_cast<int>(dim));
        if (dim == 0) empty = true;
        else if (numel > buffer_bytes / 4 / dim) too_big = true;  // checked before multiplying: no overflow
        else numel *= dim;
    }
    if (empty) numel = 0;
    else if (too_big)
        fail(path, label + " of shape " + shape_to_string(e.shape) + " needs more than the " +
                       std::to_string(buffer_bytes) + " bytes of the data buffer");

    const json::Value& offsets = field(v, "data_offsets", label, path);
    if (!offsets.is_array() || offsets.as_array().size() != 2)
        fail(path, label + " has data_offsets that are not a list [begin, end]");
    e.begin = whole_number(offsets.as_array()[0], label + " data_offsets begin", path);
    e.end = whole_number(offsets.as_array()[1], label + " data_offsets end", path);
    if (e.end < e.begin || e.end > buffer_bytes)
        fail(path, label + " has data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                       "] outside the " + std::to_string(buffer_bytes) + "-byte data buffer");
    if (e.end - e.begin != 4 * numel)
        fail(path, label + " of shape " + shape_to_string(e.shape) + " needs " + std::to_string(4 * numel) +
                       " bytes as F32, its data_offsets span " + std::to_string(e.end - e.begin));
    return e;
}

std::vector<std::pair<std::string, std::string>> read_metadata(const json::Value& v, const std::string& path) {
    if (!v.is_object()) fail(path, "__metadata__ is not an object of strings");
    check_unique_keys(v, "__metadata__", path);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [key, value] : v.members()) {
        if (key.empty()) fail(path, "__metadata__ has an empty key (glulab, like its writer, needs a name)");
        if (!value.is_string()) fail(path, "__metadata__ value of '" + binary::printable(key) + "' is not a string");
        out.emplace_back(key, value.as_string());
    }
    return out;
}

// Sorted by offset, the ranges must start at 0, follow each other without gap or overlap, and
// end exactly at the end of the buffer.
void check_tiling(std::vector<Entry> entries, uint64_t buffer_bytes, const std::string& path) {
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
    uint64_t at = 0;
    for (const Entry& e : entries) {
        if (e.begin != at)
            fail(path, "tensor '" + binary::printable(e.name) + "' starts at byte " + std::to_string(e.begin) +
                           " of the data buffer, " +
                           (e.begin < at ? "overlapping the tensor before it" : "leaving a gap") + " (expected " +
                           std::to_string(at) + ")");
        at = e.end;
    }
    if (at != buffer_bytes)
        fail(path, "the tensors cover " + std::to_string(at) + " bytes but the data buffer has " +
                       std::to_string(buffer_bytes) + " (truncated or padded file)");
}

// The header size and text: the checks that give the clearest message come first.
std::string header_text(const std::string& bytes, const std::string& path) {
    const size_t n = bytes.size();
    if (n == 0) fail(path, "empty file (0 bytes)");
    if (bytes.compare(0, 8, "GLULABCK") == 0)
        fail(path, "this is a glulab checkpoint, not a safetensors file (see glulab export)");
    if (n < kSizeBytes) fail(path, "truncated: " + std::to_string(n) + " bytes, shorter than the 8-byte header size");
    const uint64_t header_bytes = binary::load_u64(reinterpret_cast<const unsigned char*>(bytes.data()));
    if (header_bytes > kSafetensorsMaxHeader)
        fail(path, "header size " + std::to_string(header_bytes) + " exceeds the format's limit of 100,000,000 bytes "
                   "(not a safetensors file?)");
    if (header_bytes > n - kSizeBytes)
        fail(path, "truncated: the header size says " + std::to_string(header_bytes) + " bytes, only " +
                       std::to_string(n - kSizeBytes) + " follow");
    std::string text = bytes.substr(kSizeBytes, header_bytes);
    if (text.empty() || text[0] != '{') fail(path, "the header does not start with '{' (not a safetensors file?)");
    if (!is_utf8(text)) fail(path, "the header is not valid UTF-8");
    return text;
}

SafetensorsFile decode(const std::string& bytes, const std::string& path) {
    const std::string text = header_text(bytes, path);
    json::Value header;
    try {
        header = json::parse(text);
    } catch (const std::runtime_error& e) {
        fail(path, std::string("the header is not valid JSON (") + e.what() +
                       ", counting from the header's first byte)");
    }
    check_unique_keys(header, "the header", path);
    const size_t buffer_start = kSizeBytes + text.size();
    const uint64_t buffer_bytes = bytes.size() - buffer_start;

    SafetensorsFile f;
    std::vector<Entry> entries;
    for (const auto& [name, value] : header.members()) {
        if (name == kMetadataKey) f.metadata = read_metadata(value, path);
        else entries.push_back(read_entry(name, value, buffer_bytes, path));
    }
    check_tiling(entries, buffer_bytes, path);
    const auto* buffer = reinterpret_cast<const unsigned char*>(bytes.data()) + buffer_start;
    for (Entry& e : entries) {
        NamedArray t{std::move(e.name), std::move(e.shape), std::vector<float>((e.end - e.begin) / 4)};
        binary::load_f32s(buffer + e.begin, t.values.size(), t.values.data());
        f.tensors.push_back(std::move(t));
    }
    return f;
}

}  // namespace

void write_safetensors(const std::string& path, const SafetensorsFile& f) {
    check_for_writing(f, path);
    const std::string bytes = encode(f, path);
    try {
        write_file_atomic(path, bytes);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string("safetensors not saved: ") + e.what());  // e names the path
    }
}

SafetensorsFile read_safetensors(const std::string& path) {
    std::string bytes, why;
    if (!binary::read_whole_file(path, bytes, why)) fail(path, why);
    return decode(bytes, path);
}

}  // namespace glulab
