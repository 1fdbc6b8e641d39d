#pragma once

#include "laredo/observer.hpp"
#include "laredo/server/metrics/exposition.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

namespace laredo::server::wiring {
struct runtime;
}

namespace laredo::server::metrics {

// Everything the scrape reads besides the engine.
struct server_gauges {
    bool ready = false;
    bool draining = false;
    std::size_t websocket_clients = 0;
    std::uint64_t websocket_queue_bytes = 0;
    std::size_t http_connections = 0;
};

// The metrics of laredo-server: an engine observer for what happens (counters, histograms:
// per-change callbacks cost a few relaxed atomic increments), plus gauges read from the
// engine, its sources and stores at each scrape. Names follow the Go original where it had
// them (laredo_ prefix, base units, counters ending in _total).
class collector final : public engine_observer {
  public:
    collector();
    ~collector() override;

    // The Prometheus text of every family. Thread-safe.
    std::string render(const wiring::runtime& rt, const server_gauges& gauges) const;

    void count_request(unsigned status) noexcept;
    void count_slow_client() noexcept { slow_clients_.fetch_add(1, std::memory_order_relaxed); }

    void on_source_connected(const std::string& source_id, const std::string& type) override;
    void on_source_disconnected(const std::string& source_id, const std::string& reason) override;
    void on_rebaseline_triggered(const std::string& source_id, const std::string& reason) override;
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
    void on_buffer_policy_triggered(const std::string& pipeline_id, buffer_policy policy) override;
    void on_dead_letter_written(const std::string& pipeline_id, const table_identifier& table,
                                change_action action) override;
    void on_row_expired(const std::string& pipeline_id, const table_identifier& table,
                        const std::string& key) override;
    void on_validation_result(const std::string& pipeline_id, const table_identifier& table,
                              std::uint64_t expected, std::uint64_t actual, bool match) override;
    void on_snapshot_completed(const std::string& snapshot_id, std::size_t tables,
                               std::uint64_t rows, std::uint64_t size_bytes,
                               duration elapsed) override;
    void on_snapshot_failed(const std::string& snapshot_id, const std::string& message) override;
    void on_snapshot_restore_completed(const std::string& snapshot_id, std::uint64_t rows,
                                       duration elapsed) override;

    struct pipeline_metrics;
    struct source_metrics;

  private:
    pipeline_metrics& pipeline(const std::string& id);
    source_metrics& source(const std::string& id);

    mutable std::shared_mutex mutex_;
    std::map<std::string, std::unique_ptr<pipeline_metrics>> pipelines_;
    std::map<std::string, std::unique_ptr<source_metrics>> sources_;
    std::atomic<std::uint64_t> snapshots_created_{0};
    std::atomic<std::uint64_t> snapshots_failed_{0};
    std::atomic<std::uint64_t> snapshots_restored_{0};
    std::atomic<std::uint64_t> slow_clients_{0};
    std::unique_ptr<histogram> snapshot_duration_;
    mutable std::mutex requests_mutex_;
    std::map<unsigned, std::uint64_t> requests_;
};

}  // namespace laredo::server::metrics
