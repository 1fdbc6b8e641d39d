#pragma once

// An observer for engine tests: records the operations' callbacks (validation, TTL, dead
// letters, re-baselines, snapshots) so tests can assert they fired, and with what.

#include "laredo/observer.hpp"

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

namespace laredo::testing {

class recording_observer : public engine_observer {
  public:
    struct validation {
        std::string pipeline;
        std::uint64_t expected = 0;
        std::uint64_t actual = 0;
        bool match = false;
    };

    void on_validation_result(const std::string& pipeline, const table_identifier&,
                              std::uint64_t expected, std::uint64_t actual, bool match) override {
        std::lock_guard lock(mutex_);
        validations_.push_back({pipeline, expected, actual, match});
    }
    void on_row_expired(const std::string&, const table_identifier&,
                        const std::string& key) override {
        std::lock_guard lock(mutex_);
        expired_.push_back(key);
    }
    void on_dead_letter_written(const std::string& pipeline, const table_identifier&,
                                change_action) override {
        std::lock_guard lock(mutex_);
        dead_letters_.push_back(pipeline);
    }
    void on_rebaseline_triggered(const std::string&, const std::string& reason) override {
        std::lock_guard lock(mutex_);
        rebaselines_.push_back(reason);
    }
    void on_schema_change(const std::string&, const table_identifier&,
                          const std::string& description) override {
        std::lock_guard lock(mutex_);
        schema_changes_.push_back(description);
    }
    void on_lag_updated(const std::string&, const lag_info&) override { ++lag_updates_; }
    void on_snapshot_started(const std::string& id) override { note("started " + id); }
    void on_snapshot_completed(const std::string& id, std::size_t, std::uint64_t, std::uint64_t,
                               duration) override {
        note("completed " + id);
    }
    void on_snapshot_failed(const std::string& id, const std::string& message) override {
        note("failed " + id + ": " + message);
    }
    void on_snapshot_restore_started(const std::string& id) override {
        note("restore started " + id);
    }
    void on_snapshot_restore_completed(const std::string& id, std::uint64_t, duration) override {
        note("restore completed " + id);
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
    void note(std::string event) {
        std::lock_guard lock(mutex_);
        snapshot_events_.push_back(std::move(event));
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
