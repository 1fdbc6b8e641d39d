#pragma once

#include "laredo/snapshot/serializer.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace laredo::snapshots::detail {

// Splits a byte source into '\n'-terminated lines through one reused buffer. Lines have no
// length limit (a row with large text values makes a long line); the caller's string grows to
// the longest line and is reused.
class line_reader {
  public:
    explicit line_reader(byte_source& in, std::size_t buffer_size = 64 * 1024)
        : in_(in), buffer_(buffer_size) {}

    // The next line without its '\n'; false at the end of the source. A last line without a
    // '\n' is returned too, and last_terminated() then says false.
    bool next(std::string& line) {
        line.clear();
        bool any = false;
        for (;;) {
            if (pos_ == end_) {
                if (eof_) break;
                end_ = in_.read(buffer_.data(), buffer_.size());
                pos_ = 0;
                if (end_ == 0) {
                    eof_ = true;
                    break;
                }
            }
            any = true;
            const char* begin = buffer_.data() + pos_;
            const auto* newline = static_cast<const char*>(std::memchr(begin, '\n', end_ - pos_));
            if (newline != nullptr) {
                line.append(begin, newline);
                pos_ += static_cast<std::size_t>(newline - begin) + 1;
                terminated_ = true;
                ++line_number_;
                return true;
            }
            line.append(begin, end_ - pos_);
            pos_ = end_;
        }
        if (!any) return false;
        terminated_ = false;
        ++line_number_;
        return true;
    }

    bool last_terminated() const noexcept { return terminated_; }
    // 1-based number of the line next() returned last.
    std::uint64_t line_number() const noexcept { return line_number_; }

  private:
    byte_source& in_;
    std::vector<char> buffer_;
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
    bool eof_ = false;
    bool terminated_ = true;
    std::uint64_t line_number_ = 0;
};

}  // namespace laredo::snapshots::detail
