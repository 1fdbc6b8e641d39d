#include "laredo/observer.hpp"

#include <algorithm>

namespace laredo {

namespace {

// Forwards each callback to every observer in order.
class composite_observer final : public engine_observer {
  public:
    explicit composite_observer(std::vector<std::shared_ptr<engine_observer>> observers)
        : observers_(std::move(observers)) {}

#define LAREDO_FAN_OUT(name, params, args)       \
    void name params override {                  \
        for (auto& o : observers_) o->name args; \
    }
    LAREDO_FAN_OUT(on_source_connected, (const std::string& a, const std::string& b), (a, b))
    LAREDO_FAN_OUT(on_source_disconnected, (const std::string& a, const std::string& b), (a, b))
    LAREDO_FAN_OUT(on_rebaseline_triggered, (const std::string& a, const std::string& b), (a, b))
    LAREDO_FAN_OUT(on_ack_advanced, (const std::string& a, const position& b), (a, b))
    LAREDO_FAN_OUT(on_lag_updated, (const std::string& a, const lag_info& b), (a, b))
    LAREDO_FAN_OUT(on_schema_change,
                   (const std::string& a, const table_identifier& b, const std::string& c),
                   (a, b, c))
    LAREDO_FAN_OUT(on_pipeline_state_changed,
                   (const std::string& a, pipeline_state b, pipeline_state c), (a, b, c))
    LAREDO_FAN_OUT(on_baseline_started, (const std::string& a, const table_identifier& b), (a, b))
    LAREDO_FAN_OUT(on_baseline_estimate,
                   (const std::string& a, const table_identifier& b, std::uint64_t c), (a, b, c))
    LAREDO_FAN_OUT(on_baseline_row_loaded,
                   (const std::string& a, const table_identifier& b, std::uint64_t c), (a, b, c))
    LAREDO_FAN_OUT(on_baseline_completed,
                   (const std::string& a, const table_identifier& b, std::uint64_t c, duration d),
                   (a, b, c, d))
    LAREDO_FAN_OUT(on_change_received,
                   (const std::string& a, const table_identifier& b, change_action c,
                    const position& d),
                   (a, b, c, d))
    LAREDO_FAN_OUT(on_change_applied,
                   (const std::string& a, const table_identifier& b, change_action c, duration d),
                   (a, b, c, d))
    LAREDO_FAN_OUT(on_change_error,
                   (const std::string& a, const table_identifier& b, change_action c,
                    const std::string& d),
                   (a, b, c, d))
    LAREDO_FAN_OUT(on_buffer_depth_changed, (const std::string& a, std::size_t b, std::size_t c),
                   (a, b, c))
    LAREDO_FAN_OUT(on_buffer_policy_triggered, (const std::string& a, buffer_policy b), (a, b))
    LAREDO_FAN_OUT(on_dead_letter_written,
                   (const std::string& a, const table_identifier& b, change_action c), (a, b, c))
    LAREDO_FAN_OUT(on_row_expired,
                   (const std::string& a, const table_identifier& b, const std::string& c),
                   (a, b, c))
    LAREDO_FAN_OUT(on_validation_result,
                   (const std::string& a, const table_identifier& b, std::uint64_t c,
                    std::uint64_t d, bool e),
                   (a, b, c, d, e))
    LAREDO_FAN_OUT(on_snapshot_started, (const std::string& a), (a))
    LAREDO_FAN_OUT(on_snapshot_completed,
                   (const std::string& a, std::size_t b, std::uint64_t c, std::uint64_t d,
                    duration e),
                   (a, b, c, d, e))
    LAREDO_FAN_OUT(on_snapshot_failed, (const std::string& a, const std::string& b), (a, b))
    LAREDO_FAN_OUT(on_snapshot_restore_started, (const std::string& a), (a))
    LAREDO_FAN_OUT(on_snapshot_restore_completed,
                   (const std::string& a, std::uint64_t b, duration c), (a, b, c))
    LAREDO_FAN_OUT(on_fanout_client_connected, (const std::string& a, const std::string& b), (a, b))
    LAREDO_FAN_OUT(on_fanout_client_disconnected,
                   (const std::string& a, const std::string& b, const std::string& c), (a, b, c))
    LAREDO_FAN_OUT(on_fanout_client_caught_up, (const std::string& a, const std::string& b), (a, b))
    LAREDO_FAN_OUT(on_fanout_client_backpressure, (const std::string& a, const std::string& b),
                   (a, b))
    LAREDO_FAN_OUT(on_fanout_snapshot_created,
                   (const std::string& a, const std::string& b, std::uint64_t c), (a, b, c))
    LAREDO_FAN_OUT(on_fanout_journal_pruned, (const std::string& a, std::uint64_t b), (a, b))
#undef LAREDO_FAN_OUT

  private:
    std::vector<std::shared_ptr<engine_observer>> observers_;
};

}  // namespace

std::shared_ptr<engine_observer> make_composite_observer(
    std::vector<std::shared_ptr<engine_observer>> observers) {
    observers.erase(std::remove(observers.begin(), observers.end(), nullptr), observers.end());
    return std::make_shared<composite_observer>(std::move(observers));
}

}  // namespace laredo
