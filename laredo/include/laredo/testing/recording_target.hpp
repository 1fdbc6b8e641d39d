#pragma once

// A target for tests that run a source through the engine (and for the engine's own tests):
// keeps the rows of its table by key, so a test can compare the target with the upstream,
// records every change it is handed, and can be told to fail, to stall its pipeline or to hold
// back its durability. Header-only. Reads are thread-safe; writes come from the pipeline's
// strand. One table per target, as the engine gives each pipeline its own.

#include "laredo/error.hpp"
#include "laredo/sync_target.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace laredo::testing {

class recording_target : public sync_target {
  public:
    using key_type = std::vector<value>;

    explicit recording_target(std::string name = "recording") : name_(std::move(name)) {}

    std::string type_name() const override { return name_; }

    boost::asio::awaitable<void> on_init(const table_identifier& table,
                                         schema_ptr schema) override {
        std::lock_guard lock(mutex_);
        table_ = table;
        schema_ = std::move(schema);
        ++inits_;
        co_return;
    }

    boost::asio::awaitable<void> on_baseline_rows(const table_identifier&,
                                                  std::span<const row> rows) override {
        maybe_fail();
        std::lock_guard lock(mutex_);
        auto& dest = rebuilding_ ? shadow_ : rows_;
        for (const auto& r : rows) dest[r.key()] = r;
        baseline_rows_ += rows.size();
        co_return;
    }

    boost::asio::awaitable<void> on_baseline_complete(const table_identifier&,
                                                      const position& pos) override {
        std::lock_guard lock(mutex_);
        baseline_position_ = pos;
        ++baselines_completed_;
        applied_ = pos;
        co_return;
    }

    boost::asio::awaitable<void> on_changes(const table_identifier& table,
                                            std::span<const change_event> changes) override {
        // A held target stalls its pipeline (without blocking the thread), so buffers fill.
        while (held_.load()) {
            boost::asio::steady_timer t(co_await boost::asio::this_coro::executor,
                                        std::chrono::milliseconds(1));
            co_await t.async_wait(boost::asio::use_awaitable);
        }
        maybe_fail();
        co_await sync_target::on_changes(table, changes);
    }

    boost::asio::awaitable<void> on_insert(const table_identifier&,
                                           const change_event& c) override {
        std::lock_guard lock(mutex_);
        rows_[c.new_values.key()] = c.new_values;
        record(c);
        co_return;
    }
    boost::asio::awaitable<void> on_update(const table_identifier&,
                                           const change_event& c) override {
        std::lock_guard lock(mutex_);
        const auto old_key = c.identity().key();
        auto merged = c.new_values;
        if (auto it = rows_.find(old_key); it != rows_.end()) {
            for (std::size_t i = 0; i < merged.size(); ++i)
                if (merged[i].is_unchanged())
                    if (const value* v = it->second.find(merged.schema()->column(i).name))
                        merged.set(i, *v);
            rows_.erase(it);
        }
        rows_[merged.key()] = merged;
        record(c);
        co_return;
    }
    boost::asio::awaitable<void> on_delete(const table_identifier&,
                                           const change_event& c) override {
        std::lock_guard lock(mutex_);
        rows_.erase(c.identity().key());
        record(c);
        co_return;
    }
    boost::asio::awaitable<void> on_truncate(const table_identifier&,
                                             const change_event& c) override {
        std::lock_guard lock(mutex_);
        rows_.clear();
        record(c);
        co_return;
    }

    boost::asio::awaitable<void> begin_rebuild(const table_identifier&) override {
        std::lock_guard lock(mutex_);
        rebuilding_ = true;
        shadow_.clear();
        ++rebuilds_;
        co_return;
    }
    boost::asio::awaitable<void> commit_rebuild(const table_identifier&) override {
        std::lock_guard lock(mutex_);
        rows_.swap(shadow_);
        shadow_.clear();
        rebuilding_ = false;
        co_return;
    }

    bool keeps_rows() const override { return true; }
    std::optional<row> find(const row& identity) const override {
        std::lock_guard lock(mutex_);
        const auto it = rows_.find(identity.key());
        if (it == rows_.end()) return std::nullopt;
        return it->second;
    }

    std::optional<std::uint64_t> row_count(const table_identifier&) const override {
        std::lock_guard lock(mutex_);
        return rows_.size();
    }
    void for_each_row(const table_identifier&,
                      const std::function<void(const row&)>& fn) const override {
        std::lock_guard lock(mutex_);
        for (const auto& [k, r] : rows_) fn(r);
    }

    boost::asio::awaitable<std::vector<row>> export_snapshot(const table_identifier&) override {
        std::lock_guard lock(mutex_);
        std::vector<row> out;
        for (const auto& [k, r] : rows_) out.push_back(r);
        co_return out;
    }
    boost::asio::awaitable<void> restore_snapshot(const table_snapshot_info&, std::vector<row> rows,
                                                  const position& pos) override {
        std::lock_guard lock(mutex_);
        rows_.clear();
        for (auto& r : rows) rows_[r.key()] = std::move(r);
        applied_ = pos;
        ++restores_;
        co_return;
    }

    bool is_durable() const override { return durable_.load(); }
    std::optional<position> persisted_position() const override {
        std::lock_guard lock(mutex_);
        if (!persist_) return std::nullopt;
        return applied_;
    }
    void on_position_reached(const table_identifier&, const position& pos) override {
        std::lock_guard lock(mutex_);
        applied_ = pos;
    }
    void set_change_position(const position& pos) override {
        std::lock_guard lock(mutex_);
        last_change_position_ = pos;
    }

    boost::asio::awaitable<void> on_close(const table_identifier&) override {
        closed_ = true;
        co_return;
    }

    // ---- test controls ----
    void set_durable(bool d) { durable_ = d; }
    void hold(bool h) { held_ = h; }
    // persisted_position() reports the last applied position (an embedder handing the same
    // target object to a new engine).
    void set_persistent(bool p) {
        std::lock_guard lock(mutex_);
        persist_ = p;
    }
    // The next `n` applies (baseline batches or change batches) throw `code`.
    void fail_next(int n, errc code = errc::transient) {
        fail_code_ = code;
        failures_left_ = n;
    }

    // Loses a row behind the engine's back (a target bug validation must notice).
    void lose_row(const key_type& key) {
        std::lock_guard lock(mutex_);
        rows_.erase(key);
    }

    // ---- inspection (any thread) ----
    std::size_t restores() const {
        std::lock_guard lock(mutex_);
        return restores_;
    }
    std::size_t count() const {
        std::lock_guard lock(mutex_);
        return rows_.size();
    }
    std::optional<row> get(const key_type& key) const {
        std::lock_guard lock(mutex_);
        const auto it = rows_.find(key);
        if (it == rows_.end()) return std::nullopt;
        return it->second;
    }
    std::map<key_type, row> rows() const {
        std::lock_guard lock(mutex_);
        return rows_;
    }
    std::vector<change_event> changes() const {
        std::lock_guard lock(mutex_);
        return changes_;
    }
    std::size_t change_count() const {
        std::lock_guard lock(mutex_);
        return changes_.size();
    }
    std::optional<position> applied() const {
        std::lock_guard lock(mutex_);
        return applied_;
    }
    std::size_t baselines_completed() const {
        std::lock_guard lock(mutex_);
        return baselines_completed_;
    }
    std::size_t rebuilds() const {
        std::lock_guard lock(mutex_);
        return rebuilds_;
    }
    std::size_t baseline_rows() const {
        std::lock_guard lock(mutex_);
        return baseline_rows_;
    }
    bool closed() const { return closed_.load(); }

  private:
    void maybe_fail() {
        if (failures_left_.load() > 0) {
            --failures_left_;
            throw error(fail_code_.load(), "recording_target: injected failure");
        }
    }
    void record(const change_event& c) {
        changes_.push_back(c);
        if (!c.pos.empty()) applied_ = c.pos;
    }

    const std::string name_;
    mutable std::mutex mutex_;
    table_identifier table_;
    schema_ptr schema_;
    std::map<key_type, row> rows_;
    std::map<key_type, row> shadow_;
    bool rebuilding_ = false;
    std::vector<change_event> changes_;
    std::optional<position> applied_;
    std::optional<position> baseline_position_;
    position last_change_position_;
    std::size_t inits_ = 0;
    std::size_t baselines_completed_ = 0;
    std::size_t rebuilds_ = 0;
    std::size_t restores_ = 0;
    std::size_t baseline_rows_ = 0;
    bool persist_ = false;
    std::atomic<bool> durable_{true};
    std::atomic<bool> closed_{false};
    std::atomic<bool> held_{false};
    std::atomic<int> failures_left_{0};
    std::atomic<errc> fail_code_{errc::transient};
};

}  // namespace laredo::testing
