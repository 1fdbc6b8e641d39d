#pragma once

// The line protocol of the line source, as plain functions over strings (no I/O), so the
// source reads as the engine contract and the parsing can be tested on its own.
//
// Every message is one line ending in "\n" (a "\r" before it is ignored); words are separated
// by single spaces. A column travels as `name=value` with the value percent-encoded ("%20" is
// a space, "%25" a percent sign, "%3D" an equals sign, "%0A" a line break), or as a bare
// `name` for null. The conversation is described in line_source.hpp.

#include "laredo/change_event.hpp"
#include "laredo/column_definition.hpp"
#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace laredo::examples::line_protocol {

// What the parsing functions throw: what() says what is wrong with the line. The source turns
// it into errc::corrupt_data naming where the line came from.
struct malformed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One column of a ROW or change line: its name and its value (nullopt = null).
using field = std::pair<std::string, std::optional<std::string>>;

// A line from the upstream, parsed.
struct message {
    enum class kind { columns, row, end, history, begin, change, commit, error };
    kind what = kind::error;
    table_identifier table;                        // columns, row, change
    std::vector<column_definition> columns;        // columns
    std::vector<field> fields;                     // row, change
    change_action action = change_action::insert;  // change
    std::uint64_t number = 0;                      // end, change: a change number; history: newest
    std::optional<std::uint64_t> acked;            // history: the last ACK the upstream kept
    std::string error_code;                        // error: UNKNOWN_TABLE, HISTORY_GONE, ...
    std::string error_text;                        // error
};

// Parses one line (without its "\n"). Throws malformed.
message parse(std::string_view line);

// The row a ROW or change line describes in `schema`: columns the line leaves out hold
// `missing` (null for a whole row, value::unchanged() for an UPDATE). Throws malformed
// naming an unknown column or a missing key column.
row to_row(const schema_ptr& schema, const std::vector<field>& fields, const value& missing);

// Percent-encoding of a value, and a field as the upstream writes it.
std::string encode(std::string_view raw);
std::string decode(std::string_view text);  // throws malformed on a bad escape
std::string format_field(const field& f);

}  // namespace laredo::examples::line_protocol
