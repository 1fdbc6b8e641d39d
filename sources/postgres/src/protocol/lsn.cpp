#include "laredo/sources/postgres/lsn.hpp"

#include "error_text.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

namespace laredo::sources::postgres {

namespace {

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// 1 to 8 hex digits, the whole of `text`.
std::optional<std::uint32_t> parse_hex32(std::string_view text) noexcept {
    if (text.empty() || text.size() > 8) return std::nullopt;
    std::uint32_t v = 0;
    for (char c : text) {
        const int d = hex_digit(c);
        if (d < 0) return std::nullopt;
        v = (v << 4) | static_cast<std::uint32_t>(d);
    }
    return v;
}

// Decimal digits only (no sign, no space), fitting 64 bits.
std::optional<std::uint64_t> parse_u64(std::string_view text) noexcept {
    if (text.empty() || text.size() > 20) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    return v;
}

[[noreturn]] void wrong_kind(const position& pos) {
    throw error(
        errc::invalid_position,
        fmt::format("position {} is not a PostgreSQL position (LSN, n)", pos.debug_string()));
}

}  // namespace

std::string format_lsn(std::uint64_t lsn) {
    return fmt::format("{:X}/{:08X}", static_cast<std::uint32_t>(lsn >> 32),
                       static_cast<std::uint32_t>(lsn));
}

std::optional<std::uint64_t> try_parse_lsn(std::string_view text) noexcept {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const auto hi = parse_hex32(text.substr(0, slash));
    const auto lo = parse_hex32(text.substr(slash + 1));
    if (!hi || !lo) return std::nullopt;
    return (static_cast<std::uint64_t>(*hi) << 32) | *lo;
}

std::uint64_t parse_lsn(std::string_view text) {
    if (const auto v = try_parse_lsn(text)) return *v;
    throw error(errc::invalid_position,
                fmt::format("invalid LSN {}: expected X/XXXXXXXX (two groups of 1 to 8 hex "
                            "digits)",
                            detail::quote_for_error(text)));
}

std::string position_to_string(const position& pos) {
    switch (pos.get_kind()) {
        case position::kind::empty:
            return {};
        case position::kind::pair: {
            auto text = format_lsn(pos.major());
            if (pos.minor() != 0) text += fmt::format(":{}", pos.minor());
            return text;
        }
        default:
            wrong_kind(pos);
    }
}

position position_from_string(std::string_view text) {
    if (text.empty()) return {};
    const auto colon = text.find(':');
    const auto lsn = try_parse_lsn(text.substr(0, colon));
    std::optional<std::uint64_t> n = 0;
    if (colon != std::string_view::npos) n = parse_u64(text.substr(colon + 1));
    if (!lsn || !n) {
        throw error(errc::invalid_position,
                    fmt::format("invalid PostgreSQL position {}: expected X/XXXXXXXX or "
                                "X/XXXXXXXX:n",
                                detail::quote_for_error(text)));
    }
    return make_position(*lsn, *n);
}

int compare_positions(const position& a, const position& b) {
    for (const position* p : {&a, &b}) {
        if (p->get_kind() != position::kind::empty && p->get_kind() != position::kind::pair)
            wrong_kind(*p);
    }
    if (a.empty() || b.empty()) return static_cast<int>(!a.empty()) - static_cast<int>(!b.empty());
    if (a.major() != b.major()) return a.major() < b.major() ? -1 : 1;
    if (a.minor() != b.minor()) return a.minor() < b.minor() ? -1 : 1;
    return 0;
}

}  // namespace laredo::sources::postgres
