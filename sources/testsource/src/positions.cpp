#include "laredo/sources/testsource/positions.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>

namespace laredo::sources::testsource {

namespace {

position::kind kind_of(position_mode mode) {
    return mode == position_mode::sequence ? position::kind::sequence : position::kind::pair;
}

const char* name_of(position_mode mode) {
    return mode == position_mode::sequence ? "sequence" : "pair";
}

void check_kind(position_mode mode, const position& pos) {
    if (pos.empty() || pos.get_kind() == kind_of(mode)) return;
    throw error(errc::invalid_position, fmt::format("testsource position {} is not a {} position",
                                                    pos.debug_string(), name_of(mode)));
}

// Only plain decimal digits: from_chars alone would accept nothing else either, but an empty
// part ("12:") must be refused explicitly.
std::optional<std::uint64_t> parse_number(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::uint64_t n = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc{} || ptr != end) return std::nullopt;
    return n;
}

[[noreturn]] void malformed(position_mode mode, std::string_view text) {
    throw error(
        errc::invalid_position,
        fmt::format("invalid testsource position \"{}\": expected {}", text,
                    mode == position_mode::sequence ? "a decimal number"
                                                    : "<commit> or <commit>:<row> in decimal"));
}

}  // namespace

int compare_positions(position_mode mode, const position& a, const position& b) {
    check_kind(mode, a);
    check_kind(mode, b);
    if (a.empty() || b.empty()) return static_cast<int>(!a.empty()) - static_cast<int>(!b.empty());
    if (mode == position_mode::sequence) {
        return a.sequence() < b.sequence() ? -1 : (a.sequence() > b.sequence() ? 1 : 0);
    }
    if (a.major() != b.major()) return a.major() < b.major() ? -1 : 1;
    return a.minor() < b.minor() ? -1 : (a.minor() > b.minor() ? 1 : 0);
}

std::string format_position(position_mode mode, const position& pos) {
    check_kind(mode, pos);
    if (pos.empty()) return {};
    if (mode == position_mode::sequence) return std::to_string(pos.sequence());
    if (pos.minor() == 0) return std::to_string(pos.major());
    return fmt::format("{}:{}", pos.major(), pos.minor());
}

position parse_position(position_mode mode, std::string_view text) {
    if (text.empty()) return {};
    if (mode == position_mode::sequence) {
        const auto n = parse_number(text);
        if (!n) malformed(mode, text);
        return position::from_sequence(*n);
    }
    const auto colon = text.find(':');
    const auto major = parse_number(text.substr(0, colon));
    if (!major) malformed(mode, text);
    if (colon == std::string_view::npos) return position::from_pair(*major, 0);
    const auto minor = parse_number(text.substr(colon + 1));
    if (!minor) malformed(mode, text);
    return position::from_pair(*major, *minor);
}

}  // namespace laredo::sources::testsource
