#pragma once

#include "laredo/snapshot/serializer.hpp"

#include <string_view>

namespace laredo::snapshots {

// One table as JSON Lines:
//   line 1     a header object: {"format": "laredo.snapshot.jsonl", "version": 1,
//              "pipeline_id", "source_id", "table": {"schema", "table"}, "target_type",
//              "position", "columns": [...], "schema_fingerprint": "<hex>", "indexes": [...]}
//   lines 2..  one row object per line, {"column": value, ...} (laredo::json's value form,
//              `unchanged` markers kept)
//   last line  a trailer: {"trailer": "laredo.snapshot.jsonl", "rows": <count>,
//              "crc32c": "<hex>"}, the checksum over every byte before the trailer line.
// Every line ends with '\n'. Rows stream out one at a time and are read one line at a time,
// so neither side holds the file in memory (the read result holds the rows, of course).
//
// Reading refuses an unknown format or version, a header whose fingerprint differs from the
// fingerprint of its columns (errc::schema_mismatch), a line that is not a row of those
// columns, a missing trailer (a truncated file), a checksum or row count that does not match
// (errc::corrupt_data). The loaded table's info.row_count is the number of rows read.
class jsonl_serializer final : public serializer {
  public:
    static constexpr std::string_view format_name = "laredo.snapshot.jsonl";
    static constexpr int format_version = 1;

    std::string format() const override { return "jsonl"; }
    std::string file_extension() const override { return ".jsonl"; }

    void write(const snapshot_table& table, byte_sink& out) const override;
    snapshot_table read(byte_source& in, std::string_view name) const override;
};

}  // namespace laredo::snapshots
