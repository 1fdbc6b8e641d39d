#pragma once

#include "laredo/observer.hpp"
#include "laredo/server/logging/logger.hpp"

#include <functional>
#include <string>

namespace laredo::server::logging {

// Every engine observer event as a log line at a level that fits: connections, state changes,
// baselines and snapshots at info; failures, re-baselines, dropped or dead-lettered changes
// and validation mismatches at warn or error; progress at debug; each change at trace
// (checked before anything is formatted, so the per-change path costs a comparison).
class log_observer final : public engine_observer {
  public:
    // `position_text(pipeline_id, pos)`: the position in its source's string form.
    log_observer(logger& log,
                 std::function<std::string(const std::string&, const position&)> position_text);

    void on_source_connected(const std::string& source_id, const std::string& type) override;
    void on_source_disconnected(const std::string& source_id, const std::string& reason) override;
    void on_rebaseline_triggered(const std::string& source_id, const std::string& reason) override;
    void on_ack_advanced(const std::string& source_id, const position& pos) override;
    void on_lag_updated(const std::string& source_id, const lag_info& lag) override;
    void on_schema_change(const std::string& pipeline_id, const table_identifier& table,
                          const std::string& description) override;
    void on_pipeline_state_changed(const std::string& pipeline_id, pipeline_state old_state,
                                   pipeline_state new_state) override;
    void on_baseline_started(const std::string& pipeline_id,
                             const table_identifier& table) override;
    void on_baseline_estimate(const std::string& pipeline_id, const table_identifier& table,
                              std::uint64_t estimated_rows) override;
    void on_baseline_row_loaded(const std::string& pipeline_id, const table_identifier& table,
                                std::uint64_t rows_so_far) override;
    void on_baseline_completed(const std::string& pipeline_id, const table_identifier& table,
                               std::uint64_t rows, duration elapsed) override;
    void on_change_received(const std::string& pipeline_id, const table_identifier& table,
                            change_action action, const position& pos) override;
    void on_change_applied(const std::string& pipeline_id, const table_identifier& table,
                           change_action action, duration elapsed) override;
    void on_change_error(const std::string& pipeline_id, const table_identifier& table,
                         change_action action, const std::string& message) override;
    void on_buffer_depth_changed(const std::string& pipeline_id, std::size_t depth,
                                 std::size_t capacity) override;
    void on_buffer_policy_triggered(const std::string& pipeline_id, buffer_policy policy) override;
    void on_dead_letter_written(const std::string& pipeline_id, const table_identifier& table,
                                change_action action) override;
    void on_row_expired(const std::string& pipeline_id, const table_identifier& table,
                        const std::string& key) override;
    void on_validation_result(const std::string& pipeline_id, const table_identifier& table,
                              std::uint64_t expected, std::uint64_t actual, bool match) override;
    void on_snapshot_started(const std::string& snapshot_id) override;
    void on_snapshot_completed(const std::string& snapshot_id, std::size_t tables,
                               std::uint64_t rows, std::uint64_t size_bytes,
                               duration elapsed) override;
    void on_snapshot_failed(const std::string& snapshot_id, const std::string& message) override;
    void on_snapshot_restore_started(const std::string& snapshot_id) override;
    void on_snapshot_restore_completed(const std::string& snapshot_id, std::uint64_t rows,
                                       duration elapsed) override;
    void on_fanout_client_connected(const std::string& pipeline_id,
                                    const std::string& client_id) override;
    void on_fanout_client_disconnected(const std::string& pipeline_id, const std::string& client_id,
                                       const std::string& reason) override;
    void on_fanout_client_caught_up(const std::string& pipeline_id,
                                    const std::string& client_id) override;
    void on_fanout_client_backpressure(const std::string& pipeline_id,
                                       const std::string& client_id) override;
    void on_fanout_snapshot_created(const std::string& pipeline_id, const std::string& snapshot_id,
                                    std::uint64_t rows) override;
    void on_fanout_journal_pruned(const std::string& pipeline_id, std::uint64_t entries) override;

  private:
    logger& log_;
    std::function<std::string(const std::string&, const position&)> position_text_;
};

}  // namespace laredo::server::logging
