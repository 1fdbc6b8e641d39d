#pragma once

// A fresh directory under the system's temporary directory, removed with everything in it
// when the object goes away.

#include <atomic>
#include <filesystem>
#include <random>
#include <string>

namespace laredo::testing {

class temp_dir {
public:
    explicit temp_dir(const std::string& prefix) {
        static std::atomic<unsigned> counter{0};
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                (prefix + "-" + std::to_string(rd()) + "-" + std::to_string(counter++));
        std::filesystem::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace laredo::testing
