#pragma once

// What the fan-out benchmark's processes share: a line-at-a-time pipe between two of them,
// and the resident memory and CPU time of the calling process.

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstddef>
#include <fstream>
#include <stdexcept>
#include <string>

namespace laredo::bench {

// One end of a pipe, read or written a line at a time (blocking).
class line_pipe {
  public:
    explicit line_pipe(int fd) : fd_(fd) {}
    ~line_pipe() { ::close(fd_); }
    line_pipe(const line_pipe&) = delete;
    line_pipe& operator=(const line_pipe&) = delete;

    int fd() const noexcept { return fd_; }

    void write_line(const std::string& text) {
        const std::string line = text + "\n";
        std::size_t done = 0;
        while (done < line.size()) {
            const auto n = ::write(fd_, line.data() + done, line.size() - done);
            if (n <= 0) throw std::runtime_error("the other benchmark process is gone");
            done += static_cast<std::size_t>(n);
        }
    }

    std::string read_line() {
        for (;;) {
            if (const auto end = buffered_.find('\n'); end != std::string::npos) {
                auto line = buffered_.substr(0, end);
                buffered_.erase(0, end + 1);
                return line;
            }
            char chunk[256];
            const auto n = ::read(fd_, chunk, sizeof chunk);
            if (n <= 0) throw std::runtime_error("the other benchmark process is gone");
            buffered_.append(chunk, static_cast<std::size_t>(n));
        }
    }

  private:
    int fd_;
    std::string buffered_;
};

// Resident set size of this process, in bytes, after handing the heap's free pages back
// (malloc_trim): what the process holds now rather than the most it ever held.
inline std::size_t rss_bytes() {
    ::malloc_trim(0);
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0;
    std::size_t resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// CPU time this process has used (user + system, every thread), in seconds.
inline double cpu_seconds() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace laredo::bench
