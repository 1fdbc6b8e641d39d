#pragma once

// WAL locations (LSNs) and the PostgreSQL source's positions, in their string forms.
//
// An LSN prints as `X/XXXXXXXX` (`%X/%08X`: the high half unpadded, the low half padded to 8
// digits, upper case), the form the Go original stored; PostgreSQL's own `%X/%X` and any
// case of hex digits parse as well.
//
// A position of the PostgreSQL source is a pair (LSN, n) (docs/postgres-source.md): the row events
// of a transaction carry (final LSN of its Begin, n) with n = 1, 2, ...; its commit carries
// (end LSN, 0); heartbeats carry (WAL end, 0). Its string form is `X/XXXXXXXX:n`, with `:n`
// left out when n is 0, so a bare LSN reads as n = 0. The empty position prints as "" and ""
// reads back as the empty position.

#include "laredo/position.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace laredo::sources::postgres {

// `X/XXXXXXXX`, e.g. 0 -> "0/00000000", 0x1A2B3C4D5E -> "1A/2B3C4D5E".
std::string format_lsn(std::uint64_t lsn);

// Parses `H/L` where H and L are 1 to 8 hex digits of any case. Throws
// laredo::error(errc::invalid_position) naming the text when it is anything else.
std::uint64_t parse_lsn(std::string_view text);

// As parse_lsn, nullopt instead of an error.
std::optional<std::uint64_t> try_parse_lsn(std::string_view text) noexcept;

// The source's position for (lsn, n).
inline position make_position(std::uint64_t lsn, std::uint64_t n = 0) noexcept {
    return position::from_pair(lsn, n);
}

// "X/XXXXXXXX:n" ("X/XXXXXXXX" when n is 0; "" for the empty position). Throws
// errc::invalid_position for a position of another kind (sequence, text).
std::string position_to_string(const position& pos);

// The inverse of position_to_string: `H/L` or `H/L:n` (n decimal, up to 2^64 - 1), or "" for
// the empty position. Throws errc::invalid_position naming the text otherwise.
position position_from_string(std::string_view text);

// Orders two positions of this source: by LSN, then by n; the empty position sorts before
// every other. Returns <0, 0, >0. Throws errc::invalid_position for another kind.
int compare_positions(const position& a, const position& b);

}  // namespace laredo::sources::postgres
