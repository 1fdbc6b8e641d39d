#pragma once

// What the fan-out target and its client sessions share: the table (the memory targets'
// table_core over a row_store: packed rows found by key, transactions applied whole under
// one write lock, shadow rebuilds), the journal of what was applied, the in-memory
// snapshots, readiness and the drain. The target's writes arrive on the pipeline's strand;
// sessions read from their own strands.
//
// Consistency between rows and journal: sequences are assigned under the table's write
// lock, so a reader that copies the rows under the read lock knows exactly which entry they
// are as of (sequence()); entries are published to the journal right after the lock is
// released. Replacing the table as a whole (baseline end, rebuild, restore, schema change)
// starts a new journal epoch under `epoch_mutex_`, which snapshot takers hold shared.

#include "clients.hpp"
#include "journal.hpp"
#include "row_store.hpp"
#include "table_core.hpp"

#include "laredo/change_event.hpp"
#include "laredo/targets/fanout/options.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace laredo::targets::fanout::detail {

// The table's rows at one entry of the journal, packed back to back.
struct table_snapshot {
    std::string id;          // "fanout-<sequence>-<unix ms>"
    std::string journal_id;  // the epoch the sequence belongs to
    std::uint64_t sequence = 0;
    position pos;
    time_point created_at{};
    schema_ptr schema;
    std::vector<std::byte> bytes;
    std::vector<std::size_t> offsets;

    std::size_t size() const noexcept { return offsets.size(); }
    packed_view row_at(std::size_t i) const noexcept {
        return packed_view(bytes.data() + offsets[i]);
    }
    std::size_t byte_size() const noexcept {
        return bytes.size() + offsets.size() * sizeof(std::size_t);
    }
};

using snapshot_ptr = std::shared_ptr<const table_snapshot>;

struct drain_state {
    bool draining = false;
    std::string reason;
    time_point deadline{};
    std::vector<std::string> reconnect_to;
    std::uint64_t generation = 0;  // bumped by every drain and undrain
};

class fanout_state final : public memory::detail::table_writer {
  public:
    explicit fanout_state(fanout_target_options options);

    const fanout_target_options& options() const noexcept { return options_; }
    journal& log() noexcept { return journal_; }
    const journal& log() const noexcept { return journal_; }

    // --- writes: the pipeline's strand ---
    void init(const table_identifier& table, schema_ptr schema);
    void baseline_rows(const table_identifier& table, std::span<const row> rows);
    void baseline_complete(const table_identifier& table, const position& pos);
    void changes(const table_identifier& table, std::span<const change_event> changes);
    void begin_rebuild(const table_identifier& table);
    void commit_rebuild(const table_identifier& table);
    void restore(const table_snapshot_info& info, std::vector<row> rows, const position& pos);
    void position_reached(const table_identifier& table, const position& pos);
    // Adopts new columns (stored rows keep the columns they share with it, added ones read
    // null) and starts a new epoch, so clients get the new columns and a snapshot.
    void change_schema(const table_identifier& table, const row_schema& new_schema);
    void close();

    bool is_durable() const noexcept { return core_.is_durable(); }
    std::optional<position> confirmed_position() const { return core_.confirmed_position(); }
    std::optional<position> persisted_position() const { return core_.persisted_position(); }

    // --- reads: any thread ---

    bool ready() const noexcept { return ready_.load(); }
    // The pipeline closed the target: sessions end their streams.
    bool closed() const noexcept { return closed_.load(); }
    table_identifier table() const;
    schema_ptr schema() const;
    std::size_t row_count() const;
    std::optional<row> get(const std::vector<value>& key) const;
    std::vector<row> rows() const;  // in key order
    // The sequence of the newest applied entry (the rows are as of it).
    std::uint64_t sequence() const;

    // Copies the rows now, with the entry and position they are as of; retained among the
    // snapshots when `keep`. Throws errc::unsupported (not_ready) before the first baseline.
    snapshot_ptr take_snapshot(bool keep);
    // Newest first.
    std::vector<snapshot_ptr> snapshots() const;
    snapshot_ptr find_snapshot(const std::string& id) const;
    // Drops snapshots beyond the retention limits, and those of an older epoch.
    void prune_snapshots();

    // The drain: every session sends a GoAway and ends its stream by the deadline; new
    // connections are refused until undrain().
    void drain(std::string reason, time_point deadline, std::vector<std::string> reconnect_to);
    void undrain();
    drain_state draining() const;

    client_registry& clients() noexcept { return clients_; }
    const client_registry& clients() const noexcept { return clients_; }

    // The observer, when there is one.
    engine_observer* observer() const noexcept { return options_.observer.get(); }

    // --- table_writer (table_core calls these on the strand) ---
    void apply(memory::detail::table_store& store, const change_event& change,
               bool record) override;
    void put(memory::detail::table_store& store, const row& r, bool record) override;
    void record_truncate() override;
    void record_difference(const memory::detail::table_store& before,
                           const memory::detail::table_store& after) override;
    bool has_listeners() const noexcept override { return true; }
    void announce() override;

  private:
    struct truncate_info {
        position pos;
        std::optional<time_point> commit_time;
        bool end_of_transaction = true;
    };

    static const memory::detail::row_store* rows_of(const memory::detail::table_store* s) noexcept {
        return static_cast<const memory::detail::row_store*>(s);
    }
    memory::detail::store_ptr make_store(const table_identifier& table,
                                         const row_schema& schema) const;
    bool rebuilding() const noexcept { return core_.writing() != core_.live(); }
    void add_entry(change_action action, const change_event* c, packed_view old_row,
                   packed_view new_row);
    // Starts a new journal epoch as of the current rows; under epoch_mutex_ (exclusive).
    void new_epoch_locked();

    const fanout_target_options options_;
    const position_compare compare_;
    memory::detail::table_core core_;
    journal journal_;

    // Taken exclusively when the table is replaced as a whole and the journal starts over;
    // shared by snapshot takers, so rows, sequence and epoch are read together.
    mutable std::shared_mutex epoch_mutex_;
    std::atomic<bool> ready_{false};
    std::atomic<bool> closed_{false};

    // Strand only (written under the table's write lock where readers need it).
    std::vector<entry_ptr> pending_;       // applied, not yet published
    std::deque<truncate_info> truncates_;  // of the changes being applied, in order
    bool swapped_ = false;                 // a rebuild swapped the rows in
    mutable std::mutex position_mutex_;
    std::uint64_t sequence_ = 0;  // the newest entry's
    position table_position_;     // what the rows are as of

    mutable std::mutex snapshots_mutex_;
    std::deque<snapshot_ptr> snapshots_;  // newest first

    mutable std::mutex drain_mutex_;
    drain_state drain_;

    client_registry clients_;
};

}  // namespace laredo::targets::fanout::detail

namespace laredo::targets::fanout {
class fanout_target;
// The shared state behind a target (its sessions and tests use it).
std::shared_ptr<detail::fanout_state> state_of(const fanout_target& t);
}  // namespace laredo::targets::fanout
