#pragma once

// A fresh directory for one benchmark's files, removed with everything in it. It is made
// under $LAREDO_BENCH_DIR when set (to measure another disk), else the system temp directory,
// so the figures are those of that file system: fsync and page cache included.

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace laredo::bench {

class bench_dir {
  public:
    bench_dir() {
        const char* parent = std::getenv("LAREDO_BENCH_DIR");
        const std::filesystem::path base = parent != nullptr && *parent != '\0'
                                               ? std::filesystem::path(parent)
                                               : std::filesystem::temp_directory_path();
        auto pattern = (base / "laredo-bench-storage-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
        }
        path_ = pattern;
    }
    ~bench_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    bench_dir(const bench_dir&) = delete;
    bench_dir& operator=(const bench_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace laredo::bench
