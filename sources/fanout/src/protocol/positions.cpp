#include "laredo/replica/positions.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>

namespace laredo::replica {

namespace {

[[noreturn]] void bad(std::string_view text) {
    throw error(errc::invalid_position,
                fmt::format("invalid replication position \"{}\": expected \"\", \"s:<n>\", "
                            "\"p:<n>:<n>\" or \"t:<text>\"",
                            text));
}

std::uint64_t number(std::string_view digits, std::string_view whole) {
    std::uint64_t n = 0;
    if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) bad(whole);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc{} || end != digits.data() + digits.size()) bad(whole);
    return n;
}

int rank(position::kind k) noexcept { return static_cast<int>(k); }

template <class T>
int three_way(const T& a, const T& b) noexcept {
    return a < b ? -1 : (b < a ? 1 : 0);
}

}  // namespace

std::string position_to_wire(const position& pos) {
    switch (pos.get_kind()) {
        case position::kind::empty:
            return {};
        case position::kind::sequence:
            return fmt::format("s:{}", pos.sequence());
        case position::kind::pair:
            return fmt::format("p:{}:{}", pos.major(), pos.minor());
        case position::kind::text:
            return "t:" + pos.text();
    }
    return {};
}

position position_from_wire(std::string_view text) {
    if (text.empty()) return {};
    if (text.size() < 2 || text[1] != ':') bad(text);
    const std::string_view rest = text.substr(2);
    switch (text[0]) {
        case 's':
            return position::from_sequence(number(rest, text));
        case 'p': {
            const auto colon = rest.find(':');
            if (colon == std::string_view::npos) bad(text);
            return position::from_pair(number(rest.substr(0, colon), text),
                                       number(rest.substr(colon + 1), text));
        }
        case 't':
            return position::from_text(std::string(rest));
        default:
            bad(text);
    }
}

int compare_positions(const position& a, const position& b) noexcept {
    if (a.get_kind() != b.get_kind()) return three_way(rank(a.get_kind()), rank(b.get_kind()));
    switch (a.get_kind()) {
        case position::kind::empty:
            return 0;
        case position::kind::sequence:
            return three_way(a.sequence(), b.sequence());
        case position::kind::pair:
            if (a.major() != b.major()) return three_way(a.major(), b.major());
            return three_way(a.minor(), b.minor());
        case position::kind::text:
            return three_way(a.text(), b.text());
    }
    return 0;
}

}  // namespace laredo::replica
