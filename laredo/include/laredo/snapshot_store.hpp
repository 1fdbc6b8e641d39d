#pragma once

#include "laredo/row.hpp"
#include "laredo/sync_target.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace laredo {

// One pipeline's table in a snapshot: what its target exported, and the position (in the
// source's string form) that content is consistent with.
struct snapshot_table {
    std::string pipeline_id;
    std::string source_id;
    table_snapshot_info info;              // table, row_count, columns, target_type, indexes
    std::string position;                  // the pipeline's applied position ("" = none)
    std::uint64_t schema_fingerprint = 0;  // row_schema::fingerprint() of the rows' schema
    std::vector<row> rows;
};

// What a snapshot says about itself, without its rows.
struct snapshot_descriptor {
    std::string id;
    std::chrono::system_clock::time_point created_at{};
    std::map<std::string, std::string> labels;  // e.g. {"trigger": "scheduled"}
    // Per source: the lowest applied position of its pipelines in this snapshot (string
    // form). A source missing here cannot resume from this snapshot.
    std::map<std::string, std::string> source_positions;
    struct table_summary {
        std::string pipeline_id;
        std::string source_id;
        table_identifier table;
        std::string target_type;
        std::string position;
        std::uint64_t row_count = 0;
        std::uint64_t schema_fingerprint = 0;
        std::uint64_t size_bytes = 0;
    };
    std::vector<table_summary> tables;
    std::uint64_t row_count = 0;
    std::uint64_t size_bytes = 0;
    std::string format;  // "jsonl"
};

struct snapshot {
    snapshot_descriptor descriptor;  // on save: id, created_at, labels, source_positions
    std::vector<snapshot_table> tables;
};

// Where the engine keeps snapshots. Implementations are thread-safe; calls block on I/O (the
// engine runs them on engine_options::snapshot_executor).
//
// A save is atomic: a crash part-way never leaves something that lists or loads as a complete
// snapshot. A load verifies what it reads (format version, sizes, checksums, row counts,
// schema fingerprints) and throws laredo::error naming the file and the problem
// (errc::corrupt_data, errc::schema_mismatch) instead of returning wrong data.
class snapshot_store {
  public:
    virtual ~snapshot_store() = default;

    // Writes the snapshot and returns its descriptor (sizes filled in). Throws
    // errc::invalid_argument for an empty or unsafe id or one that already exists.
    virtual snapshot_descriptor save(const snapshot& s) = 0;

    // The whole snapshot. Throws errc::invalid_argument for an unknown id.
    virtual snapshot load(const std::string& id) const = 0;

    // Complete snapshots, newest first. Unreadable ones are left out.
    virtual std::vector<snapshot_descriptor> list() const = 0;

    // One snapshot's descriptor. Throws errc::invalid_argument for an unknown id.
    virtual snapshot_descriptor describe(const std::string& id) const = 0;

    // Throws errc::invalid_argument for an unknown id.
    virtual void remove(const std::string& id) = 0;

    // Keeps the `keep` newest snapshots, removes the rest; returns the ids removed.
    virtual std::vector<std::string> prune(std::size_t keep) = 0;
};

}  // namespace laredo
