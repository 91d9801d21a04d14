// test_fuzz_regressions.cpp — replays every input a fuzzer ever found a problem with
// (tests/fuzz/regressions/<target>-<name>) and every committed seed (tests/fuzz/corpus/<target>/)
// through the same entry points as the libFuzzer targets (tests/fuzz/fuzz_entry.h), so the normal
// suite, and its sanitizer build, keep every fix fixed without clang or libFuzzer.
//
// An entry point returns normally when the library behaved (a clean error counts); it throws
// when a property failed, and the sanitizer build catches crashes and leaks. The folders are
// found from this file's path, so the suite runs from the repository root, as `make test` does.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "../src/io/binary.h"
#include "fuzz/fuzz_entry.h"
#include "glulab/fileio.h"

namespace fs = std::filesystem;
using Entry = void (*)(const uint8_t*, size_t);

namespace {

const fs::path kFuzzDir = fs::path(__FILE__).parent_path() / "fuzz";

// The seeds of `target`, then its regression inputs, sorted by name.
std::vector<fs::path> inputs_of(const std::string& target) {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(kFuzzDir / "corpus" / target)) found.push_back(e.path());
    if (fs::is_directory(kFuzzDir / "regressions"))
        for (const auto& e : fs::directory_iterator(kFuzzDir / "regressions"))
            if (e.path().filename().string().rfind(target + "-", 0) == 0) found.push_back(e.path());
    std::sort(found.begin(), found.end());
    return found;
}

// Sends stdout and stderr to /dev/null while alive: the CLI inputs print an error line each.
class Quiet {
public:
    Quiet() {
        std::fflush(stdout);
        std::fflush(stderr);
        saved_out_ = ::dup(1);
        saved_err_ = ::dup(2);
        const int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) {
            ::dup2(null, 1);
            ::dup2(null, 2);
            ::close(null);
        }
    }
    ~Quiet() {
        std::fflush(stdout);
        std::fflush(stderr);
        restore(saved_out_, 1);
        restore(saved_err_, 2);
    }
    Quiet(const Quiet&) = delete;
    Quiet& operator=(const Quiet&) = delete;

private:
    static void restore(int saved, int fd) {
        if (saved < 0) return;
        ::dup2(saved, fd);
        ::close(saved);
    }
    int saved_out_ = -1, saved_err_ = -1;
};

// What went wrong when `entry` ran on the file's bytes; "" when the library behaved.
std::string failure_of(Entry entry, const fs::path& file, bool quiet) {
    const std::string bytes = glulab::read_file(file.string());
    try {
        std::unique_ptr<Quiet> silence(quiet ? new Quiet : nullptr);
        entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "an exception of a non-standard type";
    }
    return "";
}

void replay(const std::string& target, Entry entry, bool quiet = false) {
    REQUIRE_MESSAGE(fs::is_directory(kFuzzDir / "corpus" / target),
                    "no seed folder " << (kFuzzDir / "corpus" / target).string() << " (run from the repository root)");
    const std::vector<fs::path> files = inputs_of(target);
    CHECK(!files.empty());
    for (const fs::path& f : files) {
        const std::string failure = failure_of(entry, f, quiet);
        CHECK_MESSAGE(failure.empty(), f.string() << ": " << failure);
    }
}

}  // namespace

TEST_CASE("fuzz inputs: checkpoint loader (load, or one-line CheckpointError; save reproduces the bytes)") {
    replay("checkpoint", glulab::fuzz::checkpoint_input);
}

TEST_CASE("fuzz inputs: safetensors reader and writer round trip") {
    replay("safetensors", glulab::fuzz::safetensors_input);
}

TEST_CASE("fuzz inputs: JSON parse, write back, parse again") {
    replay("json", glulab::fuzz::json_input);
}

TEST_CASE("fuzz inputs: command line in a sandbox (exit 0, 1 or 2; no training, no files written)") {
    replay("cli", glulab::fuzz::cli_input, /*quiet=*/true);
}

// The fix for the first finding (tests/fuzz/regressions/checkpoint-carriage-returns-in-name):
// names read from a file are shown escaped and cut, so an error about a file stays one line.
TEST_CASE("fuzz fix: names in error messages are one line, control bytes escaped, long names cut") {
    using glulab::binary::printable;
    CHECK(printable("blocks.0.ffn.w1.weight") == "blocks.0.ffn.w1.weight");
    CHECK(printable("a\nb\r\x1b[2K\x7f") == "a\\x0ab\\x0d\\x1b[2K\\x7f");
    CHECK(printable("caf\xc3\xa9") == "caf\xc3\xa9");  // UTF-8 passes through
    CHECK(printable(std::string(64, 'y')) == std::string(64, 'y'));
    CHECK(printable(std::string(65, 'y')) == std::string(64, 'y') + "...");
    // An e-acute (2 bytes) straddling byte 64 is dropped whole, not cut in half.
    CHECK(printable(std::string(63, 'x') + "\xc3\xa9tail") == std::string(63, 'x') + "...");
}
