#pragma once

// Source positions on the replication wire. A fan-out server serves a table whatever source
// feeds it, and a client (a replica, a cascading source) compares positions without knowing
// that source: so positions travel in a typed text form that keeps their kind and value,
// compares without help and round-trips exactly.
//
//   empty      ""
//   sequence   "s:42"
//   pair       "p:23876432:3"      (PostgreSQL: commit LSN and the change's number in it)
//   text       "t:<the text>"
//
// Order: empty first; then by kind (sequence < pair < text: one source never mixes them);
// within a kind numerically (pair: major, then minor) or bytewise (text).

#include "laredo/position.hpp"

#include <string>
#include <string_view>

namespace laredo::replica {

std::string position_to_wire(const position& pos);

// Throws laredo::error(errc::invalid_position) naming the text when it is not one of the
// forms above.
position position_from_wire(std::string_view text);

// <0, 0, >0.
int compare_positions(const position& a, const position& b) noexcept;

}  // namespace laredo::replica
