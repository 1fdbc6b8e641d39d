#pragma once

// One converter from PostgreSQL's text format to laredo::value, keyed by type OID, for both
// the baseline (COPY text) and the stream (pgoutput 't' columns), so the same value read
// either way compares equal (docs/postgres-source.md, "The stream"). It expects the session
// settings both connections set: DateStyle=ISO, IntervalStyle=postgres, extra_float_digits=3,
// bytea_output=hex, client_encoding=UTF8, TimeZone=UTC. Time stamps with time zone are converted
// correctly whatever offset they carry (LMT offsets with seconds, BC dates included), so a session
// in another zone still gives the same instants.
//
// clang-format off
// Type table: for each OID, the `value` alternative and the JSON form (docs/design.md "JSON").
// It also decides how snapshots and HTTP payloads write `unchanged` and the infinities.
//
// | OID                      | type                    | value alternative                  | JSON form                                   |
// |--------------------------|-------------------------|------------------------------------|---------------------------------------------|
// | 16                       | bool                    | bool                               | true / false                                |
// | 21, 23, 20               | int2, int4, int8        | std::int64_t                       | number; a string beyond ±2^53               |
// | 26, 28, 29               | oid, xid, cid           | std::int64_t                       | number                                      |
// | 700, 701                 | float4, float8          | double (NaN, ±Infinity kept)       | number; "NaN", "Infinity", "-Infinity"      |
// | 1700                     | numeric                 | numeric_value (exact text)         | string "12.500", "NaN", "Infinity"          |
// | 25, 1043, 1042, 19, 18   | text, varchar, bpchar,  | std::string (bpchar keeps its      | string                                      |
// |                          | name, "char"            | padding)                           |                                             |
// | 17                       | bytea                   | bytes_value (raw bytes)            | string, base64                              |
// | 1082                     | date                    | date_value: days since 1970-01-01; | "2024-01-02"; "infinity", "-infinity";      |
// |                          |                         | INT32_MIN/MAX for -/+infinity      | years outside 1..9999 in ISO 8601 expanded  |
// |                          |                         |                                    | form, BC astronomical: "-0043-03-15"        |
// | 1083                     | time                    | time_value: µs since midnight      | "13:05:09.500000"                           |
// |                          |                         | (24:00:00 = 86 400 000 000)        |                                             |
// | 1266                     | timetz                  | std::string ("13:05:09+02")        | string                                      |
// | 1114                     | timestamp               | timestamp_value: µs since          | "2024-01-02T03:04:05.123456" (no offset);   |
// |                          |                         | 1970-01-01; INT64_MIN/MAX for      | "infinity", "-infinity"                     |
// |                          |                         | -/+infinity                        |                                             |
// | 1184                     | timestamptz             | timestamptz_value: µs since        | "2024-01-02T03:04:05.123456Z" (RFC 3339,    |
// |                          |                         | 1970-01-01 UTC; INT64_MIN/MAX for  | always 6 fraction digits); "infinity",      |
// |                          |                         | -/+infinity                        | "-infinity"                                 |
// | 1186                     | interval                | interval_value (text, as sent)     | string "1 year 2 mons 3 days 04:05:06"      |
// | 2950                     | uuid                    | std::string, canonical lower case  | string                                      |
// | 114, 3802                | json, jsonb             | json_value (text, as sent)         | the JSON itself, embedded (not a string)    |
// | 1000-series and every    | arrays (e.g. 1007       | array_value (text, as sent:        | string "{1,2,NULL}"                         |
// | type named "_..."        | int4[], 1009 text[])    | "{1,2,NULL}")                      |                                             |
// | domain                   | (Type message names its | its base type's alternative        | its base type's form                        |
// |                          | base type)              |                                    |                                             |
// | enum, composite, range,  | anything else           | std::string (text, as sent)        | string                                      |
// | inet, money, xml, ...    |                         |                                    |                                             |
// | (column 'n')             | NULL                    | null_value                         | null                                        |
// | (column 'u')             | unchanged TOAST value   | unchanged_value                    | never a JSON value: the column is left out  |
// |                          |                         |                                    | of the row object and its name listed in    |
// |                          |                         |                                    | the row's "unchanged" array                 |
//
// Values a `value` cannot hold are errors, never silently changed: timestamps after
// 294247-01-10 04:00:54.775806 UTC (PostgreSQL allows up to 294276 AD; the µs count since 1970
// would overflow), and text that is not what the server prints for the type. Conversion
// errors are laredo::error(errc::corrupt_data) naming the type and quoting the text.
// clang-format on

#include "laredo/value.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace laredo::sources::postgres {

struct type_message;

// How a type's text converts (one row of the table above).
enum class value_kind : std::uint8_t {
    text,
    boolean,
    int64,
    float64,
    numeric,
    bytes,
    date,
    time,
    timestamp,
    timestamptz,
    interval,
    uuid,
    json,
    array,
};

std::string_view to_string(value_kind kind) noexcept;

// Converts text of a type of `kind`. Throws laredo::error(errc::corrupt_data) naming the
// kind and quoting the text when it is not valid.
value convert_text(value_kind kind, std::string_view text);

// Built-in types (pg_catalog, OID below 10000).
struct builtin_type {
    std::uint32_t oid;
    std::string_view name;  // pg_type.typname: "int4", "_int4"
    value_kind kind;
};

// The built-in type with this OID, or nullptr.
const builtin_type* find_builtin_type(std::uint32_t oid) noexcept;
// The built-in type with this pg_catalog name, or nullptr.
const builtin_type* find_builtin_type(std::string_view name) noexcept;

// The OID-driven converter: built-in types, plus types learnt from pgoutput Type messages or
// registered by the source (e.g. from pg_type for the baseline). Unknown OIDs convert as text.
// Not thread-safe for writes; reads (kind_of, convert) may run concurrently once filled.
class value_converter {
  public:
    value_converter() = default;

    // How values of `type_oid` convert: the built-in kind, the registered kind, else text.
    value_kind kind_of(std::uint32_t type_oid) const noexcept;

    // The type's name ("int4", "mood"), or "" when unknown. For a domain known only from a
    // Type message this is its base type's name (all the message carries).
    std::string type_name(std::uint32_t type_oid) const;

    // convert_text(kind_of(type_oid), text); errors name the type.
    value convert(std::uint32_t type_oid, std::string_view text) const;

    // A type the source looked up itself (pg_type): a domain with its base type's kind, an
    // array type with value_kind::array, an enum as text. Wins over Type messages.
    void register_type(std::uint32_t type_oid, std::string name, value_kind kind);

    // What a pgoutput Type message says: a domain (named after a pg_catalog base type) takes
    // that type's kind, a name starting with '_' is an array, anything else (enum, composite,
    // range) is text. Ignored for a type registered with register_type.
    void apply(const type_message& message);

    std::size_t registered_count() const noexcept { return types_.size(); }

  private:
    struct entry {
        std::string name;
        value_kind kind = value_kind::text;
        bool explicit_ = false;
    };
    std::unordered_map<std::uint32_t, entry> types_;
};

}  // namespace laredo::sources::postgres
