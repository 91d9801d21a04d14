// make_seeds.cpp — writes the binary seed inputs of the checkpoint and safetensors fuzz targets
// into tests/fuzz/corpus/ with the library's own writers, so every seed is a valid file of the
// current format (the CLI and JSON seeds are plain text, written by hand).
//
// Both targets read a mode byte first (fuzz_entry.h): checkpoints are written in both modes
// (as they are, and "resealed"), safetensors files in both (as they are, and "framed"). Seeds
// are small on purpose (a few hundred bytes): the fuzzer mutates them many times a second, and
// they are committed. The names and shapes imitate a real run's (tok_emb,
// blocks.0.ffn.W, adam.m.*) without its size. Rebuild them after a format change:
//   make build/libglulab.a
//   g++ -std=c++17 -Iinclude tests/fuzz/make_seeds.cpp build/libglulab.a -fopenmp -o build/make_seeds
//   ./build/make_seeds tests/fuzz/corpus
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "glulab/checkpoint.h"
#include "glulab/safetensors.h"

using namespace glulab;

namespace {

std::string dir_of(const std::string& root, const char* target) { return root + "/" + target + "/"; }

// A checkpoint input is a mode byte (bit 0: reseal the size and CRC) followed by the file.
void write_checkpoint_seed(const std::string& path, const CheckpointContents& c, char mode) {
    const std::string tmp = path + ".tmp-ckpt";
    save_checkpoint(tmp, c);
    write_file_atomic(path, std::string(1, mode) + read_file(tmp));
    std::remove(tmp.c_str());
}

// A safetensors input is a mode byte and then either the file as it is (mode 0) or, with the
// header size left out, the header text, a 0xFF byte and the data (mode 1).
void write_safetensors_seeds(const std::string& path, const std::string& file) {
    uint64_t header_bytes = 0;
    for (int i = 0; i < 8; ++i) header_bytes |= uint64_t(static_cast<unsigned char>(file[i])) << (8 * i);
    write_file_atomic(path, std::string(1, '\0') + file);
    write_file_atomic(path + "-framed", std::string(1, '\1') + file.substr(8, header_bytes) + '\xff' +
                                            file.substr(8 + header_bytes));
}

void write_safetensors_seeds(const std::string& path, const SafetensorsFile& f) {
    const std::string tmp = path + ".tmp-st";
    write_safetensors(tmp, f);
    write_safetensors_seeds(path, read_file(tmp));
    std::remove(tmp.c_str());
}

float from_bits(uint32_t b) {
    float x;
    std::memcpy(&x, &b, 4);
    return x;
}

CheckpointContents small_run() {
    CheckpointContents c;
    c.config = {{"preset", "tiny"}, {"ffn", "swiglu"}, {"d_model", "4"}, {"n_head", "1"}, {"seed", "1"}};
    c.counters = {{"step", 3}, {"rng.sampler.0", 0x9E3779B97F4A7C15ull}, {"rng.init.0", 42}};
    c.arrays.push_back({"tok_emb", {4, 2}, {0.5f, -0.25f, 1.0f, 0.0f, -0.0f, 2.0f, 3.0f, -1.0f}});
    c.arrays.push_back({"blocks.0.ffn.W", {2, 3}, {0.1f, 0.2f, 0.3f, -0.1f, -0.2f, -0.3f}});
    c.arrays.push_back({"adam.m.tok_emb", {4, 2}, {0, 0, 0, 0, 0, 0, 0, 1e-8f}});
    return c;
}

CheckpointContents awkward() {
    CheckpointContents c;
    c.config = {{"note", ""}, {"utf8", "caf\xc3\xa9"}};
    c.counters = {{"max", std::numeric_limits<uint64_t>::max()}};
    c.arrays.push_back({"bits", {1, 1, 1, 1, 1, 1, 1, 6},  // rank 8, the largest allowed
                        {-0.0f, 1e-45f, std::numeric_limits<float>::infinity(), from_bits(0x7fc00001u),
                         std::numeric_limits<float>::max(), -3e-39f}});
    return c;
}

SafetensorsFile small_export() {
    SafetensorsFile f;
    f.metadata = {{"ffn", "swiglu"}, {"d_model", "4"}};
    f.tensors.push_back({"tok_emb", {4, 2}, {0.5f, -0.25f, 1.0f, 0.0f, -0.0f, 2.0f, 3.0f, -1.0f}});
    f.tensors.push_back({"blocks.0.ffn.W", {3, 2}, {0.1f, -0.1f, 0.2f, -0.2f, 0.3f, -0.3f}});
    return f;
}

SafetensorsFile odd_shapes() {
    SafetensorsFile f;
    f.tensors.push_back({"scalar", {}, {7.0f}});     // rank 0: one value
    f.tensors.push_back({"empty", {0, 3}, {}});      // a zero dimension: no bytes
    f.tensors.push_back({"vec", {2}, {1.0f, -0.0f}});
    return f;
}

// As another writer might lay it out: data in the reverse of header order, extra keys
// ignored by readers, spaces in the JSON. Tensor "a" is 2 floats at [8, 16), "b" 2 floats at [0, 8).
std::string foreign_layout() {
    const std::string json =
        "{ \"__metadata__\" : {\"format\": \"pt\"}, "
        "\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16], \"extra\": null}, "
        "\"b\": {\"shape\": [1, 2], \"dtype\": \"F32\", \"data_offsets\": [0, 8]} }";
    std::string header = json;
    header.resize((header.size() + 7) / 8 * 8, ' ');
    std::string out;
    for (int i = 0; i < 8; ++i) out += static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * i));
    out += header;
    const float values[4] = {1.0f, 2.0f, 3.0f, 4.0f};  // b = [1, 2], a = [3, 4]
    out.append(reinterpret_cast<const char*>(values), sizeof values);  // little-endian hosts only
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds CORPUS_ROOT   (e.g. tests/fuzz/corpus)\n");
        return 2;
    }
    try {
        const std::string ck = dir_of(argv[1], "checkpoint"), st = dir_of(argv[1], "safetensors");
        make_directories(ck);
        make_directories(st);
        write_checkpoint_seed(ck + "small-run", small_run(), '\0');
        write_checkpoint_seed(ck + "small-run-resealed", small_run(), '\1');
        write_checkpoint_seed(ck + "empty-resealed", CheckpointContents{}, '\1');
        write_checkpoint_seed(ck + "awkward-resealed", awkward(), '\1');

        write_safetensors_seeds(st + "small-export", small_export());
        write_safetensors_seeds(st + "no-tensors", SafetensorsFile{});
        write_safetensors_seeds(st + "odd-shapes", odd_shapes());
        write_safetensors_seeds(st + "foreign-layout", foreign_layout());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
