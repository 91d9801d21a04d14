// test_safetensors.cpp — the safetensors reader and writer: bit-exact round trips, the exact
// bytes the reference implementation writes, files laid out as other writers lay them out, and
// a one-line std::runtime_error (never a crash) for every broken rule of the format.
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "../src/io/binary.h"
#include "glulab/checkpoint.h"
#include "glulab/safetensors.h"
#include "temp_files.h"

using namespace glulab;
using namespace glulab::testing;

namespace {

SafetensorsFile sample_file() {
    SafetensorsFile f;
    f.tensors.push_back({"tok_emb.weight", {2, 3},
                         {0.0f, -0.0f, 1e-45f, -3e-39f, std::numeric_limits<float>::infinity(),
                          float_from_bits(0x7fc00001u)}});
    f.tensors.push_back({"norm_f.weight", {4}, {1.0f, 2.0f, 0.5f, -7.25f}});
    f.tensors.push_back({"scalar", {}, {3.0f}});  // rank 0: allowed by the format
    f.tensors.push_back({"empty", {0, 5}, {}});   // a 0 in the shape: no bytes
    f.metadata = {{"ffn", "swiglu"}, {"d_model", "48"}, {"note", "caf\xc3\xa9 \"quoted\"\n"}};
    return f;
}

void check_same(const SafetensorsFile& a, const SafetensorsFile& b) {
    CHECK(a.metadata == b.metadata);
    CHECK(first_difference(a.tensors, b.tensors) == "");
}

// A file as any writer could lay it out: u64 header size, the header text as given, the buffer.
std::string craft(const std::string& header, const std::string& buffer) {
    std::string out;
    binary::put_u64(out, header.size());
    return out + header + buffer;
}

std::string floats(std::initializer_list<float> xs) {
    std::string out;
    for (float x : xs) binary::put_f32s(out, &x, 1);
    return out;
}

std::string read_error(const std::string& path) {
    return error_of<std::runtime_error>([&] { read_safetensors(path); });
}

std::string read_error_of_bytes(const TempDir& dir, const std::string& bytes) {
    const std::string path = dir.file("damaged.safetensors");
    write_raw(path, bytes);
    return read_error(path);
}

}  // namespace

// ---- round trips and layout ----

TEST_CASE("safetensors: round trip is bit-exact, keeps order, rank-0 and empty tensors") {
    TempDir dir;
    const std::string path = dir.file("w.safetensors");
    write_safetensors(path, sample_file());
    check_same(read_safetensors(path), sample_file());

    write_safetensors(path, SafetensorsFile{});  // nothing at all is a valid file too: "{}"
    check_same(read_safetensors(path), SafetensorsFile{});
}

TEST_CASE("safetensors: the bytes are what the reference writer produces") {
    TempDir dir;
    SafetensorsFile f;
    f.tensors.push_back({"a", {2}, {1.0f, -0.0f}});
    f.metadata = {{"k", "v"}};
    write_safetensors(dir.file("r.safetensors"), f);
    const std::string bytes = read_file(dir.file("r.safetensors"));
    // Python: save_file({"a": torch.tensor([1.0, -0.0])}, "r.safetensors", metadata={"k": "v"})
    const std::string json =
        "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    std::string header = json;
    header.resize((json.size() + 7) / 8 * 8, ' ');  // padded with spaces to a multiple of 8
    CHECK(bytes == craft(header, floats({1.0f, -0.0f})));
    CHECK(bytes.size() % 8 == 0);
}

TEST_CASE("safetensors: reads files laid out the way other writers lay them out") {
    TempDir dir;
    // Whitespace and newlines in the JSON, entries not in offset order, metadata last, an
    // escaped name, an extra key the reference ignores, no padding.
    const std::string header =
        "{\n  \"b\": {\"shape\": [1, 2], \"dtype\": \"F32\", \"data_offsets\": [4, 12], \"extra\": 1},\n"
        "  \"caf\\u00e9\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},\n"
        "  \"__metadata__\": {\"format\": \"pt\"}\n}";
    write_raw(dir.file("o.safetensors"), craft(header, floats({9.0f, 1.5f, -2.5f})));
    const SafetensorsFile f = read_safetensors(dir.file("o.safetensors"));
    REQUIRE(f.tensors.size() == 2);
    CHECK(f.tensors[0].name == "b");  // header order, not offset order
    CHECK(f.tensors[0].shape == Shape{1, 2});
    CHECK(f.tensors[0].values == std::vector<float>{1.5f, -2.5f});
    CHECK(f.tensors[1].name == "caf\xc3\xa9");
    CHECK(f.tensors[1].values == std::vector<float>{9.0f});
    CHECK(f.metadata == std::vector<std::pair<std::string, std::string>>{{"format", "pt"}});
}

// ---- damaged and foreign files ----

TEST_CASE("safetensors: truncation at every byte offset is refused") {
    TempDir dir;
    write_safetensors(dir.file("t.safetensors"), sample_file());
    const std::string bytes = read_file(dir.file("t.safetensors"));
    for (size_t n = 0; n < bytes.size(); ++n) {
        const std::string msg = read_error_of_bytes(dir, bytes.substr(0, n));
        INFO("truncated to " << n << " bytes: " << msg);
        CHECK(!msg.empty());
        CHECK(msg.find('\n') == std::string::npos);
    }
}

TEST_CASE("safetensors: a flipped byte never crashes the reader, and breaks in the header are caught") {
    TempDir dir;
    SafetensorsFile f;
    f.tensors.push_back({"w", {2, 2}, {1, 2, 3, 4}});
    write_safetensors(dir.file("f.safetensors"), f);
    const std::string bytes = read_file(dir.file("f.safetensors"));
    const size_t buffer_start = bytes.size() - 16;
    for (size_t i = 0; i < bytes.size(); ++i) {
        std::string damaged = bytes;
        damaged[i] = static_cast<char>(damaged[i] ^ 0xFF);
        // The format has no checksum: a flip in the data buffer reads as another float. Every
        // other byte (size field, JSON syntax, "F32", digits, name) breaks a rule or a name.
        const std::string msg = read_error_of_bytes(dir, damaged);
        INFO("byte " << i << ": " << msg);
        if (i < buffer_start) CHECK(!msg.empty());
        else CHECK(msg.empty());
    }
}

TEST_CASE("safetensors: every broken rule of the format gets its own one-line error") {
    TempDir dir;
    const std::string four = floats({1.0f});
    struct Case {
        std::string bytes;
        const char* expect;
    };
    auto one = [&](const std::string& entry) { return craft("{\"x\":" + entry + "}", four); };
    std::string huge_size(8, '\0');
    binary::store_u32(reinterpret_cast<unsigned char*>(&huge_size[0]), 0xFFFFFFFFu);
    std::string past_end;
    binary::put_u64(past_end, 64);
    const Case cases[] = {
        {"", "empty file"},
        {"abc", "truncated: 3 bytes"},
        {huge_size + "{}", "exceeds the format's limit"},
        {past_end + "{}", "truncated: the header size says 64 bytes, only 2 follow"},
        {craft("[]", ""), "does not start with '{'"},
        {craft(" {}", ""), "does not start with '{'"},
        {craft("{\"x\":", ""), "not valid JSON"},
        {craft("{\"\xff\":1}", ""), "not valid UTF-8"},
        {craft("{\"\xc0\xaf\":1}", ""), "not valid UTF-8"},  // an overlong '/'
        {one("5"), "tensor 'x' is not an object"},
        {one("{\"shape\":[1],\"data_offsets\":[0,4]}"), "tensor 'x' has no \"dtype\""},
        {one("{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}"), "dtype F16; glulab reads F32 only"},
        {one("{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}"), "dtype that is not a string"},
        {one("{\"dtype\":\"F32\",\"data_offsets\":[0,4]}"), "has no \"shape\""},
        {one("{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}"), "shape that is not a list"},
        {one("{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}"), "shape entry is not a whole number"},
        {one("{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}"), "shape entry is not a whole number"},
        {one("{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}"), "shape entry is not a number"},
        {one("{\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,4]}"), "shape entry is not a whole number"},
        {one("{\"dtype\":\"F32\",\"shape\":[3000000000],\"data_offsets\":[0,4]}"), "has dimension 3000000000"},
        {one("{\"dtype\":\"F32\",\"shape\":[65536,65536,65536,65536],\"data_offsets\":[0,0]}"),
         "needs more than the 4 bytes"},
        {one("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}"), "needs more than the 4 bytes"},
        {one("{\"dtype\":\"F32\",\"shape\":[1]}"), "has no \"data_offsets\""},
        {one("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}"), "not a list [begin, end]"},
        {one("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}"), "data_offsets [4, 0] outside"},
        {one("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}"), "data_offsets [0, 8] outside the 4-byte"},
        {one("{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,4]}"),
         "needs 0 bytes as F32, its data_offsets span 4"},
        {one("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"dtype\":\"F32\"}"),
         "duplicate key 'dtype' in tensor 'x'"},
        {craft("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", four),
         "duplicate key 'x' in the header"},
        {craft("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", four + four),
         "starts at byte 4 of the data buffer, leaving a gap"},
        {craft("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", four + four), "overlapping"},
        {craft("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", four + four),
         "cover 4 bytes but the data buffer has 8"},
        {craft("{\"__metadata__\":[1]}", ""), "__metadata__ is not an object"},
        {craft("{\"__metadata__\":{\"k\":1}}", ""), "__metadata__ value of 'k' is not a string"},
        {std::string("GLULABCK\x01\0\0\0", 12), "this is a glulab checkpoint"},
    };
    for (const Case& k : cases) {
        const std::string msg = read_error_of_bytes(dir, k.bytes);
        INFO("expected '" << k.expect << "', got: " << msg);
        CHECK(contains(msg, k.expect));
        CHECK(contains(msg, "safetensors " + dir.file("damaged.safetensors") + ": "));
        CHECK(msg.find('\n') == std::string::npos);
    }
}

TEST_CASE("safetensors: missing files, folders, text and glulab checkpoints are refused") {
    TempDir dir;
    const std::string missing = dir.file("none.safetensors");
    CHECK(read_error(missing) == "safetensors " + missing + ": no such file");
    CHECK(contains(read_error(dir.path().string()), "is a folder, not a file"));
    CHECK(contains(read_error_of_bytes(dir, "First Citizen:\nBefore we proceed any further, hear me speak.\n"),
                   "not a safetensors file?"));
    save_checkpoint(dir.file("c.ckpt"), CheckpointContents{});
    CHECK(contains(read_error(dir.file("c.ckpt")), "this is a glulab checkpoint, not a safetensors file"));
}

// ---- writing ----

TEST_CASE("safetensors: contents the format cannot hold are refused, and the old file stays") {
    TempDir dir;
    const std::string path = dir.file("w.safetensors");
    write_safetensors(path, sample_file());
    const std::string before = read_file(path);
    auto write_error = [&](const SafetensorsFile& f) {
        return error_of<std::runtime_error>([&] { write_safetensors(path, f); });
    };
    SafetensorsFile f;
    f.tensors = {{"w", {2, 3}, {1, 2, 3}}};
    CHECK(contains(write_error(f), "'w' has shape (2, 3) but 3 values"));
    f.tensors = {{"w", {-1}, {}}};
    CHECK(contains(write_error(f), "'w' has shape (-1)"));
    f.tensors = {{"w", {1}, {1}}, {"w", {1}, {2}}};
    CHECK(contains(write_error(f), "duplicate tensor 'w'"));
    f.tensors = {{"__metadata__", {1}, {1}}};
    CHECK(contains(write_error(f), "may not be named '__metadata__'"));
    f.tensors = {{"", {1}, {1}}};
    CHECK(contains(write_error(f), "empty name"));
    f.tensors = {{"\xff", {1}, {1}}};
    CHECK(contains(write_error(f), "not valid UTF-8"));
    f.tensors.clear();
    f.metadata = {{"k", "a"}, {"k", "b"}};
    CHECK(contains(write_error(f), "duplicate metadata key 'k'"));
    f.metadata = {{"k", "\xc3"}};
    CHECK(contains(write_error(f), "metadata value of 'k' is not valid UTF-8"));

    const std::string nowhere = dir.file("no-such-folder/w.safetensors");
    CHECK(contains(error_of<std::runtime_error>([&] { write_safetensors(nowhere, sample_file()); }), nowhere));
    CHECK(!error_of<std::runtime_error>([&] { write_safetensors(dir.path().string(), sample_file()); }).empty());

    CHECK(read_file(path) == before);
    int entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) entries += e.exists() ? 1 : 0;
    CHECK(entries == 1);  // no temporary left behind
}
