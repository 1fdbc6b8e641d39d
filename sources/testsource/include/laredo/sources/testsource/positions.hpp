#pragma once

#include "laredo/position.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace laredo::sources::testsource {

// Which positions a test source hands out.
//
//   sequence - position::from_sequence(n): every change takes the next n (1, 2, 3...). A
//              baseline of an untouched source is at 0. String form: decimal, "42".
//   pair     - position::from_pair(commit, row): like PostgreSQL, `commit` numbers the
//              transaction (1, 2, 3... in commit order) and `row` its changes (1..n), so every
//              change is strictly greater than the last. String form "12:3"; the ":row" part
//              is left out when it is 0 ("12"), and a bare number reads as row 0, as the
//              PostgreSQL source does with "X/XXXXXXXX:n".
//
// In both modes the empty position is the empty string and sorts before every other.
enum class position_mode : std::uint8_t { sequence, pair };

// <0, 0, >0. Throws errc::invalid_position for a position of the other mode (or a text one).
int compare_positions(position_mode mode, const position& a, const position& b);

// The string form above. Throws errc::invalid_position for a position of the other mode.
std::string format_position(position_mode mode, const position& pos);

// Reads the string form back. Anything else (signs, spaces, a missing or extra part, a number
// beyond 64 bits, "12:3" in sequence mode) throws errc::invalid_position naming the text.
position parse_position(position_mode mode, std::string_view text);

}  // namespace laredo::sources::testsource
