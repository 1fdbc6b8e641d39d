#pragma once

#include "ack_coordinator.hpp"
#include "async_signal.hpp"
#include "change_router.hpp"
#include "pipeline.hpp"
#include "source_machine.hpp"

#include "laredo/engine.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace laredo::detail {

// The lowest of non-empty `positions` under the source's order.
position lowest_position(const sync_source& source, const std::vector<position>& positions);

// Drives one source: init -> validate -> (resume | baseline) -> stream, with retries and
// re-baselines, and dispatches what it produces to the source's pipelines. Everything here
// runs on the source's executor.
class source_runner : public std::enable_shared_from_this<source_runner>, private change_handler {
  public:
    // Asks the engine to stop every source (error policy stop_all).
    using stop_all_fn = std::function<void(const std::string& why)>;

    source_runner(std::string id, std::shared_ptr<sync_source> source, std::size_t pipelines,
                  std::shared_ptr<const engine_options> options, stop_all_fn stop_all);

    // Pipelines are attached before start(), in the order of their local index (the index
    // their hooks report).
    void attach(std::shared_ptr<pipeline> p);
    std::size_t pipeline_count() const noexcept { return pipelines_.size(); }

    // Before start(): the snapshot the engine loaded, to restore from when the source cannot
    // resume from its targets' own positions. Its tables for this source's pipelines are
    // moved out when restored.
    void set_restore_snapshot(std::shared_ptr<snapshot> snap);

    void start();
    // Graceful stop, in two steps so the engine can take its shutdown snapshot in between:
    // stop_reading() stops the stream and drains the buffers; release() sends the final ACK
    // and closes targets and source. Each completes when its step is done.
    boost::asio::awaitable<void> stop_reading();
    boost::asio::awaitable<void> release();
    // After the shutdown timeout: drop what is buffered so stop() finishes now.
    void abort();

    boost::asio::awaitable<void> pause();
    boost::asio::awaitable<void> resume();
    boost::asio::awaitable<void> reload(table_identifier table);
    // Error policy stop_source / stop_all: every pipeline to ERROR, stop reading.
    boost::asio::awaitable<void> fail_all(std::string why);

    // Called by pipeline hooks (on pipeline strands): post onto the source executor.
    void post_confirm(std::size_t local, position pos);
    void post_membership(std::size_t local, bool member);
    void post_failure(std::size_t local, error_policy policy, std::string why);
    void post_reload_request(std::size_t local, std::string why);
    // A snapshot holds `pos` for this source: the ACK may not pass it.
    void post_ack_cap(position pos);

    const std::string& id() const noexcept { return id_; }
    const std::shared_ptr<sync_source>& source() const noexcept { return source_; }
    std::optional<position> last_acked() const { return ack_.last_acked(); }
    schema_ptr schema_of(const table_identifier& table) const;
    // A pipeline saw new columns for its table (thread-safe).
    void set_schema(std::size_t local, schema_ptr schema);

  private:
    class dispatch_sink;

    // Drives the machine: performs its actions, feeds back their outcomes.
    boost::asio::awaitable<void> run();
    void report(const std::vector<source_machine::report>& reports);
    // One attempt of each of the machine's actions; each returns the machine's next step.
    boost::asio::awaitable<source_machine::step> init_source();
    boost::asio::awaitable<source_machine::step> validate_source();
    boost::asio::awaitable<source_machine::step> baseline_all(bool rebuild);
    boost::asio::awaitable<source_machine::step> stream_once(position from, bool rewind);
    // After a resume or restore: tables new to the configuration baseline beside the stream.
    boost::asio::awaitable<void> baseline_added_beside_stream();
    // Asks the source whether it can stream from `from`; false with `failure` set when the
    // question itself failed.
    boost::asio::awaitable<bool> can_stream_from(const position& from, std::string& failure);
    boost::asio::awaitable<std::optional<position>> try_resume();
    // Restores the targets from the loaded snapshot; nullopt (and why, to the observer) when
    // it cannot. `partial` is set when some target took rows before it failed.
    boost::asio::awaitable<std::optional<position>> try_restore(bool& partial);
    boost::asio::awaitable<void> reload_requested(std::size_t local, std::string why);
    // Baselines one table's pipelines while the stream goes on (reload; tables added to the
    // configuration since a resume). `begun`: their begin items are queued already.
    boost::asio::awaitable<void> baseline_beside_stream(table_identifier table,
                                                        std::vector<std::shared_ptr<pipeline>> ps,
                                                        bool begun);
    boost::asio::awaitable<void> baseline_added_tables(
        std::vector<std::shared_ptr<pipeline>> added);
    boost::asio::awaitable<void> finish();
    boost::asio::awaitable<void> backoff_sleep(std::chrono::milliseconds d);
    boost::asio::awaitable<void> fail_pipelines(const std::vector<std::shared_ptr<pipeline>>& ps,
                                                const std::string& why);
    std::vector<std::shared_ptr<pipeline>> live_pipelines() const;
    std::vector<table_identifier> tables_of(const std::vector<std::shared_ptr<pipeline>>& ps) const;

    // change_handler
    boost::asio::awaitable<void> on_changes(std::vector<change_event> batch) override;
    boost::asio::awaitable<void> on_heartbeat(position pos) override;
    boost::asio::awaitable<void> on_rewind(position pos) override;
    // `then_reached`: after these changes the table has nothing more up to that position.
    boost::asio::awaitable<void> dispatch(const table_identifier& table,
                                          std::vector<change_event> events,
                                          position then_reached = {});

    const std::string id_;
    const std::shared_ptr<sync_source> source_;
    // Shared with the engine: a runner still finishing after the last engine handle went
    // away must not read freed options or call a freed observer.
    const std::shared_ptr<const engine_options> options_;
    engine_observer* const observer_;
    const stop_all_fn stop_all_;
    std::vector<std::shared_ptr<pipeline>> pipelines_;
    std::map<table_identifier, std::vector<std::shared_ptr<pipeline>>> by_table_;
    ack_coordinator ack_;

    // Source-executor-confined.
    boost::asio::cancellation_signal phase_cancel_;  // init / baseline / stream / backoff
    boost::asio::cancellation_signal reload_cancel_;
    async_signal stop_requested_;
    async_signal finished_signal_;
    async_signal drained_signal_;
    async_signal release_signal_;
    async_signal reload_done_;
    std::shared_ptr<snapshot> restore_;
    // Pipelines with nothing to resume from while the rest of the source resumed.
    std::vector<std::shared_ptr<pipeline>> added_;
    source_machine machine_;
    table_schemas schemas_at_init_;  // from init to validate
    // The pipelines of a baseline that failed, for the machine's fail_baseline.
    std::vector<std::shared_ptr<pipeline>> baselining_;
    bool drained_ = false;
    bool released_ = false;
    bool finished_ = false;
    bool reload_running_ = false;
    std::optional<position> last_delivered_;
    change_router router_;
    bool at_transaction_boundary_ = true;
    std::chrono::steady_clock::time_point lag_reported_at_{};
    std::optional<lag_info> lag_reported_;
    // Tells the observer the source's lag, at most once a second, when it changed.
    void report_lag();

    mutable std::mutex schemas_mutex_;
    std::map<table_identifier, schema_ptr> schemas_;
};

}  // namespace laredo::detail
