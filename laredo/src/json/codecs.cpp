#include "laredo/error.hpp"
#include "laredo/json/values.hpp"

#include <fmt/format.h>

#include <array>

namespace laredo::json {

namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<signed char, 256> make_reverse() noexcept {
    std::array<signed char, 256> r{};
    for (auto& x : r) x = -1;
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        r[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
    return r;
}

constexpr auto reverse = make_reverse();

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

[[noreturn]] void bad_base64(std::string_view why) {
    throw error(errc::corrupt_data, fmt::format("invalid base64: {}", why));
}

}  // namespace

std::string to_hex(std::uint64_t v) { return fmt::format("{:016x}", v); }

std::uint64_t from_hex(std::string_view text) {
    if (text.size() != 16) {
        throw error(errc::corrupt_data,
                    fmt::format("invalid hex number \"{}\": expected 16 hex digits",
                                sanitize_utf8(text.substr(0, 40))));
    }
    std::uint64_t v = 0;
    for (char c : text) {
        const int d = hex_digit(c);
        if (d < 0) {
            throw error(
                errc::corrupt_data,
                fmt::format("invalid hex number \"{}\": not a hex digit", sanitize_utf8(text)));
        }
        v = v << 4 | static_cast<std::uint64_t>(d);
    }
    return v;
}

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t n = std::uint32_t(p[i]) << 16 | std::uint32_t(p[i + 1]) << 8 | p[i + 2];
        out += alphabet[n >> 18];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t n = std::uint32_t(p[i]) << 16;
        out += alphabet[n >> 18];
        out += alphabet[(n >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const std::uint32_t n = std::uint32_t(p[i]) << 16 | std::uint32_t(p[i + 1]) << 8;
        out += alphabet[n >> 18];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += '=';
    }
    return out;
}

std::string base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) bad_base64("length is not a multiple of 4");
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int pad = 0;
        if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
        std::uint32_t n = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            if (k >= 4 - static_cast<std::size_t>(pad)) {
                n <<= 6;
                continue;
            }
            const int d = reverse[static_cast<unsigned char>(text[i + k])];
            if (d < 0) {
                bad_base64(fmt::format("unexpected character at offset {}", i + k));
            }
            n = n << 6 | static_cast<std::uint32_t>(d);
        }
        // Padding bits must be zero: one spelling per byte string.
        if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0)) {
            bad_base64("non-zero padding bits");
        }
        out += static_cast<char>(n >> 16);
        if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
        if (pad < 1) out += static_cast<char>(n & 0xff);
    }
    return out;
}

}  // namespace laredo::json
