#pragma once

#include "laredo/pipeline_options.hpp"
#include "laredo/row.hpp"

#include <chrono>
#include <optional>
#include <string_view>

namespace laredo::detail {

using system_time = std::chrono::system_clock::time_point;

// An RFC 3339 date-time ("2026-01-02T03:04:05.123456Z", "...+02:00"; a space may stand for
// the 'T'), or nullopt when the text is not one.
std::optional<system_time> parse_rfc3339(std::string_view text);

// When a row expires under a pipeline's TTL options: the function when set, else the value of
// the TTL column (timestamp/timestamptz, or RFC 3339 text). nullopt means never: no TTL, a
// missing column, null, +infinity or a value of any other kind.
std::optional<system_time> row_expires_at(const pipeline_options& options, const row& r);

// The key values of a row for reports ("1" or "1,eu"), or every value when it has no key.
std::string key_text(const row& r);

}  // namespace laredo::detail
