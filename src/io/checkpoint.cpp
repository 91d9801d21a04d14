// checkpoint.cpp — save_checkpoint and load_checkpoint: the binary format documented byte by
// byte in checkpoint.h, with CRC-32 and bounds checks on every length.
//
// Loading is defensive in layers: cheap checks that give the clearest message first (magic,
// version, size), then the CRC over the whole file, and finally a parser that checks every
// count and length against the bytes left. The last layer looks redundant after the CRC, but
// a CRC only proves the file is what some writer wrote, not that the writer was sane: a
// crafted or buggy file with a valid CRC must still never crash us or make us allocate
// gigabytes.
#include "glulab/checkpoint.h"

#include <limits>
#include <set>

#include "binary.h"

namespace glulab {

namespace {

constexpr size_t kMagicBytes = sizeof(kCheckpointMagic);
constexpr size_t kHeaderBytes = 32;  // magic, version, size, three counts
constexpr size_t kCrcBytes = 4;
constexpr size_t kSizeOffset = 12;   // where the u64 total size sits
constexpr uint32_t kMaxRank = 8;

// Every error is one line: "checkpoint PATH: what" ("checkpoint: what" for in-memory contents).
[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw CheckpointError("checkpoint" + (path.empty() ? "" : " " + path) + ": " + what);
}

// ---- CRC-32 ----
// The classic byte-at-a-time table for the reflected IEEE polynomial, built at compile time.
struct Crc32Table {
    uint32_t entry[256];
    constexpr Crc32Table() : entry() {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            entry[i] = c;
        }
    }
};
constexpr Crc32Table kCrcTable;

// ---- rules shared by save and load ----
// Checked before writing (a caller bug is reported at save time, not at the next resume) and
// again after reading (a file with a valid CRC can still break them).
void check_unique(std::set<std::string>& seen, const std::string& name, const char* kind, const std::string& path) {
    if (name.empty()) fail(path, std::string("a ") + kind + " has an empty name");
    if (!seen.insert(name).second)
        fail(path, std::string("duplicate ") + kind + " '" + binary::printable(name) + "'");
}

void check_array(const NamedArray& a, const std::string& path) {
    const std::string label = "array '" + binary::printable(a.name) + "'";
    if (a.shape.empty() || a.shape.size() > kMaxRank)
        fail(path, label + " has rank " + std::to_string(a.shape.size()) + ", expected 1 to 8");
    for (int dim : a.shape)
        if (dim < 1) fail(path, label + " has shape " + shape_to_string(a.shape) + " with a dimension < 1");
    size_t numel = 0;
    if (!binary::checked_numel(a.shape, numel) || numel != a.values.size())
        fail(path, label + " has shape " + shape_to_string(a.shape) + " but " +
                       std::to_string(a.values.size()) + " values");
}

void check_contents(const CheckpointContents& c, const std::string& path) {
    std::set<std::string> keys, counters, arrays;  // a set, so a huge crafted file stays O(n log n)
    for (const auto& entry : c.config) check_unique(keys, entry.first, "config key", path);
    for (const auto& entry : c.counters) check_unique(counters, entry.first, "counter", path);
    for (const auto& a : c.arrays) {
        check_unique(arrays, a.name, "array", path);
        check_array(a, path);
    }
}

// ---- encoding ----
size_t str_bytes(const std::string& s) { return 4 + s.size(); }

size_t encoded_size(const CheckpointContents& c) {
    size_t n = kHeaderBytes + kCrcBytes;
    for (const auto& [key, value] : c.config) n += str_bytes(key) + str_bytes(value);
    for (const auto& entry : c.counters) n += str_bytes(entry.first) + 8;
    for (const auto& a : c.arrays) n += str_bytes(a.name) + 4 + 4 * a.shape.size() + 4 * a.values.size();
    return n;
}

uint32_t checked_u32(size_t n, const std::string& what, const std::string& path) {
    if (n > std::numeric_limits<uint32_t>::max())
        fail(path, what + " is too long to store (" + std::to_string(n) + ")");
    return static_cast<uint32_t>(n);
}

void put_str(std::string& out, const std::string& s, const std::string& path) {
    binary::put_u32(out, checked_u32(s.size(), "a string", path));
    out += s;
}

std::string encode(const CheckpointContents& c, const std::string& path) {
    std::string out;
    out.reserve(encoded_size(c));
    out.append(kCheckpointMagic, kMagicBytes);
    binary::put_u32(out, kCheckpointVersion);
    binary::put_u64(out, encoded_size(c));
    binary::put_u32(out, checked_u32(c.config.size(), "the config", path));
    binary::put_u32(out, checked_u32(c.counters.size(), "the counter list", path));
    binary::put_u32(out, checked_u32(c.arrays.size(), "the array list", path));
    for (const auto& [key, value] : c.config) {
        put_str(out, key, path);
        put_str(out, value, path);
    }
    for (const auto& [name, value] : c.counters) {
        put_str(out, name, path);
        binary::put_u64(out, value);
    }
    for (const auto& a : c.arrays) {
        put_str(out, a.name, path);
        binary::put_u32(out, static_cast<uint32_t>(a.shape.size()));
        for (int dim : a.shape) binary::put_u32(out, static_cast<uint32_t>(dim));
        binary::put_f32s(out, a.values.data(), a.values.size());
    }
    binary::put_u32(out, crc32(0, out.data(), out.size()));
    return out;
}

// ---- decoding ----
// A cursor over the body (after the header, before the CRC) that refuses to read past its end.
class Cursor {
public:
    Cursor(const std::string& bytes, size_t begin, size_t end, const std::string& path)
        : p_(reinterpret_cast<const unsigned char*>(bytes.data())), at_(begin), end_(end), path_(path) {}

    size_t remaining() const { return end_ - at_; }
    bool at_end() const { return at_ == end_; }

    const unsigned char* take(size_t n, const std::string& what) {
        if (n > remaining())
            fail(path_, "corrupt: " + what + " at byte " + std::to_string(at_) + " needs " + std::to_string(n) +
                            " bytes, only " + std::to_string(remaining()) + " remain");
        const unsigned char* here = p_ + at_;
        at_ += n;
        return here;
    }
    uint32_t u32(const std::string& what) { return binary::load_u32(take(4, what)); }
    uint64_t u64(const std::string& what) { return binary::load_u64(take(8, what)); }
    std::string str(const std::string& what) {
        const uint32_t n = u32(what + " length");
        return std::string(reinterpret_cast<const char*>(take(n, what)), n);
    }
    // A count of entries that each take at least `min_bytes`: refused before any allocation
    // if they cannot possibly fit in what is left.
    void check_count(uint32_t count, size_t min_bytes, const char* what) const {
        if (count > remaining() / min_bytes)
            fail(path_, "corrupt: " + std::to_string(count) + " " + what + " cannot fit in the " +
                            std::to_string(remaining()) + " bytes that remain");
    }

private:
    const unsigned char* p_;
    size_t at_, end_;
    const std::string& path_;
};

NamedArray read_array(Cursor& in, const std::string& path) {
    NamedArray a;
    a.name = in.str("array name");
    const std::string label = "array '" + binary::printable(a.name) + "'";
    const uint32_t rank = in.u32(label + " rank");
    if (rank < 1 || rank > kMaxRank)
        fail(path, "corrupt: " + label + " has rank " + std::to_string(rank) + ", expected 1 to 8");
    size_t numel = 1;
    for (uint32_t i = 0; i < rank; ++i) {
        const uint32_t dim = in.u32(label + " dimension");
        if (dim < 1 || dim > uint32_t(std::numeric_limits<int>::max()))
            fail(path, "corrupt: " + label + " has dimension " + std::to_string(dim));
        a.shape.push_back(static_cast<int>(dim));
        // Check before multiplying, so numel can neither overflow nor exceed the file.
        if (dim > in.remaining() / 4 / numel)
            fail(path, "corrupt: " + label + " of shape " + shape_to_string(a.shape) + "... needs more than the " +
                           std::to_string(in.remaining()) + " bytes that remain");
        numel *= dim;
    }
    const unsigned char* data = in.take(4 * numel, label + " values");
    a.values.resize(numel);
    binary::load_f32s(data, numel, a.values.data());
    return a;
}

// The checks that need only the first bytes, in the order that gives the clearest message:
// a text file is "not a checkpoint" rather than "truncated", a cut header is "truncated".
void check_header(const std::string& bytes, const std::string& path) {
    const size_t n = bytes.size();
    if (n == 0) fail(path, "empty file (0 bytes)");
    const size_t m = n < kMagicBytes ? n : kMagicBytes;
    if (bytes.compare(0, m, kCheckpointMagic, m) != 0) {
        // A safetensors file starts with a u64 header length and then '{'.
        const bool safetensors = n > 8 && bytes[8] == '{';
        fail(path, std::string("not a glulab checkpoint (it does not start with \"GLULABCK\")") +
                       (safetensors ? "; it looks like a safetensors file" : ""));
    }
    if (n < kHeaderBytes + kCrcBytes)
        fail(path, "truncated: " + std::to_string(n) + " bytes, shorter than the smallest checkpoint (" +
                       std::to_string(kHeaderBytes + kCrcBytes) + " bytes)");
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const uint32_t version = binary::load_u32(p + kMagicBytes);
    if (version != kCheckpointVersion)
        fail(path, "format version " + std::to_string(version) + ", this program reads version " +
                       std::to_string(kCheckpointVersion));
    const uint64_t stored = binary::load_u64(p + kSizeOffset);
    if (stored != n)
        fail(path, std::string(n < stored ? "truncated" : "corrupted") + ": the file has " + std::to_string(n) +
                       " bytes, its header says " + std::to_string(stored));
    const uint32_t want = binary::load_u32(p + n - kCrcBytes);
    const uint32_t got = crc32(0, p, n - kCrcBytes);
    if (want != got) fail(path, "corrupted: checksum mismatch (CRC-32 of the contents differs from the stored one)");
}

CheckpointContents decode(const std::string& bytes, const std::string& path) {
    check_header(bytes, path);
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const uint32_t n_config = binary::load_u32(p + 20), n_counters = binary::load_u32(p + 24),
                   n_arrays = binary::load_u32(p + 28);
    Cursor in(bytes, kHeaderBytes, bytes.size() - kCrcBytes, path);
    CheckpointContents c;
    // Smallest possible entries: two empty strings; a string and a u64; name, rank, one dim.
    in.check_count(n_config, 8, "config entries");
    for (uint32_t i = 0; i < n_config; ++i) {
        std::string key = in.str("config key");
        c.config.emplace_back(std::move(key), in.str("config value"));
    }
    in.check_count(n_counters, 12, "counters");
    for (uint32_t i = 0; i < n_counters; ++i) {
        std::string name = in.str("counter name");
        c.counters.emplace_back(std::move(name), in.u64("counter value"));
    }
    in.check_count(n_arrays, 12, "arrays");
    for (uint32_t i = 0; i < n_arrays; ++i) c.arrays.push_back(read_array(in, path));
    if (!in.at_end())
        fail(path, "corrupt: " + std::to_string(in.remaining()) + " unexpected bytes after the last array");
    check_contents(c, path);
    c.path = path;
    return c;
}

template <class Entries>
const typename Entries::value_type* find_entry(const Entries& entries, const std::string& name) {
    for (const auto& e : entries)
        if (e.first == name) return &e;
    return nullptr;
}

}  // namespace

uint32_t crc32(uint32_t crc, const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    crc = ~crc;
    for (size_t i = 0; i < n; ++i) crc = kCrcTable.entry[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

void save_checkpoint(const std::string& path, const CheckpointContents& c) {
    check_contents(c, path);
    const std::string bytes = encode(c, path);
    try {
        write_file_atomic(path, bytes);
    } catch (const std::runtime_error& e) {
        throw CheckpointError(std::string("checkpoint not saved: ") + e.what());  // e names the path
    }
}

CheckpointContents load_checkpoint(const std::string& path) {
    std::string bytes, why;
    if (!binary::read_whole_file(path, bytes, why)) fail(path, why);
    return decode(bytes, path);
}

// ---- look-ups ----

const std::string& CheckpointContents::config_value(const std::string& key) const {
    if (const auto* e = find_entry(config, key)) return e->second;
    fail(path, "missing '" + key + "'");
}

uint64_t CheckpointContents::counter(const std::string& name) const {
    if (const auto* e = find_entry(counters, name)) return e->second;
    fail(path, "missing '" + name + "'");
}

const NamedArray& CheckpointContents::array(const std::string& name) const {
    for (const auto& a : arrays)
        if (a.name == name) return a;
    fail(path, "missing '" + name + "'");
}

const NamedArray& CheckpointContents::array(const std::string& name, const Shape& expected) const {
    const NamedArray& a = array(name);
    if (a.shape != expected)
        fail(path, "'" + name + "' has shape " + shape_to_string(a.shape) + ", the model expects " +
                       shape_to_string(expected));
    return a;
}

bool CheckpointContents::has_config(const std::string& key) const { return find_entry(config, key) != nullptr; }
bool CheckpointContents::has_counter(const std::string& name) const { return find_entry(counters, name) != nullptr; }
bool CheckpointContents::has_array(const std::string& name) const {
    for (const auto& a : arrays)
        if (a.name == name) return true;
    return false;
}

}  // namespace glulab
