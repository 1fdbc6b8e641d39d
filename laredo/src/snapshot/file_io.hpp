#pragma once

// POSIX file access for the local snapshot store: buffered writes that are fsynced before a
// snapshot is renamed into place, reads that checksum what they hand on, directory fsyncs.

#include "laredo/snapshot/serializer.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::snapshots::detail {

// Throws laredo::error with the system error `err` and `what` ("writing /x/y").
[[noreturn]] void throw_io(int err, const std::string& what);

// Creates a new file (never overwrites) and writes it through a buffer, counting bytes and
// computing their CRC-32C. finish() flushes, fsyncs and closes; without it the destructor
// just closes (the caller is abandoning the file).
class file_writer final : public byte_sink {
  public:
    explicit file_writer(const std::filesystem::path& path);
    ~file_writer() override;
    file_writer(const file_writer&) = delete;
    file_writer& operator=(const file_writer&) = delete;

    void write(std::string_view bytes) override;
    void finish();

    std::uint64_t size() const noexcept { return size_; }
    std::uint32_t crc() const noexcept { return crc_; }

  private:
    void flush();

    std::filesystem::path path_;
    int fd_ = -1;
    std::vector<char> buffer_;
    std::size_t used_ = 0;
    std::uint64_t size_ = 0;
    std::uint32_t crc_ = 0;
};

// Reads a file, counting bytes and computing their CRC-32C as they pass.
class file_reader final : public byte_source {
  public:
    explicit file_reader(const std::filesystem::path& path);
    ~file_reader() override;
    file_reader(const file_reader&) = delete;
    file_reader& operator=(const file_reader&) = delete;

    std::size_t read(char* buffer, std::size_t size) override;
    // Reads what is left, so size() and crc() cover the whole file.
    void drain();

    // The size on disk when the file was opened.
    std::uint64_t file_size() const noexcept { return file_size_; }
    std::uint64_t size() const noexcept { return size_; }
    std::uint32_t crc() const noexcept { return crc_; }

  private:
    std::filesystem::path path_;
    int fd_ = -1;
    std::uint64_t file_size_ = 0;
    std::uint64_t size_ = 0;
    std::uint32_t crc_ = 0;
};

// Writes a small file whole and fsyncs it.
void write_file(const std::filesystem::path& path, std::string_view content);
// Reads a small file whole; `limit` bounds what a damaged file can make us allocate.
std::string read_file(const std::filesystem::path& path, std::size_t limit);

// fsync of a directory, so a rename or a new entry in it survives a crash.
void sync_directory(const std::filesystem::path& dir);

// rename(2) that refuses to replace an existing `to` (renameat2 RENAME_NOREPLACE). Returns
// false when `to` exists; throws on other failures.
bool rename_no_replace(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace laredo::snapshots::detail
