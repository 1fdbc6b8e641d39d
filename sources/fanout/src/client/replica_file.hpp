#pragma once

// The replica's local snapshot file: what a client saves on stop and loads on start, so a
// restart resumes by position instead of taking a full snapshot.
//
//   line 1     {"format":"laredo.replica","version":1,"table":"s.t","columns":[...],
//               "journal_id":"...","sequence":N,"position":"<wire form>","snapshot_id":"...",
//               "rows":N}
//   lines 2..  one row per line ({"column": value}, laredo's JSON form of values)
//   last line  {"trailer":"laredo.replica","rows":N,"crc32c":"<hex>"} over every byte before it
//
// Written to "<path>.tmp", flushed to disk and renamed, so a crash never leaves half a file.

#include "laredo/column_definition.hpp"
#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::replica::detail {

struct replica_file {
    table_identifier table;
    std::vector<column_definition> columns;
    std::string journal_id;
    std::uint64_t sequence = 0;
    position pos;
    std::string snapshot_id;
    std::vector<row> rows;
};

// Throws laredo::error (errc::corrupt_data naming the file and the problem, or an I/O
// failure as errc::transient).
void save_replica_file(const std::filesystem::path& path, const replica_file& f);
// nullopt when there is no file.
std::optional<replica_file> load_replica_file(const std::filesystem::path& path);

// Writes `text` to "<path>.tmp", flushes it to disk and renames it over `path`, so a crash
// leaves the old file or the new one, never half of one. Failures are errc::transient, named
// with `what` ("replica file") and the path.
void write_durably(const std::filesystem::path& path, std::string_view text, std::string_view what);

}  // namespace laredo::replica::detail
