// scratch_dir.h — a folder for the files a test or a fuzz target writes, removed with its
// contents when the object goes out of scope, and raw byte writes into it. Shared by the doctest
// suite (temp_files.h) and the libFuzzer targets (fuzz/fuzz_entry.h), which are built without
// doctest, so this header includes nothing of it.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace glulab::testing {

class ScratchDir {
public:
    // parent / name, emptied first: a folder left by a crashed run of the same name starts clean.
    ScratchDir(const std::filesystem::path& parent, const std::string& name) : path_(parent / name) {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir() {
        std::error_code ec;  // never throw from a destructor
        std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// /dev/shm when it exists and is writable (memory: save_checkpoint and write_safetensors fsync
// every file, which on a disk costs milliseconds per file), else the system temporary folder.
inline std::filesystem::path memory_backed_temp_folder() {
    const std::filesystem::path shm = "/dev/shm";
    std::error_code ec;
    if (std::filesystem::is_directory(shm, ec) && ::access(shm.c_str(), W_OK) == 0) return shm;
    return std::filesystem::temp_directory_path();
}

// Removes the file first: on ext4, truncating and rewriting an existing file forces its data to
// disk at close (the "replace via truncate" safeguard), which made a loop of 2,000 rewrites
// take 20 s instead of under one.
inline void write_raw(const std::string& path, const std::string& bytes) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("could not write " + path);
}

}  // namespace glulab::testing
