#pragma once

#include "laredo/change_event.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace laredo::examples {

// Where a reader of changes.log is: the byte offset after the last line read, and the number
// of that line (to name a bad line).
struct log_cursor {
    std::uint64_t offset = 0;
    std::uint64_t line = 0;
};

// A cursor at byte `offset` of `log`, counting the lines before it.
log_cursor log_cursor_at(const std::filesystem::path& log, std::uint64_t offset);

// Reads up to `max` complete lines after `cursor` and moves it past them. Returns the changes
// of the tables in `schemas`, each positioned at the byte offset just after its line. A last
// line without its newline is still being written: it is left for the next call. A missing log
// reads as empty; one shorter than cursor.offset throws errc::rebaseline_required. A malformed
// line throws (see parse_change_line) once the changes before it have been returned.
std::vector<change_event> read_change_log(const std::filesystem::path& log, log_cursor& cursor,
                                          const std::map<table_identifier, schema_ptr>& schemas,
                                          std::size_t max = 256);

// Reads one line of changes.log: `ACTION,schema.table,column=value,...` in RFC 4180 fields (a
// value with a comma or a quote is quoted as a whole field: `"note=a, ""b"""`),
// ACTION one of INSERT, UPDATE, DELETE, TRUNCATE. INSERT leaves unnamed columns null, UPDATE
// leaves them unchanged (value::unchanged()); INSERT, UPDATE and DELETE need the key column
// (the first); TRUNCATE takes no columns. Returns nullopt for a table not in `schemas`. The
// event's position is left empty. Throws errc::corrupt_data "changes.log line N: problem".
std::optional<change_event> parse_change_line(
    std::string_view text, std::uint64_t line,
    const std::map<table_identifier, schema_ptr>& schemas);

}  // namespace laredo::examples
