#pragma once

// Parsers for PostgreSQL's text output of the date/time types (DateStyle=ISO), used by the
// value converter. Each takes the whole text and throws laredo::error(errc::corrupt_data)
// through invalid_text when it is not what the server prints.

#include "laredo/sources/postgres/value_converter.hpp"

#include <cstdint>
#include <string_view>

namespace laredo::sources::postgres::detail {

// "invalid <kind> text \"...\": <why>".
[[noreturn]] void invalid_text(value_kind kind, std::string_view text, std::string_view why);

// "2024-01-02", "0044-03-15 BC", "5874897-12-31", "infinity", "-infinity" -> days since 1970
// (date_value's infinity sentinels for the infinities).
std::int32_t parse_date_text(std::string_view text);

// "13:05:09", "13:05:09.5", "24:00:00" -> µs since midnight.
std::int64_t parse_time_text(std::string_view text);

// "2024-01-02 03:04:05.123456", "0044-03-15 12:00:00 BC", "infinity" -> µs since 1970.
std::int64_t parse_timestamp_text(std::string_view text);

// As above with an offset after the time: "+00", "+05:30", "-03:30:52" (LMT), then " BC" if
// BC -> µs since 1970 UTC.
std::int64_t parse_timestamptz_text(std::string_view text);

}  // namespace laredo::sources::postgres::detail
