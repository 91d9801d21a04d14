// cli_runner.h — runs the real `glulab` binary as a user would, for end-to-end tests.
// The binary is build/glulab, or $GLULAB_BIN (make sanitize points it at the sanitized build).
#pragma once
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "glulab/rng.h"

namespace glulab::testing {

struct RunResult {
    int exit_code = -1;  // -1 when killed by a signal (a crash)
    std::string out, err;
};

inline std::string glulab_binary() {
    const char* env = std::getenv("GLULAB_BIN");
    return env && *env ? env : "build/glulab";
}

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A fresh folder under the system temp dir, removed when the object goes.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& tag) {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               ("glulab-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

// `text` as one shell word, whatever it holds: in single quotes, each ' written as '\''.
inline std::string shell_word(const std::string& text) {
    std::string word = "'";
    for (char ch : text) word += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return word + "'";
}

// `args` is appended to the binary's path as shell words (quote them yourself if needed, e.g.
// with shell_word).
inline RunResult run_glulab(const std::string& args, const TempDir& dir) {
    const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
    const std::string cmd = glulab_binary() + " " + args + " >" + out + " 2>" + err + " </dev/null";
    const int status = std::system(cmd.c_str());
    RunResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

// A corpus of `n` bytes of made-up text, the same for the same seed.
inline void write_corpus(const std::string& path, size_t n, uint64_t seed = 1) {
    const char* words[] = {"the ", "king ", "and ", "queen ", "of ", "a ", "rose\n", "thou ", "art ", "good ", "! "};
    Rng rng(seed);
    std::string text;
    while (text.size() < n) text += words[rng.below(11)];
    text.resize(n);
    std::ofstream(path, std::ios::binary) << text;
}

}  // namespace glulab::testing
