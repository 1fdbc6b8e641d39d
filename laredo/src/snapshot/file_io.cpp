#include "file_io.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"

#include <boost/system/error_code.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>

#include <algorithm>
#include <cstring>
#include <utility>

namespace laredo::snapshots::detail {

void throw_io(int err, const std::string& what) {
    throw error(boost::system::error_code(err, boost::system::system_category()), what);
}

namespace {

constexpr std::size_t write_buffer_size = 256 * 1024;

int open_or_throw(const std::filesystem::path& path, int flags, const char* verb) {
    for (;;) {
        const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
        if (fd >= 0) return fd;
        if (errno != EINTR) throw_io(errno, std::string(verb) + " " + path.string());
    }
}

void write_all(int fd, const char* data, std::size_t size, const std::filesystem::path& path) {
    while (size > 0) {
        const auto n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_io(errno, "writing " + path.string());
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

void fsync_or_throw(int fd, const std::filesystem::path& path) {
    if (::fsync(fd) != 0) throw_io(errno, "fsync of " + path.string());
}

}  // namespace

file_writer::file_writer(const std::filesystem::path& path)
    : path_(path),
      fd_(open_or_throw(path, O_WRONLY | O_CREAT | O_EXCL, "creating")),
      buffer_(write_buffer_size) {}

file_writer::~file_writer() {
    if (fd_ >= 0) ::close(fd_);
}

void file_writer::write(std::string_view bytes) {
    crc_ = json::crc32c(bytes, crc_);
    size_ += bytes.size();
    if (bytes.size() >= buffer_.size()) {
        flush();
        write_all(fd_, bytes.data(), bytes.size(), path_);
        return;
    }
    if (used_ + bytes.size() > buffer_.size()) flush();
    std::memcpy(buffer_.data() + used_, bytes.data(), bytes.size());
    used_ += bytes.size();
}

void file_writer::flush() {
    write_all(fd_, buffer_.data(), used_, path_);
    used_ = 0;
}

void file_writer::finish() {
    flush();
    fsync_or_throw(fd_, path_);
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) throw_io(errno, "closing " + path_.string());
}

file_reader::file_reader(const std::filesystem::path& path)
    : path_(path), fd_(open_or_throw(path, O_RDONLY, "opening")) {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        const int err = errno;
        ::close(fd_);
        throw_io(err, "stat of " + path.string());
    }
    file_size_ = static_cast<std::uint64_t>(st.st_size);
}

file_reader::~file_reader() {
    if (fd_ >= 0) ::close(fd_);
}

std::size_t file_reader::read(char* buffer, std::size_t size) {
    for (;;) {
        const auto n = ::read(fd_, buffer, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_io(errno, "reading " + path_.string());
        }
        const auto got = static_cast<std::size_t>(n);
        crc_ = json::crc32c(std::string_view(buffer, got), crc_);
        size_ += got;
        return got;
    }
}

void file_reader::drain() {
    std::vector<char> buffer(64 * 1024);
    while (read(buffer.data(), buffer.size()) > 0) {
    }
}

void write_file(const std::filesystem::path& path, std::string_view content) {
    file_writer out(path);
    out.write(content);
    out.finish();
}

std::string read_file(const std::filesystem::path& path, std::size_t limit) {
    file_reader in(path);
    if (in.file_size() > limit) {
        throw error(errc::corrupt_data,
                    path.string() + ": larger than " + std::to_string(limit) + " bytes");
    }
    std::string content(static_cast<std::size_t>(in.file_size()), '\0');
    std::size_t got = 0;
    while (got < content.size()) {
        const auto n = in.read(content.data() + got, content.size() - got);
        if (n == 0) break;
        got += n;
    }
    content.resize(got);
    return content;
}

void sync_directory(const std::filesystem::path& dir) {
    const int fd = open_or_throw(dir, O_RDONLY | O_DIRECTORY, "opening directory");
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) throw_io(err, "fsync of directory " + dir.string());
}

bool rename_no_replace(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
        return true;
    }
    if (errno == EEXIST) return false;
    if (errno != EINVAL && errno != ENOSYS) {
        throw_io(errno, "renaming " + from.string() + " to " + to.string());
    }
    // A file system without RENAME_NOREPLACE: the store's lock already keeps its own saves
    // apart, so check, then rename.
    std::error_code ec;
    if (std::filesystem::exists(to, ec)) return false;
    if (::rename(from.c_str(), to.c_str()) != 0) {
        throw_io(errno, "renaming " + from.string() + " to " + to.string());
    }
    return true;
}

}  // namespace laredo::snapshots::detail
