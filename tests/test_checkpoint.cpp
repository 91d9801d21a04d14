// test_checkpoint.cpp — the checkpoint format: bit-exact round trips, the documented byte
// layout, and a one-line CheckpointError (never a crash, never a huge allocation) for every
// kind of damaged or foreign file; atomic saves that leave the old file in place on failure.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "../src/io/binary.h"
#include "glulab/checkpoint.h"
#include "temp_files.h"

using namespace glulab;
using namespace glulab::testing;

namespace {

// Values that a careless writer (text, or a float compare) would not bring back exactly.
std::vector<float> awkward_floats() {
    return {0.0f, -0.0f, 1.0f, -1.5f, 1e-45f /* smallest denormal */, -3e-39f /* denormal */,
            std::numeric_limits<float>::min(), std::numeric_limits<float>::max(),
            std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
            float_from_bits(0x7fc00001u) /* a NaN with a payload */, 0.1f};
}

CheckpointContents sample_contents() {
    CheckpointContents c;
    c.config = {{"ffn", "swiglu"}, {"preset", "tiny"}, {"d_model", "48"}, {"note", ""}, {"utf8", "caf\xc3\xa9"}};
    c.counters = {{"step", 300}, {"rng.sampler.0", 0}, {"rng.max", std::numeric_limits<uint64_t>::max()}};
    c.arrays.push_back({"tok_emb", {3, 4}, awkward_floats()});
    c.arrays.push_back({"blocks.0.norm1", {2}, {1.0f, -0.0f}});
    c.arrays.push_back({"adam.m.tok_emb", {1, 2, 1, 3}, {1, 2, 3, 4, 5, 6}});
    return c;
}

void check_same(const CheckpointContents& a, const CheckpointContents& b) {
    CHECK(a.config == b.config);
    CHECK(a.counters == b.counters);
    CHECK(first_difference(a.arrays, b.arrays) == "");
}

// The bytes of a saved sample checkpoint.
std::string sample_bytes(const TempDir& dir) {
    const std::string path = dir.file("sample.ckpt");
    save_checkpoint(path, sample_contents());
    return read_file(path);
}

std::string load_error(const std::string& path) {
    return error_of<CheckpointError>([&] { load_checkpoint(path); });
}

// Loads bytes written to a fresh file; the CheckpointError message, "" if it loads.
std::string load_error_of_bytes(const TempDir& dir, const std::string& bytes) {
    const std::string path = dir.file("damaged.ckpt");
    write_raw(path, bytes);
    return load_error(path);
}

// Makes edited bytes self-consistent again (size field and CRC), as a crafted file would be,
// so that the parser's own bounds checks are what is tested.
std::string reseal(std::string bytes) {
    bytes.resize(bytes.size() - 4);
    const size_t total = bytes.size() + 4;
    for (int i = 0; i < 8; ++i) bytes[12 + i] = static_cast<char>(uint64_t(total) >> (8 * i));
    binary::put_u32(bytes, crc32(0, bytes.data(), bytes.size()));
    return bytes;
}

void patch_u32(std::string& bytes, size_t at, uint32_t v) {
    binary::store_u32(reinterpret_cast<unsigned char*>(&bytes[at]), v);
}

}  // namespace

// ---- round trips and layout ----

TEST_CASE("checkpoint: round trip is bit-exact (-0, denormals, infinities, NaN payload)") {
    TempDir dir;
    const std::string path = dir.file("a.ckpt");
    save_checkpoint(path, sample_contents());
    const CheckpointContents back = load_checkpoint(path);
    check_same(sample_contents(), back);
    CHECK(back.path == path);
    CHECK(std::signbit(back.array("tok_emb").values[1]));
}

TEST_CASE("checkpoint: empty contents and a large array round trip") {
    TempDir dir;
    save_checkpoint(dir.file("empty.ckpt"), CheckpointContents{});
    check_same(load_checkpoint(dir.file("empty.ckpt")), CheckpointContents{});

    CheckpointContents big;
    big.arrays.push_back({"w", {512, 1000}, std::vector<float>(512000)});
    for (size_t i = 0; i < big.arrays[0].values.size(); ++i) big.arrays[0].values[i] = float(i) * 0.25f - 7.0f;
    save_checkpoint(dir.file("big.ckpt"), big);
    check_same(load_checkpoint(dir.file("big.ckpt")), big);
}

TEST_CASE("checkpoint: the bytes follow the layout documented in checkpoint.h") {
    TempDir dir;
    CheckpointContents c;
    c.config = {{"k", "vv"}};
    c.counters = {{"step", 0x0102030405060708ull}};
    c.arrays.push_back({"a", {2}, {1.0f, -0.0f}});
    save_checkpoint(dir.file("x.ckpt"), c);
    const std::string bytes = read_file(dir.file("x.ckpt"));
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());

    const std::string expected_body = std::string("\x01\0\0\0k\x02\0\0\0vv", 11) +           // config
                                      std::string("\x04\0\0\0step\x08\x07\x06\x05\x04\x03\x02\x01", 16) +  // counter
                                      std::string("\x01\0\0\0a\x01\0\0\0\x02\0\0\0", 13) +    // name, rank, dim
                                      std::string("\0\0\x80\x3f\0\0\0\x80", 8);              // 1.0f, -0.0f
    REQUIRE(bytes.size() == 32 + expected_body.size() + 4);
    CHECK(bytes.compare(0, 8, "GLULABCK") == 0);
    CHECK(binary::load_u32(p + 8) == kCheckpointVersion);
    CHECK(binary::load_u64(p + 12) == bytes.size());
    CHECK(binary::load_u32(p + 20) == 1);
    CHECK(binary::load_u32(p + 24) == 1);
    CHECK(binary::load_u32(p + 28) == 1);
    CHECK(bytes.compare(32, expected_body.size(), expected_body) == 0);
    CHECK(binary::load_u32(p + bytes.size() - 4) == crc32(0, p, bytes.size() - 4));
}

TEST_CASE("checkpoint: crc32 is the standard CRC-32 (check value of \"123456789\")") {
    CHECK(crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(crc32(0, "", 0) == 0u);
    CHECK(crc32(crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);  // it can be computed in pieces
}

// ---- damaged files ----

TEST_CASE("checkpoint: truncation at every byte offset is refused") {
    TempDir dir;
    const std::string bytes = sample_bytes(dir);
    for (size_t n = 0; n < bytes.size(); ++n) {
        const std::string msg = load_error_of_bytes(dir, bytes.substr(0, n));
        INFO("truncated to " << n << " bytes: " << msg);
        CHECK(contains(msg, n == 0 ? "empty file" : "truncated"));
        CHECK(msg.find('\n') == std::string::npos);
    }
}

TEST_CASE("checkpoint: every single flipped bit is detected") {
    TempDir dir;
    const std::string bytes = sample_bytes(dir);
    for (size_t i = 0; i < bytes.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            std::string damaged = bytes;
            damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
            const std::string msg = load_error_of_bytes(dir, damaged);
            INFO("byte " << i << " bit " << bit << ": " << msg);
            CHECK(!msg.empty());
        }
    // A flip in the body (not the magic, version or size) is reported as a checksum mismatch.
    std::string damaged = bytes;
    damaged[40] ^= 0x10;
    CHECK(contains(load_error_of_bytes(dir, damaged), "checksum mismatch"));
}

TEST_CASE("checkpoint: trailing bytes are refused") {
    TempDir dir;
    const std::string bytes = sample_bytes(dir);
    CHECK(contains(load_error_of_bytes(dir, bytes + "x"), "header says"));
    // Crafted: extra bytes before the CRC, with a consistent size and CRC.
    std::string crafted = bytes;
    crafted.insert(crafted.size() - 4, "junk");
    CHECK(contains(load_error_of_bytes(dir, reseal(crafted)), "4 unexpected bytes after the last array"));
}

TEST_CASE("checkpoint: other formats, versions and non-files are refused with the path and the reason") {
    TempDir dir;
    const std::string missing = dir.file("nope.ckpt");
    CHECK(load_error(missing) == "checkpoint " + missing + ": no such file");
    CHECK(load_error(dir.path().string()) == "checkpoint " + dir.path().string() + ": is a folder, not a file");
    CHECK(load_error_of_bytes(dir, "") == "checkpoint " + dir.file("damaged.ckpt") + ": empty file (0 bytes)");

    const std::string text = "First Citizen:\nBefore we proceed any further, hear me speak.\n";
    CHECK(contains(load_error_of_bytes(dir, text), "not a glulab checkpoint"));
    CHECK(contains(load_error_of_bytes(dir, "GLU"), "truncated"));  // a cut magic is a cut file
    std::string safetensors("\x10\0\0\0\0\0\0\0{\"a\":1}        ", 24);
    CHECK(contains(load_error_of_bytes(dir, safetensors), "looks like a safetensors file"));

    std::string v2 = sample_bytes(dir);
    patch_u32(v2, 8, 2);
    CHECK(contains(load_error_of_bytes(dir, reseal(v2)), "format version 2, this program reads version 1"));
}

TEST_CASE("checkpoint: absurd counts, lengths, ranks and dims are refused before allocating") {
    TempDir dir;
    CheckpointContents c;
    c.config = {{"k", "v"}};
    c.counters = {{"n", 1}};
    c.arrays.push_back({"a", {2, 2}, {1, 2, 3, 4}});
    save_checkpoint(dir.file("c.ckpt"), c);
    const std::string bytes = read_file(dir.file("c.ckpt"));
    // Offsets in this file: config at 32 (key length 32, value length 37), counter at 42 (name
    // length), array at 55: name length 55, rank 60, dims 64 and 68, values 72.
    struct Case {
        size_t at;
        uint32_t value;
        const char* expect;
    };
    const Case cases[] = {
        {20, 0xFFFFFFFFu, "4294967295 config entries cannot fit"},
        {24, 0xFFFFFFFFu, "4294967295 counters cannot fit"},
        {28, 0xFFFFFFFFu, "4294967295 arrays cannot fit"},
        {32, 0xFFFFFFFFu, "config key at byte 36 needs 4294967295 bytes"},
        {37, 0x7FFFFFFFu, "config value at byte 41 needs 2147483647 bytes"},
        {55, 0xFFFFFFF0u, "array name at byte 59 needs"},
        {60, 0, "has rank 0"},
        {60, 200, "has rank 200"},
        {64, 0, "has dimension 0"},
        {64, 0xFFFFFFFFu, "has dimension 4294967295"},
        {64, 0x40000000u, "needs more than the"},
        {68, 0x7FFFFFFFu, "needs more than the"},
    };
    for (const Case& k : cases) {
        std::string crafted = bytes;
        patch_u32(crafted, k.at, k.value);
        const std::string msg = load_error_of_bytes(dir, reseal(crafted));
        INFO("u32 at " << k.at << " = " << k.value << ": " << msg);
        CHECK(contains(msg, k.expect));
    }
    // The size field itself claiming an exabyte is caught by comparing it with the real size.
    std::string huge = bytes;
    patch_u32(huge, 16, 0x10000000u);
    CHECK(contains(load_error_of_bytes(dir, huge), "truncated"));
}

TEST_CASE("checkpoint: a valid CRC does not excuse duplicate names") {
    TempDir dir;
    CheckpointContents c;
    c.arrays.push_back({"a", {1}, {1}});
    c.arrays.push_back({"b", {1}, {2}});
    save_checkpoint(dir.file("d.ckpt"), c);
    std::string crafted = read_file(dir.file("d.ckpt"));
    const size_t second_name = crafted.find(std::string("\x01\0\0\0b", 5)) + 4;  // length 1, then "b"
    crafted[second_name] = 'a';
    CHECK(contains(load_error_of_bytes(dir, reseal(crafted)), "duplicate array 'a'"));
}

// ---- saving ----

TEST_CASE("checkpoint: contents that cannot be stored are refused at save time") {
    TempDir dir;
    const std::string path = dir.file("bad.ckpt");
    auto save_error = [&](const CheckpointContents& c) {
        return error_of<CheckpointError>([&] { save_checkpoint(path, c); });
    };
    CheckpointContents c;
    c.arrays.push_back({"w", {2, 3}, {1, 2, 3}});
    CHECK(contains(save_error(c), "'w' has shape (2, 3) but 3 values"));
    c.arrays = {{"w", {}, {}}};
    CHECK(contains(save_error(c), "rank 0"));
    c.arrays = {{"w", {1, 0}, {}}};
    CHECK(contains(save_error(c), "dimension < 1"));
    c.arrays = {{"w", {1}, {1}}, {"w", {1}, {2}}};
    CHECK(contains(save_error(c), "duplicate array 'w'"));
    c.arrays.clear();
    c.counters = {{"step", 1}, {"step", 2}};
    CHECK(contains(save_error(c), "duplicate counter 'step'"));
    c.counters.clear();
    c.config = {{"", "x"}};
    CHECK(contains(save_error(c), "empty name"));
    CHECK(!file_exists(path));
}

TEST_CASE("checkpoint: a failed save leaves the previous file intact") {
    TempDir dir;
    const std::string good = dir.file("good.ckpt");
    save_checkpoint(good, sample_contents());
    const std::string before = read_file(good);

    // A folder that does not exist: the error names the path, nothing is written anywhere.
    const std::string nowhere = dir.file("no-such-folder/x.ckpt");
    CHECK(contains(error_of<CheckpointError>([&] { save_checkpoint(nowhere, sample_contents()); }), nowhere));

    // The target is a folder: rename fails, and the temporary file is removed.
    const std::string folder = dir.file("a-folder");
    make_directories(folder);
    CHECK(!error_of<CheckpointError>([&] { save_checkpoint(folder, sample_contents()); }).empty());

    // Invalid contents over the good file: refused before anything is written.
    CheckpointContents bad;
    bad.arrays.push_back({"w", {2}, {1}});
    CHECK(!error_of<CheckpointError>([&] { save_checkpoint(good, bad); }).empty());

    CHECK(read_file(good) == before);
    check_same(load_checkpoint(good), sample_contents());
    int entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) entries += e.exists() ? 1 : 0;
    CHECK(entries == 2);  // good.ckpt and a-folder: no temporary left behind
}

// ---- look-ups ----

TEST_CASE("checkpoint: look-ups by name, with one-line errors naming the file") {
    TempDir dir;
    const std::string path = dir.file("l.ckpt");
    save_checkpoint(path, sample_contents());
    const CheckpointContents c = load_checkpoint(path);
    CHECK(c.config_value("ffn") == "swiglu");
    CHECK(c.counter("step") == 300);
    CHECK(c.array("tok_emb", {3, 4}).values.size() == 12);
    CHECK(c.has_array("blocks.0.norm1"));
    CHECK(!c.has_array("nope"));
    CHECK(c.has_config("note"));
    CHECK(!c.has_counter("nope"));

    const std::string prefix = "checkpoint " + path + ": ";
    CHECK(error_of<CheckpointError>([&] { c.config_value("lr"); }) == prefix + "missing 'lr'");
    CHECK(error_of<CheckpointError>([&] { c.counter("epoch"); }) == prefix + "missing 'epoch'");
    CHECK(error_of<CheckpointError>([&] { c.array("pos_emb"); }) == prefix + "missing 'pos_emb'");
    CHECK(error_of<CheckpointError>([&] { c.array("tok_emb", {4, 3}); }) ==
          prefix + "'tok_emb' has shape (3, 4), the model expects (4, 3)");
    CHECK(error_of<CheckpointError>([] { CheckpointContents{}.counter("step"); }) == "checkpoint: missing 'step'");
}
