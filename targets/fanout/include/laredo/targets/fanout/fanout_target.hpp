#pragma once

#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/sync_target.hpp"
#include "laredo/targets/fanout/options.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace laredo::targets::fanout {

namespace detail {
class fanout_state;
class session;
}  // namespace detail

using time_point = std::chrono::system_clock::time_point;

enum class client_state : std::uint8_t {
    handshaking,  // connected, the sync request not answered yet
    snapshot,     // receiving a full snapshot
    catching_up,  // receiving journal entries it missed
    live,         // caught up: receiving changes as they are applied
    draining,     // told to go away (GoAway sent), served until the deadline
};
std::string_view to_string(client_state s) noexcept;

// One connected client, as status reports it.
struct client_status {
    std::uint64_t session = 0;  // unique per connection (client ids may repeat)
    std::string client_id;
    std::string remote;  // "address:port"
    client_state state = client_state::handshaking;
    std::string mode;            // FULL_SNAPSHOT, DELTA, DELTA_FROM_SNAPSHOT (empty before)
    std::uint64_t sequence = 0;  // the last journal entry accounted for in what it was sent
    std::uint64_t behind = 0;    // journal entries after that one
    std::size_t queue_bytes = 0;
    std::size_t filters = 0;
    time_point connected_at{};
};

struct journal_status {
    std::string id;  // the epoch: changes whenever the table is replaced as a whole
    std::uint64_t head_sequence = 0;
    std::uint64_t oldest_sequence = 0;  // 0 when empty
    std::size_t entries = 0;
    std::size_t bytes = 0;
    std::size_t pins = 0;
    std::uint64_t pruned_total = 0;
    position base_position;  // the table as of the entry before the oldest
    position head_position;  // the newest position reached
};

struct snapshot_info {
    std::string id;
    std::uint64_t sequence = 0;
    position pos;
    std::size_t row_count = 0;
    std::size_t bytes = 0;
    time_point created_at{};
};

struct drain_info {
    bool draining = false;
    std::string reason;
    time_point deadline{};
    std::vector<std::string> reconnect_to;
};

// The replication fan-out target: keeps ONE table (keyed by its primary key, or the
// configured key columns) and a journal of every change applied to it, and serves live
// replicas of it to clients over WebSocket (laredo/targets/fanout/websocket.hpp, or
// replication_listener): a client gets a snapshot or the journal entries after its last
// position, then every change as it is applied.
//
// Writes come from the engine on the pipeline's strand. Rows are stored packed (the memory
// targets' row store); a transaction of up to 10 000 changes is applied under one lock, so
// snapshots never see part of one. Baselines, rebuilds and restores replace the table as a
// whole and start a new journal epoch: clients following it take the new rows as a snapshot.
//
// Snapshots are in memory only: taken on demand, on a schedule (snapshot_options::interval,
// on the executor given) and for full syncs, retained by count and age.
//
// Everything below that is not a sync_target operation is safe from any thread.
class fanout_target final : public sync_target {
  public:
    // Throws errc::invalid_config for options that cannot work (zero batch or queue sizes).
    explicit fanout_target(boost::asio::any_io_executor executor,
                           fanout_target_options options = {});
    ~fanout_target() override;
    fanout_target(const fanout_target&) = delete;
    fanout_target& operator=(const fanout_target&) = delete;

    // --- sync_target ---
    std::string type_name() const override { return "fanout"; }
    boost::asio::awaitable<void> on_init(const table_identifier& table, schema_ptr schema) override;
    boost::asio::awaitable<void> on_baseline_rows(const table_identifier& table,
                                                  std::span<const row> rows) override;
    boost::asio::awaitable<void> on_baseline_complete(const table_identifier& table,
                                                      const position& pos) override;
    boost::asio::awaitable<void> on_changes(const table_identifier& table,
                                            std::span<const change_event> changes) override;
    boost::asio::awaitable<void> on_insert(const table_identifier& table,
                                           const change_event& change) override;
    boost::asio::awaitable<void> on_update(const table_identifier& table,
                                           const change_event& change) override;
    boost::asio::awaitable<void> on_delete(const table_identifier& table,
                                           const change_event& change) override;
    boost::asio::awaitable<void> on_truncate(const table_identifier& table,
                                             const change_event& change) override;
    bool is_durable() const override;
    std::optional<position> confirmed_position() const override;
    std::optional<position> persisted_position() const override;
    void on_position_reached(const table_identifier& table, const position& pos) override;
    // Takes the new columns (stored rows keep the columns they share, added ones read null)
    // and sends every client the new columns and a snapshot. Columns added without a
    // default: continue; anything else: re-baseline.
    boost::asio::awaitable<schema_change_response> on_schema_change(
        const table_identifier& table, const row_schema& old_schema,
        const row_schema& new_schema) override;
    boost::asio::awaitable<void> begin_rebuild(const table_identifier& table) override;
    boost::asio::awaitable<void> commit_rebuild(const table_identifier& table) override;
    bool keeps_rows() const override { return true; }
    std::optional<row> find(const row& identity) const override;
    std::optional<std::uint64_t> row_count(const table_identifier&) const override {
        return count();
    }
    void for_each_row(const table_identifier& table,
                      const std::function<void(const row&)>& fn) const override;
    boost::asio::awaitable<std::vector<row>> export_snapshot(
        const table_identifier& table) override;
    boost::asio::awaitable<void> restore_snapshot(const table_snapshot_info& info,
                                                  std::vector<row> rows,
                                                  const position& pos) override;
    bool supports_consistent_snapshot() const override { return true; }
    // Stops the snapshot scheduler and ends every client's stream ("table closed").
    boost::asio::awaitable<void> on_close(const table_identifier& table) override;

    // --- reads ---
    // True once the table holds a complete copy (after the first baseline or restore).
    bool ready() const noexcept;
    std::size_t count() const;
    std::optional<row> get(const std::vector<value>& key) const;
    std::vector<row> rows() const;  // in key order
    schema_ptr schema() const;      // nullptr before on_init
    table_identifier table() const;

    journal_status journal() const;
    // Prunes the journal by age now (appends and scheduled snapshots also do).
    std::size_t prune_journal();

    // Takes a snapshot now and keeps it (retention applies). Throws errc::unsupported before
    // the table is ready.
    snapshot_info take_snapshot();
    std::vector<snapshot_info> snapshots() const;  // newest first

    // Drain: every client is sent a GoAway(reason, deadline, reconnect_to) and its stream
    // ends at the deadline; new clients are refused (error "draining") until undrain().
    // Draining again keeps the sooner deadline.
    void drain(std::string reason, std::chrono::milliseconds within,
               std::vector<std::string> reconnect_to = {});
    void undrain();
    drain_info draining() const;

    std::vector<client_status> clients() const;

  private:
    friend class detail::session;
    friend std::shared_ptr<detail::fanout_state> state_of(const fanout_target& t);

    struct scheduler;
    std::shared_ptr<detail::fanout_state> state_;
    std::shared_ptr<scheduler> scheduler_;
};

}  // namespace laredo::targets::fanout
