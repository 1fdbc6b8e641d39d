#pragma once

// The targets source_bench measures with: one that applies nothing (what the source and the
// engine cost alone), and a wrapper that counts what another target applied, says when the
// expected count is reached, and can claim a persisted position so that the engine resumes
// from a slot made before the workload instead of taking a baseline.

#include "laredo/sync_target.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace laredo::bench::postgres {

// Applies nothing and keeps nothing.
class counting_target final : public sync_target {
  public:
    std::string type_name() const override { return "bench.counting"; }
    boost::asio::awaitable<void> on_init(const table_identifier&, schema_ptr) override;
    boost::asio::awaitable<void> on_baseline_rows(const table_identifier&,
                                                  std::span<const row>) override;
    boost::asio::awaitable<void> on_baseline_complete(const table_identifier&,
                                                      const position&) override;
    boost::asio::awaitable<void> on_changes(const table_identifier&,
                                            std::span<const change_event>) override;
    boost::asio::awaitable<void> on_insert(const table_identifier&, const change_event&) override;
    boost::asio::awaitable<void> on_update(const table_identifier&, const change_event&) override;
    boost::asio::awaitable<void> on_delete(const table_identifier&, const change_event&) override;
    boost::asio::awaitable<void> on_truncate(const table_identifier&, const change_event&) override;
};

// Forwards every call to `inner` (except snapshots: the benchmark has no store). Counts the changes
// and baseline rows `inner` applied; when their sum first reaches `expected`, records the time
// (now_s) and this process's CPU time (process_cpu_s) and makes `done()` ready. With `resume_at`,
// persisted_position() returns it.
class measured_target final : public sync_target {
  public:
    struct finish {
        double at_s = 0;
        double cpu_s = 0;
    };

    measured_target(std::shared_ptr<sync_target> inner, std::uint64_t expected,
                    std::optional<position> resume_at = std::nullopt);

    std::future<finish> done() { return done_.get_future(); }
    // Called on the pipeline's strand after `inner` applied each batch of changes (before
    // start only).
    using changes_hook = std::function<void(std::span<const change_event>)>;
    void after_changes(changes_hook hook) { after_changes_ = std::move(hook); }
    std::uint64_t applied() const noexcept { return applied_.load(); }
    // Wall time spent inside `inner` applying baseline rows and changes (read it after the
    // engine stopped).
    double apply_seconds() const noexcept { return apply_seconds_; }
    const std::shared_ptr<sync_target>& inner() const noexcept { return inner_; }

    std::string type_name() const override { return inner_->type_name(); }
    boost::asio::awaitable<void> on_init(const table_identifier& table, schema_ptr schema) override;
    boost::asio::awaitable<void> on_baseline_rows(const table_identifier& table,
                                                  std::span<const row> rows) override;
    boost::asio::awaitable<void> on_baseline_complete(const table_identifier& table,
                                                      const position& pos) override;
    boost::asio::awaitable<void> on_changes(const table_identifier& table,
                                            std::span<const change_event> changes) override;
    boost::asio::awaitable<void> on_insert(const table_identifier& table,
                                           const change_event& change) override;
    boost::asio::awaitable<void> on_update(const table_identifier& table,
                                           const change_event& change) override;
    boost::asio::awaitable<void> on_delete(const table_identifier& table,
                                           const change_event& change) override;
    boost::asio::awaitable<void> on_truncate(const table_identifier& table,
                                             const change_event& change) override;

    bool is_durable() const override { return inner_->is_durable(); }
    std::optional<position> confirmed_position() const override;
    std::optional<position> persisted_position() const override;
    void set_change_position(const position& pos) override { inner_->set_change_position(pos); }
    void on_position_reached(const table_identifier& table, const position& pos) override {
        inner_->on_position_reached(table, pos);
    }
    boost::asio::awaitable<schema_change_response> on_schema_change(
        const table_identifier& table, const row_schema& old_schema,
        const row_schema& new_schema) override;
    boost::asio::awaitable<void> begin_rebuild(const table_identifier& table) override;
    boost::asio::awaitable<void> commit_rebuild(const table_identifier& table) override;
    bool keeps_rows() const override { return inner_->keeps_rows(); }
    std::optional<row> find(const row& identity) const override { return inner_->find(identity); }
    std::optional<std::uint64_t> row_count(const table_identifier& table) const override {
        return inner_->row_count(table);
    }
    void for_each_row(const table_identifier& table,
                      const std::function<void(const row&)>& fn) const override {
        inner_->for_each_row(table, fn);
    }
    boost::asio::awaitable<void> on_close(const table_identifier& table) override;

  private:
    void count(std::size_t n);

    std::shared_ptr<sync_target> inner_;
    const std::uint64_t expected_;
    const std::optional<position> resume_at_;
    std::atomic<std::uint64_t> applied_{0};
    double apply_seconds_ = 0;
    std::promise<finish> done_;
    changes_hook after_changes_;
};

}  // namespace laredo::bench::postgres
