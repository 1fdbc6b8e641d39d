#pragma once

// Bounds-checked big-endian reads over a message buffer, for the decoders. Every read checks
// what is left first, and a short buffer throws laredo::error(errc::corrupt_data) naming the
// message, the field, its offset and how many bytes were missing: malformed input never reads
// past the end. The throwing path is out of line so the checks cost a compare each.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace laredo::sources::postgres::detail {

class byte_reader {
  public:
    // `message` names the message in errors ("pgoutput Insert").
    byte_reader(std::string_view bytes, const char* message) noexcept
        : begin_(bytes.data()),
          p_(bytes.data()),
          end_(bytes.data() + bytes.size()),
          message_(message) {}

    std::size_t offset() const noexcept { return static_cast<std::size_t>(p_ - begin_); }
    std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
    bool at_end() const noexcept { return p_ == end_; }
    const char* position() const noexcept { return p_; }
    const char* message() const noexcept { return message_; }

    std::uint8_t u8(const char* field) {
        need(1, field);
        return static_cast<std::uint8_t>(*p_++);
    }
    char byte(const char* field) { return static_cast<char>(u8(field)); }
    std::uint16_t u16(const char* field) {
        need(2, field);
        const auto v = load_u16(p_);
        p_ += 2;
        return v;
    }
    std::uint32_t u32(const char* field) {
        need(4, field);
        const auto v = load_u32(p_);
        p_ += 4;
        return v;
    }
    std::uint64_t u64(const char* field) {
        need(8, field);
        const auto v = load_u64(p_);
        p_ += 8;
        return v;
    }
    std::int32_t i32(const char* field) { return static_cast<std::int32_t>(u32(field)); }
    std::int64_t i64(const char* field) { return static_cast<std::int64_t>(u64(field)); }

    // A NUL-terminated string; the view excludes the NUL.
    std::string_view cstring(const char* field) {
        const void* nul = p_ == end_ ? nullptr : std::memchr(p_, 0, remaining());
        if (nul == nullptr) unterminated(field);
        const auto* z = static_cast<const char*>(nul);
        std::string_view s(p_, static_cast<std::size_t>(z - p_));
        p_ = z + 1;
        return s;
    }

    std::string_view bytes(std::size_t n, const char* field) {
        need(n, field);
        std::string_view s(p_, n);
        p_ += n;
        return s;
    }

    std::string_view rest() noexcept {
        std::string_view s(p_, remaining());
        p_ = end_;
        return s;
    }

    void expect_end() const {
        if (p_ != end_) trailing();
    }

    void need(std::size_t n, const char* field) const {
        if (static_cast<std::size_t>(end_ - p_) < n) truncated(n, field);
    }

    // Unchecked loads, for iterators over bytes a decoder has already validated.
    static std::uint16_t load_u16(const char* p) noexcept {
        const auto* u = reinterpret_cast<const unsigned char*>(p);
        return static_cast<std::uint16_t>((u[0] << 8) | u[1]);
    }
    static std::uint32_t load_u32(const char* p) noexcept {
        const auto* u = reinterpret_cast<const unsigned char*>(p);
        return (static_cast<std::uint32_t>(u[0]) << 24) | (static_cast<std::uint32_t>(u[1]) << 16) |
               (static_cast<std::uint32_t>(u[2]) << 8) | static_cast<std::uint32_t>(u[3]);
    }
    static std::uint64_t load_u64(const char* p) noexcept {
        return (static_cast<std::uint64_t>(load_u32(p)) << 32) | load_u32(p + 4);
    }

    // Throws corrupt_data: "<message> message: <what> (at byte <offset>)".
    [[noreturn]] void fail(const std::string& what) const;

  private:
    [[noreturn]] void truncated(std::size_t n, const char* field) const;
    [[noreturn]] void unterminated(const char* field) const;
    [[noreturn]] void trailing() const;

    const char* begin_;
    const char* p_;
    const char* end_;
    const char* message_;
};

}  // namespace laredo::sources::postgres::detail
