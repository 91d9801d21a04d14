// temp_files.h — test helpers for file formats: a self-cleaning temporary folder, raw byte
// writes (no fsync, so a test can write hundreds of damaged files quickly; scratch_dir.h), the
// comparison of named arrays (same_arrays.h), the message of the exception a call throws, and
// small helpers the format tests share.
#pragma once
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "same_arrays.h"
#include "scratch_dir.h"

namespace glulab::testing {

// A fresh, uniquely named folder under the system temporary folder, removed with its contents
// when the object goes out of scope.
class TempDir : public ScratchDir {
public:
    TempDir() : ScratchDir(std::filesystem::temp_directory_path(), unique_name()) {}

private:
    static std::string unique_name() {
        static std::atomic<int> counter{0};
        const auto tick = std::chrono::steady_clock::now().time_since_epoch().count();
        return "glulab-test-" + std::to_string(::getpid()) + "-" + std::to_string(tick) + "-" +
               std::to_string(counter++);
    }
};

// The message of the Error that f() throws; "" if it returns normally. Any other exception
// type escapes, so the test fails loudly on the wrong type.
template <class Error, class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// The float with the given IEEE-754 bits (a NaN with a payload, a denormal, ...).
inline float float_from_bits(uint32_t bits) {
    float x;
    std::memcpy(&x, &bits, sizeof x);
    return x;
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace glulab::testing
