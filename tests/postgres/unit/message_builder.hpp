#pragma once

// Builds protocol messages byte by byte for tests that need a message the server would not
// send (malformed, or a kind the captures lack).

#include <cstdint>
#include <string>
#include <string_view>

namespace laredo::sources::postgres::testing {

class message_builder {
  public:
    explicit message_builder(char tag) { bytes_ += tag; }
    message_builder& u8(std::uint8_t v) {
        bytes_ += static_cast<char>(v);
        return *this;
    }
    message_builder& u16(std::uint16_t v) { return be(v, 2); }
    message_builder& u32(std::uint32_t v) { return be(v, 4); }
    message_builder& u64(std::uint64_t v) { return be(v, 8); }
    message_builder& str(std::string_view s) {
        bytes_ += s;
        bytes_ += '\0';
        return *this;
    }
    message_builder& raw(std::string_view s) {
        bytes_ += s;
        return *this;
    }
    // A tuple column with text.
    message_builder& text(std::string_view s) {
        u8('t');
        u32(static_cast<std::uint32_t>(s.size()));
        return raw(s);
    }
    const std::string& bytes() const { return bytes_; }
    operator std::string_view() const { return bytes_; }

  private:
    message_builder& be(std::uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i) bytes_ += static_cast<char>((v >> (8 * i)) & 0xff);
        return *this;
    }
    std::string bytes_;
};

}  // namespace laredo::sources::postgres::testing
