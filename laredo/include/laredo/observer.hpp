#pragma once

#include "laredo/position.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/types.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace laredo {

// Callbacks for everything the engine does: every callback of the Go EngineObserver. They are
// called synchronously from the engine's strands (several at once, from several threads when
// the io_context runs on several): an observer must be thread-safe and must not block.
// Every callback has an empty default, so an observer overrides only what it needs.
class engine_observer {
  public:
    using duration = std::chrono::steady_clock::duration;
    virtual ~engine_observer() = default;

    // Sources.
    virtual void on_source_connected(const std::string& /*source_id*/,
                                     const std::string& /*source_type*/) {}
    // reason: "init failed: ...", "baseline failed: ...", "stream error: ...", "close error: ..."
    virtual void on_source_disconnected(const std::string& /*source_id*/,
                                        const std::string& /*reason*/) {}
    virtual void on_rebaseline_triggered(const std::string& /*source_id*/,
                                         const std::string& /*reason*/) {}
    virtual void on_ack_advanced(const std::string& /*source_id*/, const position& /*pos*/) {}
    virtual void on_lag_updated(const std::string& /*source_id*/, const lag_info& /*lag*/) {}
    virtual void on_schema_change(const std::string& /*pipeline_id*/,
                                  const table_identifier& /*table*/,
                                  const std::string& /*description*/) {}

    // Pipelines.
    virtual void on_pipeline_state_changed(const std::string& /*pipeline_id*/,
                                           pipeline_state /*old_state*/,
                                           pipeline_state /*new_state*/) {}
    virtual void on_baseline_started(const std::string& /*pipeline_id*/,
                                     const table_identifier& /*table*/) {}
    // The source's estimate of the rows the baseline of `table` will deliver (for progress
    // bars: rows_so_far of on_baseline_row_loaded against it). Not every source has one.
    virtual void on_baseline_estimate(const std::string& /*pipeline_id*/,
                                      const table_identifier& /*table*/,
                                      std::uint64_t /*estimated_rows*/) {}
    virtual void on_baseline_row_loaded(const std::string& /*pipeline_id*/,
                                        const table_identifier& /*table*/,
                                        std::uint64_t /*rows_so_far*/) {}
    // rows: rows the source delivered for the table (before filters).
    virtual void on_baseline_completed(const std::string& /*pipeline_id*/,
                                       const table_identifier& /*table*/, std::uint64_t /*rows*/,
                                       duration /*elapsed*/) {}
    virtual void on_change_received(const std::string& /*pipeline_id*/,
                                    const table_identifier& /*table*/, change_action /*action*/,
                                    const position& /*pos*/) {}
    virtual void on_change_applied(const std::string& /*pipeline_id*/,
                                   const table_identifier& /*table*/, change_action /*action*/,
                                   duration /*elapsed*/) {}
    virtual void on_change_error(const std::string& /*pipeline_id*/,
                                 const table_identifier& /*table*/, change_action /*action*/,
                                 const std::string& /*message*/) {}
    virtual void on_buffer_depth_changed(const std::string& /*pipeline_id*/, std::size_t /*depth*/,
                                         std::size_t /*capacity*/) {}
    virtual void on_buffer_policy_triggered(const std::string& /*pipeline_id*/,
                                            buffer_policy /*policy*/) {}
    virtual void on_dead_letter_written(const std::string& /*pipeline_id*/,
                                        const table_identifier& /*table*/,
                                        change_action /*action*/) {}
    virtual void on_row_expired(const std::string& /*pipeline_id*/,
                                const table_identifier& /*table*/, const std::string& /*key*/) {}
    virtual void on_validation_result(const std::string& /*pipeline_id*/,
                                      const table_identifier& /*table*/, std::uint64_t /*expected*/,
                                      std::uint64_t /*actual*/, bool /*match*/) {}

    // Snapshots.
    virtual void on_snapshot_started(const std::string& /*snapshot_id*/) {}
    virtual void on_snapshot_completed(const std::string& /*snapshot_id*/, std::size_t /*tables*/,
                                       std::uint64_t /*rows*/, std::uint64_t /*size_bytes*/,
                                       duration /*elapsed*/) {}
    virtual void on_snapshot_failed(const std::string& /*snapshot_id*/,
                                    const std::string& /*message*/) {}
    virtual void on_snapshot_restore_started(const std::string& /*snapshot_id*/) {}
    virtual void on_snapshot_restore_completed(const std::string& /*snapshot_id*/,
                                               std::uint64_t /*rows*/, duration /*elapsed*/) {}

    // Replication fan-out.
    virtual void on_fanout_client_connected(const std::string& /*pipeline_id*/,
                                            const std::string& /*client_id*/) {}
    virtual void on_fanout_client_disconnected(const std::string& /*pipeline_id*/,
                                               const std::string& /*client_id*/,
                                               const std::string& /*reason*/) {}
    virtual void on_fanout_client_caught_up(const std::string& /*pipeline_id*/,
                                            const std::string& /*client_id*/) {}
    virtual void on_fanout_client_backpressure(const std::string& /*pipeline_id*/,
                                               const std::string& /*client_id*/) {}
    virtual void on_fanout_snapshot_created(const std::string& /*pipeline_id*/,
                                            const std::string& /*snapshot_id*/,
                                            std::uint64_t /*rows*/) {}
    virtual void on_fanout_journal_pruned(const std::string& /*pipeline_id*/,
                                          std::uint64_t /*entries*/) {}
};

// Fans every callback out to several observers, in order, skipping null ones.
std::shared_ptr<engine_observer> make_composite_observer(
    std::vector<std::shared_ptr<engine_observer>> observers);

}  // namespace laredo
