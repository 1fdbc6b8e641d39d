#pragma once

// Quoting of untrusted text inside error messages: what a server (or a fuzzer) sent can be
// long, binary or not UTF-8, and an error message must stay short and printable.

#include "laredo/error.hpp"

#include <string>
#include <string_view>

namespace laredo::sources::postgres::detail {

// `"text"` with control bytes, quotes, backslashes and bytes >= 0x7f escaped as \xNN, cut
// after `limit` input bytes with "..." appended.
std::string quote_for_error(std::string_view text, std::size_t limit = 64);

// A tag byte for messages: 'B' prints as 'B', anything unprintable as 0xNN.
std::string describe_tag(char tag);

// The message an error was constructed with, without the ": <code message> [category:n]"
// that boost::system::system_error appends, so it can be wrapped with more context.
std::string message_of(const error& e);

// Throws an error with the same code and `context + ": " + message_of(e)`.
[[noreturn]] void rethrow_with_context(const error& e, std::string_view context);

}  // namespace laredo::sources::postgres::detail
