#pragma once

#include "laredo/change_event.hpp"
#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/sources/testsource/positions.hpp"
#include "laredo/sync_source.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace laredo::sources::testsource {

// The tables, the history of changes and the persisted ACK behind a test_source (declared
// opaque in test_source.hpp). Shared by the test threads that inject and the source's strand,
// hence the mutex: every member function takes it for a few map or deque operations and
// never calls out while holding it.
//
// History entries are numbered 1, 2, 3... over the database's life; entries 1..discarded_
// are forgotten (acked, or lost), the rest are in history_. A stream keeps the number of the
// last entry it delivered.
class test_database {
  public:
    explicit test_database(position_mode mode) : mode_(mode) {}

    position_mode mode() const noexcept { return mode_; }
    void set_max_history(std::size_t n);

    schema_ptr set_schema(const table_identifier& table, std::vector<column_definition> columns,
                          bool must_exist);
    schema_ptr schema_of(const table_identifier& table) const;
    void add_row(const table_identifier& table, row r);

    // Validates every change, then applies them to the tables and appends them as one
    // transaction. Returns the position of the last one.
    position commit(std::vector<change_event> changes);
    // Appends without touching the tables (benchmarks).
    position emit(std::vector<change_event> events);

    struct snapshot {
        position at;
        std::vector<std::pair<table_identifier, std::vector<row>>> tables;
    };
    // errc::unknown_table naming every missing table.
    snapshot take_snapshot(const std::vector<table_identifier>& tables) const;
    table_schemas schemas(const std::vector<table_identifier>& tables) const;
    std::vector<table_identifier> missing(const std::vector<table_identifier>& tables) const;

    position head() const;
    // Entries appended so far (the number of the newest); safe without the lock.
    std::uint64_t appended() const noexcept { return appended_.load(std::memory_order_acquire); }

    // The number of entries at or before `pos`. errc::rebaseline_required when entries after
    // `pos` were forgotten, errc::invalid_position when `pos` is beyond the head or of the
    // other mode.
    std::uint64_t entry_number_at(const position& pos) const;
    // Up to `max` entries after entry number `after`. errc::rebaseline_required when some of
    // them were forgotten.
    std::vector<change_event> read(std::uint64_t after, std::size_t max) const;
    bool can_stream_from(const position& pos) const;

    // Persists `pos` (when `persist`) and forgets the history up to `forget_through`.
    void ack(const position& pos, bool persist, const position& forget_through);
    std::optional<position> acked() const;
    // Forgets the history up to `through` (empty: all of it).
    void discard(const position& through);

  private:
    struct table_state {
        schema_ptr schema;
        std::map<std::vector<value>, row> rows;  // by key: the snapshot comes out in key order
    };

    position head_locked() const;
    table_state& table_locked(const table_identifier& table);
    const table_state& table_locked(const table_identifier& table) const;
    void validate_locked(const change_event& change) const;
    void apply_locked(const change_event& change);
    void append_locked(std::vector<change_event>& events);
    void forget_locked(const position& through);
    int compare(const position& a, const position& b) const {
        return compare_positions(mode_, a, b);
    }

    const position_mode mode_;
    mutable std::mutex mutex_;
    std::map<table_identifier, table_state> tables_;
    std::deque<change_event> history_;
    std::uint64_t discarded_ = 0;  // entries forgotten
    position discarded_through_;   // position of the last forgotten entry
    std::atomic<std::uint64_t> appended_{0};
    std::uint64_t last_sequence_ = 0;
    std::uint64_t last_commit_ = 0;
    std::size_t max_history_ = 0;
    std::optional<position> acked_;
};

}  // namespace laredo::sources::testsource
