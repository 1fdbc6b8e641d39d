#pragma once

// The JSON form of laredo's values, rows, column definitions and change events: what
// snapshots and dead letters store (docs/design.md "JSON", "Formats on disk").
//
// Values are written plain when their alternative is the column's natural one (natural_type),
// so files read like ordinary JSON, and tagged otherwise, so nothing is lost:
//
// clang-format off
// | alternative  | plain form                                        | example                           |
// |--------------|---------------------------------------------------|-----------------------------------|
// | null         | null (whatever the column's type)                 | null                              |
// | unchanged    | {"$unchanged":true} (whatever the column's type)  |                                   |
// | bool         | true / false                                      | true                              |
// | int64        | number; a decimal string beyond ±2^53             | 42, "9007199254740993"            |
// | float64      | number (shortest round trip); "NaN", "Infinity",  | 1.5E0, "NaN"                      |
// |              | "-Infinity"                                       |                                   |
// | numeric      | string, the exact decimal text                    | "12.500"                          |
// | text         | string                                            | "ann"                             |
// | bytes        | string, base64 with padding                       | "AAEC"                            |
// | date         | "YYYY-MM-DD"; years outside 0..9999 in ISO 8601   | "2024-01-02", "-0043-03-15",      |
// |              | expanded form (astronomical: year 0 = 1 BC);      | "+10000-01-01", "infinity"        |
// |              | "infinity", "-infinity"                           |                                   |
// | time         | "HH:MM:SS.ffffff" (always 6 fraction digits)      | "13:05:09.500000"                 |
// | timestamp    | "YYYY-MM-DDTHH:MM:SS.ffffff" (no offset)          | "2024-01-02T03:04:05.123456"      |
// | timestamptz  | RFC 3339 UTC, always 6 fraction digits            | "2024-01-02T03:04:05.123456Z"     |
// | interval     | string, the source's text                         | "1 day 02:00:00"                  |
// | json         | the JSON itself, embedded, when Boost.JSON writes | {"a":1}                           |
// |              | it back byte for byte; otherwise tagged           |                                   |
// | array        | string, the source's text                         | "{1,2,NULL}"                      |
// clang-format on
//
// Tagged form: {"$type":"<laredo::to_string(type)>","value":<the plain form of that type>},
// except json, whose tagged value is always its text as a string (so any text round-trips,
// including PostgreSQL's spaced jsonb output and numbers Boost.JSON would respell). Text-like
// values (text, numeric, interval, json, array) that are not valid UTF-8 are written
// {"$type":"<type>","base64":"..."}, so the output is always valid UTF-8 and no byte is lost.
//
// Boost.JSON 1.81's own parser rounds some doubles wrongly (about a third of random bit
// patterns come back one unit off): read files with laredo::json::parse, which reads every
// number exactly, or float64 values will not round-trip.

#include "laredo/change_event.hpp"
#include "laredo/column_definition.hpp"
#include "laredo/row.hpp"
#include "laredo/value.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::json {

// The alternative a column's values usually take, from its type name: PostgreSQL udt names
// (int2/int4/int8/oid → int64, float4/float8 → float64, numeric → numeric, bool → boolean,
// text/varchar/bpchar/name/uuid/... → text, bytea → bytes, date, time, timestamp,
// timestamptz, interval, json/jsonb → json, names starting with '_' → array) and common
// generic names (string, integer, bigint, int, double, float, boolean, bytes, ...); text when
// unknown. Case-insensitive; "character varying(10)"-style modifiers are ignored.
value::type natural_type(const column_definition& column) noexcept;
value::type natural_type(std::string_view type_name) noexcept;

// A value in its JSON form (table above).
boost::json::value encode_value(const value& v, value::type natural);

// The inverse; throws laredo::error(errc::corrupt_data) naming what is wrong.
value decode_value(const boost::json::value& j, value::type natural);

// {"column": value, ...} in schema order, each value encoded with its column's natural type.
// An empty row (no schema) is an empty object.
boost::json::object encode_row(const row& r);

// Throws errc::corrupt_data naming a missing or unknown column or a bad value.
row decode_row(const boost::json::object& o, const schema_ptr& schema);

// Column definitions (every field of column_definition) and back:
// [{"name":"id","type":"int4","type_oid":23,"nullable":false,"primary_key":true,
//   "ordinal_position":1,"primary_key_ordinal":1,"default_value":null,"max_length":0}, ...]
// Reading requires "name" and "type"; the other fields take column_definition's defaults
// when absent. Throws errc::corrupt_data naming the column and field.
boost::json::array encode_columns(const std::vector<column_definition>& columns);
std::vector<column_definition> decode_columns(const boost::json::value& j);

// A change event, self-describing (each row carries its columns):
// {"table":"public.users","action":"UPDATE","timestamp":"...Z","commit_timestamp":null,
//  "transaction_id":7,"ends_transaction":true,
//  "new_values":{"columns":[...],"values":{...}},"old_values":null}
// The position is not part of it (dead letters and snapshots store its string form beside).
// transaction_id is a number, or a decimal string beyond 2^53. decode_change throws
// errc::corrupt_data naming the field; rows with equal columns share one schema.
boost::json::object encode_change(const change_event& change);
change_event decode_change(const boost::json::object& o);

// A point in time as RFC 3339 UTC: 6 fraction digits, or 9 when it is not a whole
// microsecond, so every system_clock value round-trips. parse_time_point also reads other
// offsets ("+02:00") and 0 to 9 fraction digits; errc::corrupt_data on bad input.
std::string format_time_point(std::chrono::system_clock::time_point t);
std::chrono::system_clock::time_point parse_time_point(std::string_view text);

// Parses JSON text, reading every number exactly (see the note at the top). Throws
// errc::corrupt_data with the parser's reason on bad input (invalid UTF-8 included).
boost::json::value parse(std::string_view text);

// 16 lowercase hex digits and back (fingerprints in files; JSON numbers cannot hold 64 bits).
// from_hex takes exactly 16 hex digits of either case; errc::corrupt_data otherwise.
std::string to_hex(std::uint64_t v);
std::uint64_t from_hex(std::string_view text);

// CRC-32C (Castagnoli) of bytes, for integrity checks in files. `seed` continues a previous
// result: crc32c(b, crc32c(a)) == crc32c(a + b).
std::uint32_t crc32c(std::string_view bytes, std::uint32_t seed = 0) noexcept;

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or values past
// U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

// A message made valid UTF-8 (each maximal bad sequence replaced by U+FFFD), for error texts
// in files.
std::string sanitize_utf8(std::string_view text);

// Standard base64 with padding, and back (errc::corrupt_data on bad input, including
// non-zero padding bits, so each byte string has exactly one spelling).
std::string base64_encode(std::string_view bytes);
std::string base64_decode(std::string_view text);

}  // namespace laredo::json
