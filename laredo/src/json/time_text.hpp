#pragma once

// Text forms of dates, times and instants (the table in laredo/json/values.hpp): ISO 8601 /
// RFC 3339 with the expanded year form outside 0..9999, so every value a date_value or an
// int64 microsecond count can hold has a spelling and comes back exactly.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace laredo::json::detail {

// "2024-01-02", "-0043-03-15", "+10000-01-01" for days since 1970-01-01.
std::string format_date(std::int64_t days);

// "HH:MM:SS" plus `digits` fraction digits of `units` (units_per_second = 10^digits); hours
// may exceed 23 and a negative count gets a leading '-', so any count has a spelling.
std::string format_clock(std::int64_t units, int digits);

// Days since 1970-01-01 and units since midnight of a count of `units` since the epoch.
std::string format_date_time(std::int64_t units, int digits, bool utc);

// Parsers: nullopt when the text is not in the form (the caller names the value and text).
// `max_digits` caps the fraction digits; fewer are read as the leading digits.
std::optional<std::int64_t> parse_date(std::string_view text);
std::optional<std::int64_t> parse_clock(std::string_view text, int max_digits);

// A date and time with 'T' (or ' ') between. With `offset` the text must end in 'Z' or
// ±HH:MM and the result is UTC; without, it must end after the fraction. Units are 10^-digits
// seconds since 1970-01-01; nullopt also on overflow.
std::optional<std::int64_t> parse_date_time(std::string_view text, int digits, bool offset);

}  // namespace laredo::json::detail
