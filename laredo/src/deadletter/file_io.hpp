#pragma once

// The few POSIX file operations a crash-safe append-only store needs and <fstream> does not
// offer: O_APPEND writes of whole lines, fsync of files and directories, truncation back after
// a failed write. Failures throw laredo::error with the errno and the path.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::deadletter::detail {

// An open file descriptor, closed on destruction.
class file {
  public:
    // O_WRONLY | O_CREAT | O_CLOEXEC plus `flags` (O_APPEND, O_TRUNC...), mode 0644.
    file(const std::filesystem::path& path, int flags);
    ~file();
    file(const file&) = delete;
    file& operator=(const file&) = delete;

    // Writes every byte (retrying short writes and EINTR).
    void write_all(std::string_view bytes);
    void sync();
    void truncate(std::uint64_t size);
    std::uint64_t size() const;

  private:
    int fd_ = -1;
    std::filesystem::path path_;
};

// fsync of a directory, so a created, renamed or deleted entry survives a power loss.
void sync_directory(const std::filesystem::path& dir);

// std::filesystem operations whose failures become laredo::error with the system code and
// the path (the store's contract: every failure is a laredo::error).
void create_directories(const std::filesystem::path& dir);
std::vector<std::filesystem::directory_entry> list_directory(const std::filesystem::path& dir);
std::uint64_t file_size(const std::filesystem::path& path);
void remove_file(const std::filesystem::path& path);  // a missing file is not an error
void rename_file(const std::filesystem::path& from, const std::filesystem::path& to);

// Calls `line(text, number)` for each line of the file (without its '\n'; 1-based numbers)
// until it returns false. Returns whether the file ends in the middle of a line (a torn
// tail). A missing file has no lines.
bool for_each_line(const std::filesystem::path& path,
                   const std::function<bool(std::string_view, std::size_t)>& line);

}  // namespace laredo::deadletter::detail
