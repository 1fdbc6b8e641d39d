#pragma once

// A fresh directory under the system's temporary directory, removed with everything in it
// when the object goes away.

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace laredo::testing {

class temp_dir {
  public:
    explicit temp_dir(const std::string& prefix = "laredo") {
        auto pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed for " + pattern);
        path_ = pattern;
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
