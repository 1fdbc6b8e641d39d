#pragma once

// The target the kit's engine cases use: records the key of every baseline row and every
// change it is handed, so a case can tell a lost change from a duplicate (a final state
// could not), and optionally keeps its position across engines (an embedder handing the same
// target to a new engine), which is what lets the engine resume.

#include "changes.hpp"

#include "laredo/sync_target.hpp"

#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

namespace laredo::testing::detail {

class recording_target final : public sync_target {
  public:
    explicit recording_target(bool persistent) : persistent_(persistent) {}

    std::string type_name() const override { return "conformance"; }
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
    boost::asio::awaitable<void> begin_rebuild(const table_identifier& table) override;
    boost::asio::awaitable<void> commit_rebuild(const table_identifier& table) override;

    // Everything handed over is recorded: durable at once.
    bool is_durable() const override { return true; }
    std::optional<position> persisted_position() const override;
    // A heartbeat: the table has nothing more up to `pos`; the persisted position follows.
    void on_position_reached(const table_identifier& table, const position& pos) override;

    // ---- reads, any thread ----
    std::vector<change_key> changes() const;
    std::size_t change_count() const;
    std::vector<std::vector<value>> baseline_keys() const;
    std::size_t baselines_completed() const;
    std::size_t rebuilds() const;
    std::optional<position> applied() const;

  private:
    void record(const change_event& c);

    const bool persistent_;
    mutable std::mutex mutex_;
    std::vector<change_key> changes_;
    std::vector<std::vector<value>> baseline_keys_;
    std::size_t baselines_ = 0;
    std::size_t rebuilds_ = 0;
    std::optional<position> applied_;
};

}  // namespace laredo::testing::detail
