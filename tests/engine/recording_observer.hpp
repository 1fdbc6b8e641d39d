#pragma once

// An observer for engine tests: records the operations' callbacks (validation, TTL, dead
// letters, re-baselines, snapshots) so tests can assert they fired, and with what.

#include "engine_events.hpp"

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

namespace laredo::testing {

class recording_observer : public engine_events {
  public:
    struct validation {
        std::string pipeline;
        std::uint64_t expected = 0;
        std::uint64_t actual = 0;
        bool match = false;
    };

    // Each report is recorded first, then wakes the waits (which may look for it).
    void on_validation_result(const std::string& pipeline, const table_identifier&,
                              std::uint64_t expected, std::uint64_t actual, bool match) override {
        record(validations_, validation{pipeline, expected, actual, match});
    }
    void on_row_expired(const std::string&, const table_identifier&,
                        const std::string& key) override {
        record(expired_, key);
    }
    void on_dead_letter_written(const std::string& pipeline, const table_identifier&,
                                change_action) override {
        record(dead_letters_, pipeline);
    }
    void on_rebaseline_triggered(const std::string&, const std::string& reason) override {
        record(rebaselines_, reason);
    }
    void on_schema_change(const std::string&, const table_identifier&,
                          const std::string& description) override {
        record(schema_changes_, description);
    }
    void on_lag_updated(const std::string&, const lag_info&) override {
        ++lag_updates_;
        notify();
    }
    void on_snapshot_started(const std::string& id) override {
        record(snapshot_events_, "started " + id);
    }
    void on_snapshot_completed(const std::string& id, std::size_t, std::uint64_t, std::uint64_t,
                               duration) override {
        record(snapshot_events_, "completed " + id);
    }
    void on_snapshot_failed(const std::string& id, const std::string& message) override {
        record(snapshot_events_, "failed " + id + ": " + message);
    }
    void on_snapshot_restore_started(const std::string& id) override {
        record(snapshot_events_, "restore started " + id);
    }
    void on_snapshot_restore_completed(const std::string& id, std::uint64_t, duration) override {
        record(snapshot_events_, "restore completed " + id);
    }

    std::vector<validation> validations() const {
        std::lock_guard lock(mutex_);
        return validations_;
    }
    std::vector<std::string> expired() const {
        std::lock_guard lock(mutex_);
        return expired_;
    }
    std::vector<std::string> dead_letters() const {
        std::lock_guard lock(mutex_);
        return dead_letters_;
    }
    std::vector<std::string> rebaselines() const {
        std::lock_guard lock(mutex_);
        return rebaselines_;
    }
    std::vector<std::string> schema_changes() const {
        std::lock_guard lock(mutex_);
        return schema_changes_;
    }
    int lag_updates() const { return lag_updates_.load(); }
    std::vector<std::string> snapshot_events() const {
        std::lock_guard lock(mutex_);
        return snapshot_events_;
    }
    // The first snapshot event that starts with `prefix`, or "".
    std::string snapshot_event(const std::string& prefix) const {
        std::lock_guard lock(mutex_);
        for (const auto& e : snapshot_events_)
            if (e.rfind(prefix, 0) == 0) return e;
        return {};
    }

  private:
    template <class T, class V>
    void record(std::vector<T>& to, V&& v) {
        {
            std::lock_guard lock(mutex_);
            to.push_back(std::forward<V>(v));
        }
        notify();
    }

    mutable std::mutex mutex_;
    std::vector<validation> validations_;
    std::vector<std::string> expired_;
    std::vector<std::string> dead_letters_;
    std::vector<std::string> rebaselines_;
    std::vector<std::string> snapshot_events_;
    std::vector<std::string> schema_changes_;
    std::atomic<int> lag_updates_{0};
};

}  // namespace laredo::testing
