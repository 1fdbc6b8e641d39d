#include "file_io.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <fstream>

namespace laredo::deadletter::detail {

namespace {

[[noreturn]] void fail(std::string_view what, const std::filesystem::path& path) {
    const int e = errno;
    throw error(boost::system::error_code(e, boost::system::system_category()),
                fmt::format("dead-letter store: cannot {} {}", what, path.string()));
}

[[noreturn]] void fail(const std::error_code& ec, std::string_view what,
                       const std::filesystem::path& path) {
    throw error(boost::system::error_code(ec.value(), boost::system::system_category()),
                fmt::format("dead-letter store: cannot {} {}", what, path.string()));
}

}  // namespace

void create_directories(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) fail(ec, "create directory", dir);
}

std::vector<std::filesystem::directory_entry> list_directory(const std::filesystem::path& dir) {
    std::error_code ec;
    std::vector<std::filesystem::directory_entry> out;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        out.push_back(*it);
    if (ec) fail(ec, "list directory", dir);
    return out;
}

std::uint64_t file_size(const std::filesystem::path& path) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path, ec);
    if (ec) fail(ec, "stat", path);
    return n;
}

void remove_file(const std::filesystem::path& path) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    if (ec) fail(ec, "remove", path);
}

void rename_file(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::error_code ec;
    std::filesystem::rename(from, to, ec);
    if (ec) fail(ec, "rename " + from.string() + " to", to);
}

file::file(const std::filesystem::path& path, int flags) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
    if (fd_ < 0) fail("open", path);
}

file::~file() {
    if (fd_ >= 0) ::close(fd_);
}

void file::write_all(std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write to", path_);
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void file::sync() {
    if (::fsync(fd_) != 0) fail("fsync", path_);
}

void file::truncate(std::uint64_t size) {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) fail("truncate", path_);
}

std::uint64_t file::size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("stat", path_);
    return static_cast<std::uint64_t>(st.st_size);
}

void sync_directory(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail("open directory", dir);
    const int r = ::fsync(fd);
    const int e = errno;
    ::close(fd);
    errno = e;
    if (r != 0) fail("fsync directory", dir);
}

bool for_each_line(const std::filesystem::path& path,
                   const std::function<bool(std::string_view, std::size_t)>& line) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (!std::filesystem::exists(path)) return false;
        fail("read", path);
    }
    std::string text;
    std::size_t number = 0;
    while (std::getline(in, text)) {
        ++number;
        // getline sets eof when the last line had no '\n': a record cut short.
        const bool torn = in.eof();
        if (!line(text, number)) return false;
        if (torn) return true;
    }
    if (in.bad()) fail("read", path);
    return false;
}

}  // namespace laredo::deadletter::detail
