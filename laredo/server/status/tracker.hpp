#pragma once

#include "laredo/observer.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace laredo::server::status {

// Baseline progress of one pipeline's table.
struct baseline_progress {
    bool running = false;
    bool done = false;
    std::uint64_t rows_done = 0;
    std::optional<std::uint64_t> rows_total;  // the source's estimate
    std::chrono::system_clock::time_point started_at{};
    std::chrono::steady_clock::time_point started_steady{};
    std::chrono::milliseconds elapsed{0};  // when done
    // Rows per second since the baseline started (up to its end when done).
    double rate() const;
};

struct source_status {
    bool connected = false;
    std::string last_disconnect_reason;
    std::chrono::system_clock::time_point changed_at{};
};

// What the engine's observer callbacks tell that engine queries do not: baseline progress,
// and source connection events. Thread-safe (one mutex, held for a map update; no per-change
// callback is taken); the status API reads copies.
class tracker final : public engine_observer {
  public:
    std::map<std::string, baseline_progress> baselines() const;
    std::optional<baseline_progress> baseline(const std::string& pipeline_id) const;
    std::map<std::string, source_status> sources() const;

    void on_source_connected(const std::string& source_id, const std::string& type) override;
    void on_source_disconnected(const std::string& source_id, const std::string& reason) override;
    void on_baseline_started(const std::string& pipeline_id,
                             const table_identifier& table) override;
    void on_baseline_estimate(const std::string& pipeline_id, const table_identifier& table,
                              std::uint64_t estimated_rows) override;
    void on_baseline_row_loaded(const std::string& pipeline_id, const table_identifier& table,
                                std::uint64_t rows_so_far) override;
    void on_baseline_completed(const std::string& pipeline_id, const table_identifier& table,
                               std::uint64_t rows, duration elapsed) override;

  private:
    mutable std::mutex mutex_;
    std::map<std::string, baseline_progress> baselines_;
    std::map<std::string, source_status> sources_;
};

}  // namespace laredo::server::status
