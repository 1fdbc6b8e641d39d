#include "laredo/server/logging/log_observer.hpp"

#include <chrono>

namespace laredo::server::logging {

namespace {
double seconds(engine_observer::duration d) { return std::chrono::duration<double>(d).count(); }
std::string name(change_action a) { return std::string(to_string(a)); }
}  // namespace

log_observer::log_observer(
    logger& log, std::function<std::string(const std::string&, const position&)> position_text)
    : log_(log), position_text_(std::move(position_text)) {}

void log_observer::on_source_connected(const std::string& source_id, const std::string& type) {
    log_.info("source connected", {{"source_id", source_id}, {"source_type", type}});
}
void log_observer::on_source_disconnected(const std::string& source_id, const std::string& reason) {
    log_.warn("source disconnected", {{"source_id", source_id}, {"reason", reason}});
}
void log_observer::on_rebaseline_triggered(const std::string& source_id,
                                           const std::string& reason) {
    log_.warn("re-baseline", {{"source_id", source_id}, {"reason", reason}});
}
void log_observer::on_ack_advanced(const std::string& source_id, const position& pos) {
    if (!log_.enabled(level::debug)) return;
    log_.debug("ack advanced",
               {{"source_id", source_id}, {"position", position_text_(source_id, pos)}});
}
void log_observer::on_lag_updated(const std::string& source_id, const lag_info& lag) {
    if (!log_.enabled(level::trace)) return;
    log_.trace("lag",
               {{"source_id", source_id},
                {"lag_bytes", lag.lag_bytes ? boost::json::value(*lag.lag_bytes) : nullptr}});
}
void log_observer::on_schema_change(const std::string& pipeline_id, const table_identifier& table,
                                    const std::string& description) {
    log_.warn(
        "schema change",
        {{"pipeline_id", pipeline_id}, {"table", table.to_string()}, {"description", description}});
}
void log_observer::on_pipeline_state_changed(const std::string& pipeline_id,
                                             pipeline_state old_state, pipeline_state new_state) {
    log_.log(new_state == pipeline_state::error ? level::error : level::info, "pipeline state",
             {{"pipeline_id", pipeline_id},
              {"from", std::string(to_string(old_state))},
              {"to", std::string(to_string(new_state))}});
}
void log_observer::on_baseline_started(const std::string& pipeline_id,
                                       const table_identifier& table) {
    log_.info("baseline started", {{"pipeline_id", pipeline_id}, {"table", table.to_string()}});
}
void log_observer::on_baseline_estimate(const std::string& pipeline_id,
                                        const table_identifier& table,
                                        std::uint64_t estimated_rows) {
    log_.debug("baseline estimate", {{"pipeline_id", pipeline_id},
                                     {"table", table.to_string()},
                                     {"rows_estimated", estimated_rows}});
}
void log_observer::on_baseline_row_loaded(const std::string& pipeline_id,
                                          const table_identifier& table,
                                          std::uint64_t rows_so_far) {
    if (!log_.enabled(level::trace)) return;
    log_.trace("baseline progress",
               {{"pipeline_id", pipeline_id}, {"table", table.to_string()}, {"rows", rows_so_far}});
}
void log_observer::on_baseline_completed(const std::string& pipeline_id,
                                         const table_identifier& table, std::uint64_t rows,
                                         duration elapsed) {
    log_.info("baseline completed", {{"pipeline_id", pipeline_id},
                                     {"table", table.to_string()},
                                     {"rows", rows},
                                     {"elapsed_seconds", seconds(elapsed)}});
}
void log_observer::on_change_received(const std::string& pipeline_id, const table_identifier& table,
                                      change_action action, const position& pos) {
    if (!log_.enabled(level::trace)) return;
    log_.trace("change received", {{"pipeline_id", pipeline_id},
                                   {"table", table.to_string()},
                                   {"action", name(action)},
                                   {"position", position_text_(pipeline_id, pos)}});
}
void log_observer::on_change_applied(const std::string& pipeline_id, const table_identifier& table,
                                     change_action action, duration elapsed) {
    if (!log_.enabled(level::trace)) return;
    log_.trace("change applied", {{"pipeline_id", pipeline_id},
                                  {"table", table.to_string()},
                                  {"action", name(action)},
                                  {"elapsed_seconds", seconds(elapsed)}});
}
void log_observer::on_change_error(const std::string& pipeline_id, const table_identifier& table,
                                   change_action action, const std::string& message) {
    log_.warn("change failed", {{"pipeline_id", pipeline_id},
                                {"table", table.to_string()},
                                {"action", name(action)},
                                {"error", message}});
}
void log_observer::on_buffer_depth_changed(const std::string& pipeline_id, std::size_t depth,
                                           std::size_t capacity) {
    if (!log_.enabled(level::trace)) return;
    log_.trace("buffer depth",
               {{"pipeline_id", pipeline_id}, {"depth", depth}, {"capacity", capacity}});
}
void log_observer::on_buffer_policy_triggered(const std::string& pipeline_id,
                                              buffer_policy policy) {
    log_.warn("buffer full",
              {{"pipeline_id", pipeline_id}, {"policy", std::string(to_string(policy))}});
}
void log_observer::on_dead_letter_written(const std::string& pipeline_id,
                                          const table_identifier& table, change_action action) {
    log_.warn(
        "dead letter written",
        {{"pipeline_id", pipeline_id}, {"table", table.to_string()}, {"action", name(action)}});
}
void log_observer::on_row_expired(const std::string& pipeline_id, const table_identifier& table,
                                  const std::string& key) {
    log_.debug("row expired",
               {{"pipeline_id", pipeline_id}, {"table", table.to_string()}, {"key", key}});
}
void log_observer::on_validation_result(const std::string& pipeline_id,
                                        const table_identifier& table, std::uint64_t expected,
                                        std::uint64_t actual, bool match) {
    log_.log(match ? level::debug : level::warn,
             match ? "validation passed" : "validation mismatch",
             {{"pipeline_id", pipeline_id},
              {"table", table.to_string()},
              {"expected", expected},
              {"actual", actual}});
}
void log_observer::on_snapshot_started(const std::string& snapshot_id) {
    log_.info("snapshot started", {{"snapshot_id", snapshot_id}});
}
void log_observer::on_snapshot_completed(const std::string& snapshot_id, std::size_t tables,
                                         std::uint64_t rows, std::uint64_t size_bytes,
                                         duration elapsed) {
    log_.info("snapshot completed", {{"snapshot_id", snapshot_id},
                                     {"tables", tables},
                                     {"rows", rows},
                                     {"size_bytes", size_bytes},
                                     {"elapsed_seconds", seconds(elapsed)}});
}
void log_observer::on_snapshot_failed(const std::string& snapshot_id, const std::string& message) {
    log_.error("snapshot failed", {{"snapshot_id", snapshot_id}, {"error", message}});
}
void log_observer::on_snapshot_restore_started(const std::string& snapshot_id) {
    log_.info("snapshot restore started", {{"snapshot_id", snapshot_id}});
}
void log_observer::on_snapshot_restore_completed(const std::string& snapshot_id, std::uint64_t rows,
                                                 duration elapsed) {
    log_.info(
        "snapshot restored",
        {{"snapshot_id", snapshot_id}, {"rows", rows}, {"elapsed_seconds", seconds(elapsed)}});
}
void log_observer::on_fanout_client_connected(const std::string& pipeline_id,
                                              const std::string& client_id) {
    log_.info("fan-out client connected", {{"pipeline_id", pipeline_id}, {"client_id", client_id}});
}
void log_observer::on_fanout_client_disconnected(const std::string& pipeline_id,
                                                 const std::string& client_id,
                                                 const std::string& reason) {
    log_.info("fan-out client disconnected",
              {{"pipeline_id", pipeline_id}, {"client_id", client_id}, {"reason", reason}});
}
void log_observer::on_fanout_client_caught_up(const std::string& pipeline_id,
                                              const std::string& client_id) {
    log_.debug("fan-out client caught up",
               {{"pipeline_id", pipeline_id}, {"client_id", client_id}});
}
void log_observer::on_fanout_client_backpressure(const std::string& pipeline_id,
                                                 const std::string& client_id) {
    log_.warn("fan-out client backpressure",
              {{"pipeline_id", pipeline_id}, {"client_id", client_id}});
}
void log_observer::on_fanout_snapshot_created(const std::string& pipeline_id,
                                              const std::string& snapshot_id, std::uint64_t rows) {
    log_.info("fan-out snapshot",
              {{"pipeline_id", pipeline_id}, {"snapshot_id", snapshot_id}, {"rows", rows}});
}
void log_observer::on_fanout_journal_pruned(const std::string& pipeline_id, std::uint64_t entries) {
    log_.debug("fan-out journal pruned", {{"pipeline_id", pipeline_id}, {"entries", entries}});
}

}  // namespace laredo::server::logging
