// fuzz_entry.h — what each fuzz target does with one input, shared by the libFuzzer targets
// (tests/fuzz/fuzz_*.cpp) and the doctest suite (tests/test_fuzz_regressions.cpp), so that a
// crashing input kept under tests/fuzz/regressions/ is replayed through exactly the code that
// found it.
//
// Contract of every entry point: it returns normally when the library behaved, whatever the
// bytes were (a clean, documented error counts as behaving). It throws FuzzFinding when a
// property we check by hand fails (a round trip that changes the data, an error message that
// is not the promised one line). Any other exception that escapes is a finding too: the loader
// threw something it does not document. Crashes, leaks and undefined behaviour are caught by
// the sanitizers, not here.
//
// The entry points:
//   checkpoint_input   bytes -> a file -> load_checkpoint: a CheckpointError, or contents that
//                      save back to the very same bytes and reload to the same contents.
//   safetensors_input  bytes -> a file -> read_safetensors: the error, or tensors and metadata
//                      that survive write_safetensors + read_safetensors bit for bit.
// The two file targets take a mode byte first (see checkpoint_file_bytes and
// safetensors_file_bytes): it lets the fuzzer get past the size and checksum fields.
//   json_input         bytes -> json::parse: the error, or a value that, written back with
//                      json::quote and json::number_to_string, parses to the same value.
//   cli_input          bytes -> argv words -> glulab::cli::run, inside an empty sandbox folder,
//                      with every path fenced in (see cli_input for why no input can train).
//
// Files go to a per-process folder in memory when it can (tests/scratch_dir.h), removed when the
// process exits normally.
#pragma once
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "glulab/checkpoint.h"
#include "glulab/cli.h"
#include "glulab/json.h"
#include "glulab/safetensors.h"
#include "../same_arrays.h"
#include "../scratch_dir.h"

namespace glulab::fuzz {

// A property the library should have and does not: the fuzzer reports it as a crash.
struct FuzzFinding : std::logic_error {
    using std::logic_error::logic_error;
};

// ---- scratch files ----

using testing::write_raw;

// One folder per process and per use, e.g. /dev/shm/glulab-fuzz-checkpoint-4242/.
class Scratch : public testing::ScratchDir {
public:
    explicit Scratch(const std::string& tag)
        : ScratchDir(testing::memory_backed_temp_folder(), "glulab-fuzz-" + tag + "-" + std::to_string(::getpid())) {}
};

// ---- checks shared by the entry points ----

inline void require(bool ok, const std::string& what) {
    if (!ok) throw FuzzFinding(what);
}

// The promised error shape: one line that starts with the file's kind and path.
inline void require_error_line(const std::string& message, const std::string& prefix) {
    require(message.rfind(prefix, 0) == 0, "error message does not start with '" + prefix + "': " + message);
    require(message.find('\n') == std::string::npos && message.find('\r') == std::string::npos,
            "error message is not one line: " + message);
}

// Same names, shapes and float bits (tests/same_arrays.h).
inline void require_same_arrays(const std::vector<NamedArray>& a, const std::vector<NamedArray>& b, const char* what) {
    const std::string difference = testing::first_difference(a, b);
    require(difference.empty(), std::string(what) + ": " + difference);
}

// ---- checkpoint ----

// Byte 0 of an input chooses how the rest becomes a file:
//   bit 0 clear: written as given, so mutations exercise the magic, version, size and CRC checks;
//   bit 0 set:   the size field (bytes 12..19) and the trailing CRC-32 are first made to match,
//                as a crafted file would be, so mutations reach the parser behind the CRC
//                (a fuzzer alone would almost never produce a matching CRC).
inline std::string checkpoint_file_bytes(const uint8_t* data, size_t size) {
    if (size == 0) return "";
    std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    if ((data[0] & 1) && bytes.size() >= 36) {  // 32-byte header + CRC
        const uint64_t total = bytes.size();
        for (int i = 0; i < 8; ++i) bytes[12 + i] = static_cast<char>(total >> (8 * i));
        const uint32_t crc = crc32(0, bytes.data(), bytes.size() - 4);
        for (int i = 0; i < 4; ++i) bytes[bytes.size() - 4 + i] = static_cast<char>(crc >> (8 * i));
    }
    return bytes;
}

inline void checkpoint_input(const uint8_t* data, size_t size) {
    static const Scratch scratch("checkpoint");
    const std::string path = scratch.file("input"), copy = scratch.file("copy");
    const std::string bytes = checkpoint_file_bytes(data, size);
    write_raw(path, bytes);

    CheckpointContents c;
    try {
        c = load_checkpoint(path);
    } catch (const CheckpointError& e) {
        require_error_line(e.what(), "checkpoint " + path + ": ");
        return;
    }
    // The encoding is canonical (one byte string per contents, and the loader insists on every
    // byte), so what loaded must save back to the identical bytes, and reload to the same.
    save_checkpoint(copy, c);
    require(read_file(copy) == bytes, "checkpoint: save(load(file)) differs from the file");
    const CheckpointContents back = load_checkpoint(copy);
    require(back.config == c.config, "checkpoint: config changed in a round trip");
    require(back.counters == c.counters, "checkpoint: counters changed in a round trip");
    require_same_arrays(c.arrays, back.arrays, "checkpoint");
}

// ---- safetensors ----

// Byte 0 of an input chooses how the rest becomes a file:
//   bit 0 clear: written as given: the 8-byte header size, the header, the data;
//   bit 0 set:   the rest is the header text, a 0xFF byte, then the data, and the 8-byte header
//                size is computed. A mutation can then grow or shrink the header without also
//                having to fix the size field (which on its own a fuzzer almost never does).
//                0xFF never occurs in UTF-8, so it cannot be part of a header we would accept.
inline std::string safetensors_file_bytes(const uint8_t* data, size_t size) {
    if (size == 0) return "";
    const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (!(data[0] & 1)) return rest;
    const size_t split = std::min(rest.find('\xff'), rest.size());
    const std::string header = rest.substr(0, split), buffer = split < rest.size() ? rest.substr(split + 1) : "";
    std::string bytes;
    for (int i = 0; i < 8; ++i) bytes += static_cast<char>(static_cast<uint64_t>(header.size()) >> (8 * i));
    return bytes + header + buffer;
}

inline void safetensors_input(const uint8_t* data, size_t size) {
    static const Scratch scratch("safetensors");
    const std::string path = scratch.file("input"), copy = scratch.file("copy");
    write_raw(path, safetensors_file_bytes(data, size));

    SafetensorsFile f;
    try {
        f = read_safetensors(path);
    } catch (const std::runtime_error& e) {  // the documented error type
        require_error_line(e.what(), "safetensors " + path + ": ");
        return;
    }
    // Whatever we read, we must be able to write, and read back unchanged. (Not the same bytes:
    // the input may order its data differently, pad its header or carry extra keys.)
    try {
        write_safetensors(copy, f);
    } catch (const std::runtime_error& e) {
        throw FuzzFinding(std::string("safetensors: read accepts what write refuses: ") + e.what());
    }
    const SafetensorsFile back = read_safetensors(copy);
    require(back.metadata == f.metadata, "safetensors: metadata changed in a round trip");
    require_same_arrays(f.tensors, back.tensors, "safetensors");
}

// ---- json ----

// json.h has a writer for flat objects only; this writes any Value, with the library's own
// quote() and number_to_string(), so the round trip also tests those two.
inline std::string to_json(const json::Value& v) {
    using Type = json::Value::Type;
    switch (v.type()) {
        case Type::Null: return "null";
        case Type::Bool: return v.as_bool() ? "true" : "false";
        case Type::Number: return json::number_to_string(v.as_number());
        case Type::String: return json::quote(v.as_string());
        case Type::Array: {
            std::string out = "[";
            for (const json::Value& item : v.as_array()) out += (out.size() > 1 ? "," : "") + to_json(item);
            return out + "]";
        }
        case Type::Object: {
            std::string out = "{";
            for (const auto& [key, value] : v.members())
                out += (out.size() > 1 ? "," : "") + json::quote(key) + ":" + to_json(value);
            return out + "}";
        }
    }
    return "?";
}

inline bool same_json(const json::Value& a, const json::Value& b) {
    using Type = json::Value::Type;
    if (a.type() != b.type()) return false;
    switch (a.type()) {
        case Type::Null: return true;
        case Type::Bool: return a.as_bool() == b.as_bool();
        case Type::Number: {  // bits: -0 must come back as -0
            const double x = a.as_number(), y = b.as_number();
            return std::memcmp(&x, &y, sizeof x) == 0;
        }
        case Type::String: return a.as_string() == b.as_string();
        case Type::Array: {
            const auto &x = a.as_array(), &y = b.as_array();
            if (x.size() != y.size()) return false;
            for (size_t i = 0; i < x.size(); ++i)
                if (!same_json(x[i], y[i])) return false;
            return true;
        }
        case Type::Object: {
            const auto &x = a.members(), &y = b.members();
            if (x.size() != y.size()) return false;
            for (size_t i = 0; i < x.size(); ++i)
                if (x[i].first != y[i].first || !same_json(x[i].second, y[i].second)) return false;
            return true;
        }
    }
    return false;
}

inline void json_input(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    json::Value v;
    try {
        v = json::parse(text);
    } catch (const std::runtime_error& e) {
        const std::string message = e.what();
        require_error_line(message, "json: ");
        require(message.find(" at byte ") != std::string::npos, "json error without a position: " + message);
        return;
    }
    const std::string written = to_json(v);
    json::Value back;
    try {
        back = json::parse(written);
    } catch (const std::runtime_error& e) {
        throw FuzzFinding(std::string("json: what quote/number_to_string wrote does not parse: ") + e.what());
    }
    require(same_json(v, back), "json: a value changed in a write + parse round trip: " + written);
}

// ---- the command line ----

// The input is the argument list, one word per line ('\n'; a final newline ends the last word,
// so the seed files are plain text). glulab::cli::run gets {"glulab", word1, word2, ...}.
// A word ends at a NUL byte, as a real argv word does: "train\0x" must be seen as "train"
// here too, or the guards below would look at a word the program never sees.
inline std::vector<std::string> split_words(const uint8_t* data, size_t size) {
    std::vector<std::string> words;
    std::string word;
    bool cut = false;  // a NUL was seen in this word: ignore the rest of it
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == '\n') {
            words.push_back(word);
            word.clear();
            cut = false;
        } else if (data[i] == '\0') {
            cut = true;
        } else if (!cut) {
            word += static_cast<char>(data[i]);
        }
    }
    if (!word.empty()) words.push_back(word);
    return words;
}

// Why no input can train, benchmark, read a real file or write outside the sandbox:
//  - Only the subcommands listed in kFuzzedCommands run (and the top-level help); an input
//    whose first word is anything else is skipped. An allow-list, not a deny-list, because a
//    new subcommand must be looked at before it is fuzzed: `glulab bench` runs real training
//    steps for any valid options (the fuzzer found it within a minute, as a timeout).
//  - The commands run with the working folder set to an empty sandbox, and inputs with a '/'
//    or ".." in any word are skipped. A path without either names an entry of the sandbox
//    (or the sandbox itself), so defaults such as data/tinyshakespeare.txt or runs/... and
//    anything the fuzzer invents resolve to nothing: eval, sample and export find no
//    checkpoint, report and plot find no runs.
//  - `train` gets "--data=<a path that does not exist>" as its first option. train() loads the
//    corpus before anything else (before creating the run folder or the model), so it fails
//    there; an input that gives --data itself is refused as "given twice". Option parsing,
//    the range checks of every number, presets and FFN names are all exercised, a training
//    step never is.
//  - Only `graph` (one forward pass at T = 8, no training) may write a file: its --out, which
//    can only land in the sandbox. The sandbox is emptied after every input, and the OpenMP
//    thread count (which `train --threads K` sets before it fails) is restored, so one input
//    cannot affect the next.
constexpr const char* kFuzzedCommands[] = {"train", "eval",  "sample", "export", "inspect",
                                           "report", "plot", "graph",  "help",   "--help", "-h"};

inline bool is_fuzzed_command(const std::string& word) {
    for (const char* c : kFuzzedCommands)
        if (word == c) return true;
    return false;
}

inline void cli_input(const uint8_t* data, size_t size) {
    namespace fs = std::filesystem;
    static const Scratch scratch("cli");
    const fs::path sandbox = scratch.path() / "sandbox";
    const std::string absent_corpus = (scratch.path() / "absent" / "corpus.txt").string();
    fs::create_directories(sandbox);

    std::vector<std::string> words = split_words(data, size);
    if (!words.empty() && !is_fuzzed_command(words[0])) return;
    for (const std::string& w : words)
        if (w.find('/') != std::string::npos || w.find("..") != std::string::npos) return;
    if (!words.empty() && words[0] == "train") words.insert(words.begin() + 1, "--data=" + absent_corpus);

    std::vector<std::string> argv_words = {"glulab"};
    argv_words.insert(argv_words.end(), words.begin(), words.end());
    std::vector<char*> argv;
    for (std::string& w : argv_words) argv.push_back(&w[0]);
    argv.push_back(nullptr);

    const fs::path home = fs::current_path();
    const int threads = omp_get_max_threads();
    fs::current_path(sandbox);
    int rc = -1;
    try {
        rc = cli::run(static_cast<int>(argv_words.size()), argv.data());
    } catch (...) {
        fs::current_path(home);
        throw;  // run_command turns every std::exception into "error: ..."; anything else is a finding
    }
    std::fflush(stdout);
    std::fflush(stderr);
    fs::current_path(home);
    omp_set_num_threads(threads);

    const bool sandbox_empty = fs::is_empty(sandbox);
    if (!sandbox_empty)
        for (const auto& entry : fs::directory_iterator(sandbox)) fs::remove_all(entry.path());
    require(rc == 0 || rc == 1 || rc == 2, "cli: exit code " + std::to_string(rc) + " (expected 0, 1 or 2)");
    require(sandbox_empty || words[0] == "graph", "cli: a command other than graph wrote a file");
    if (!words.empty() && words[0] == "train" && rc == 0) {
        bool help = false;
        for (const std::string& w : words) help = help || w == "--help" || w == "-h";
        require(help, "cli: train succeeded without a corpus");
    }
}

}  // namespace glulab::fuzz
