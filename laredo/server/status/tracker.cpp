#include "laredo/server/status/tracker.hpp"

namespace laredo::server::status {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

double baseline_progress::rate() const {
    const auto span =
        done ? elapsed
             : duration_cast<milliseconds>(std::chrono::steady_clock::now() - started_steady);
    if (span.count() <= 0) return 0;
    return static_cast<double>(rows_done) * 1000.0 / static_cast<double>(span.count());
}

std::map<std::string, baseline_progress> tracker::baselines() const {
    std::lock_guard lock(mutex_);
    return baselines_;
}

std::optional<baseline_progress> tracker::baseline(const std::string& pipeline_id) const {
    std::lock_guard lock(mutex_);
    const auto it = baselines_.find(pipeline_id);
    if (it == baselines_.end()) return std::nullopt;
    return it->second;
}

std::map<std::string, source_status> tracker::sources() const {
    std::lock_guard lock(mutex_);
    return sources_;
}

void tracker::on_source_connected(const std::string& source_id, const std::string&) {
    std::lock_guard lock(mutex_);
    auto& s = sources_[source_id];
    s.connected = true;
    s.changed_at = std::chrono::system_clock::now();
}

void tracker::on_source_disconnected(const std::string& source_id, const std::string& reason) {
    std::lock_guard lock(mutex_);
    auto& s = sources_[source_id];
    s.connected = false;
    s.last_disconnect_reason = reason;
    s.changed_at = std::chrono::system_clock::now();
}

void tracker::on_baseline_started(const std::string& pipeline_id, const table_identifier&) {
    std::lock_guard lock(mutex_);
    baseline_progress p;
    p.running = true;
    p.started_at = std::chrono::system_clock::now();
    p.started_steady = std::chrono::steady_clock::now();
    baselines_[pipeline_id] = p;
}

void tracker::on_baseline_estimate(const std::string& pipeline_id, const table_identifier&,
                                   std::uint64_t estimated_rows) {
    std::lock_guard lock(mutex_);
    baselines_[pipeline_id].rows_total = estimated_rows;
}

void tracker::on_baseline_row_loaded(const std::string& pipeline_id, const table_identifier&,
                                     std::uint64_t rows_so_far) {
    std::lock_guard lock(mutex_);
    baselines_[pipeline_id].rows_done = rows_so_far;
}

void tracker::on_baseline_completed(const std::string& pipeline_id, const table_identifier&,
                                    std::uint64_t rows, duration elapsed) {
    std::lock_guard lock(mutex_);
    auto& p = baselines_[pipeline_id];
    p.running = false;
    p.done = true;
    p.rows_done = rows;
    p.elapsed = duration_cast<milliseconds>(elapsed);
}

}  // namespace laredo::server::status
