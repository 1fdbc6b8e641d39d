#pragma once

#include "async_signal.hpp"
#include "pipeline.hpp"
#include "source_runner.hpp"

#include "laredo/engine.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace laredo::detail {

class engine_impl : public std::enable_shared_from_this<engine_impl> {
  public:
    enum class status : int { created, running, stopping, stopped };

    engine_impl(boost::asio::any_io_executor executor, engine_options options);

    // Built once by engine::builder, before anything runs.
    void add_source(std::string id, std::shared_ptr<sync_source> source, std::size_t pipelines);
    void add_pipeline(std::size_t source_index, std::string id, table_identifier table,
                      std::shared_ptr<sync_target> target, pipeline_options options);

    boost::asio::awaitable<void> start();
    boost::asio::awaitable<void> stop();
    boost::asio::awaitable<void> pause(std::string source_id);
    boost::asio::awaitable<void> resume(std::string source_id);
    boost::asio::awaitable<void> reload(std::string source_id, table_identifier table);
    boost::asio::awaitable<snapshot_descriptor> create_snapshot(
        std::map<std::string, std::string> labels);
    boost::asio::awaitable<std::size_t> replay_dead_letters(std::string pipeline_id);
    void stop_all_sources(const std::string& why);

    // Completes once every pipeline reached STREAMING; throws errc::pipeline_failed (naming
    // it) when one is in ERROR first, errc::stopped when the engine stops. Runs on the
    // control strand; ends on terminal cancellation.
    boost::asio::awaitable<void> wait_ready();
    bool await_ready(std::chrono::milliseconds timeout);
    bool is_ready() const noexcept { return ready_.load(); }
    void on_ready(std::function<void()> callback);

    struct source_slot {
        std::string id;
        std::shared_ptr<sync_source> source;
        std::shared_ptr<source_runner> runner;
    };
    const source_slot* find_source(const std::string& id) const;

    const boost::asio::strand<boost::asio::any_io_executor>& control() const noexcept {
        return control_;
    }
    const boost::asio::any_io_executor& executor() const noexcept { return executor_; }
    const engine_options& options() const noexcept { return *options_; }
    const std::vector<source_slot>& sources() const noexcept { return sources_; }
    const std::vector<std::shared_ptr<pipeline>>& pipelines() const noexcept { return pipelines_; }

    snapshot_store& snapshots() const;
    dead_letter_store& dead_letters() const;

  private:
    // Loads the newest snapshot for the runners to restore from (nothing on failure: the
    // observer hears why, and the sources baseline).
    boost::asio::awaitable<void> load_restore_snapshot();
    boost::asio::awaitable<snapshot_descriptor> take_snapshot(
        std::map<std::string, std::string> labels);
    boost::asio::awaitable<void> snapshot_loop();
    // Runs `step` on every source runner and waits until all finished or the deadline passed;
    // returns false on timeout.
    boost::asio::awaitable<bool> on_every_runner(
        boost::asio::awaitable<void> (source_runner::*step)(),
        std::chrono::steady_clock::time_point deadline);
    boost::asio::any_io_executor snapshot_executor() const;
    void mark_reached(std::size_t global_index);
    // A pipeline went to ERROR: readiness waiters re-check.
    void pipeline_failed();
    // The first pipeline in ERROR that never reached STREAMING, as "id: why"; empty if none.
    std::string failed_before_ready() const;
    std::string failed_before_ready_locked() const;  // ready_mutex_ held
    // Wakes wait_ready() coroutines (from any thread).
    void notify_ready_waiters();
    // The stop sequence; stop() runs it once and lets later callers join it.
    boost::asio::awaitable<void> stop_sequence();
    const source_slot& running_source(const std::string& id) const;

    boost::asio::any_io_executor executor_;
    boost::asio::strand<boost::asio::any_io_executor> control_;
    // Shared with runners and pipelines, which may finish after the last engine handle.
    std::shared_ptr<const engine_options> options_;
    std::vector<source_slot> sources_;
    std::vector<std::shared_ptr<pipeline>> pipelines_;
    std::atomic<status> status_{status::created};

    // Control-strand-confined.
    bool snapshot_running_ = false;
    async_signal snapshot_done_;
    std::unique_ptr<boost::asio::steady_timer> snapshot_timer_;
    std::uint64_t snapshot_counter_ = 0;

    async_signal stop_done_;
    std::exception_ptr stop_failure_;
    async_signal readiness_changed_;

    mutable std::mutex ready_mutex_;
    std::condition_variable ready_cv_;
    std::vector<bool> reached_;
    std::size_t reached_count_ = 0;
    std::atomic<bool> ready_{false};
    std::vector<std::function<void()>> ready_callbacks_;
};

}  // namespace laredo::detail
