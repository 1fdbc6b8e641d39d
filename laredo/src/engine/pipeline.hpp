#pragma once

#include "async_signal.hpp"
#include "backoff.hpp"
#include "pipeline_machine.hpp"

#include "laredo/dead_letter_store.hpp"
#include "laredo/snapshot_store.hpp"

#include "laredo/engine.hpp"
#include "laredo/observer.hpp"
#include "laredo/pipeline_options.hpp"
#include "laredo/sync_source.hpp"
#include "laredo/sync_target.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace laredo::detail {

// Rows of a baseline (or reload) on their way to one pipeline. A begin item starts the
// baseline (a rebuild: the target builds the new copy beside the old one), row items carry
// batches shared by every pipeline of the table, the end item carries the position the
// baseline is consistent with.
struct baseline_work {
    enum class kind : std::uint8_t { begin, rows, end, failed };
    kind what = kind::rows;
    bool rebuild = false;
    std::shared_ptr<const std::vector<row>> rows;
    position pos;
    std::string failure;  // kind::failed: why the source's baseline failed
};

// Changes of this pipeline's table, in source order (shared by every pipeline of the table),
// or a heartbeat: the source has reached `heartbeat` with nothing else for this pipeline.
// With both, the heartbeat comes after the changes (the rest of their transaction was in
// other tables).
struct change_work {
    std::shared_ptr<const std::vector<change_event>> events;
    position heartbeat;
    std::size_t event_count = 0;
    std::size_t bytes = 0;
    // The source will re-deliver from an earlier position: skip what was already applied.
    bool rewind = false;
};

// How a pipeline reports to its source runner. Every hook is called on the pipeline's strand
// and must only post work elsewhere.
struct pipeline_hooks {
    std::function<void(std::size_t index, const position& pos)> confirm;
    std::function<void(std::size_t index, bool in_ack)> ack_membership;
    std::function<void(std::size_t index)> reached_streaming;
    std::function<void(std::size_t index, error_policy policy, const std::string& why)> failed;
    // Validation found drift and the pipeline's action is rebaseline: reload the table.
    std::function<void(std::size_t index, const std::string& why)> request_reload;
    // The source's rows for the table now carry these columns.
    std::function<void(std::size_t index, schema_ptr schema)> columns_changed;
    // The pipeline went to ERROR.
    std::function<void(std::size_t index)> entered_error;
};

// The retry policy of a pipeline's automatic recovery (recover_after, recover_max_backoff).
retry_policy recovery_retry_policy(const pipeline_options& o);

// One source table -> filters/transforms -> target path. All its state lives on its strand;
// producers (the source runner) hop onto the strand to enqueue, and wait there for room.
class pipeline : public std::enable_shared_from_this<pipeline> {
  public:
    pipeline(std::size_t index, std::string id, std::string source_id, table_identifier table,
             std::shared_ptr<sync_target> target, pipeline_options options,
             boost::asio::any_io_executor executor, const sync_source* source,
             std::shared_ptr<const engine_options> engine, pipeline_hooks hooks);

    const std::string& id() const noexcept { return id_; }
    const std::string& source_id() const noexcept { return source_id_; }
    const table_identifier& table() const noexcept { return table_; }
    std::size_t index() const noexcept { return index_; }
    const std::shared_ptr<sync_target>& target() const noexcept { return target_; }
    const pipeline_options& options() const noexcept { return options_; }
    const boost::asio::strand<boost::asio::any_io_executor>& strand() const noexcept {
        return strand_;
    }

    // The columns rows of `source` have after the transforms. Throws errc::invalid_config
    // naming the transform and the column when the chain removes a key column.
    schema_ptr shape_columns(const schema_ptr& source) const;
    // The columns the target was given (after the transforms); null before init_target.
    // Thread-safe.
    schema_ptr target_columns() const;

    // Thread-safe snapshots of the state.
    pipeline_state state() const noexcept { return state_.load(); }
    bool stale() const noexcept { return stale_.load(); }
    std::size_t buffer_depth() const noexcept { return depth_.load(); }
    std::optional<position> applied_position() const;
    std::string last_error() const;

    // --- Called from the source runner's executor; each hops onto the strand. ---

    // Calls target->on_init with the columns after the transforms. Throws what it throws, and
    // errc::invalid_config when the transforms remove a key column.
    boost::asio::awaitable<void> init_target(schema_ptr schema);
    // Starts the consumer coroutine.
    void start();
    // Resume without a baseline: changes at or before `from` are skipped.
    boost::asio::awaitable<void> resume_from(position from);
    // Enqueue, applying the buffer policy. May throw errc::buffer_overflow (policy error with
    // stop_source/stop_all) or operation_aborted when cancelled while waiting for room.
    boost::asio::awaitable<void> push_changes(change_work work);
    boost::asio::awaitable<void> push_baseline(baseline_work work);
    // The source stops: producers waiting for room give up (operation_aborted) from now on.
    void release_producers();
    // Sets the baseline generation a reload waits for, before its begin item is queued.
    boost::asio::awaitable<std::uint64_t> next_baseline_generation();
    // Waits until the baseline of `generation` is complete; throws when it failed.
    boost::asio::awaitable<void> wait_baseline_done(std::uint64_t generation);
    boost::asio::awaitable<void> set_paused(bool paused);
    // Marks the pipeline ERROR (policy decisions made elsewhere, e.g. stop_source).
    boost::asio::awaitable<void> fail(std::string why);
    // Applies everything buffered (paused or not) and waits until done.
    boost::asio::awaitable<void> drain();
    // Calls target->on_close, state STOPPED, ends the consumer.
    boost::asio::awaitable<void> close();
    // Ends the consumer at once, dropping what is buffered (after the shutdown timeout).
    void abort();

    // --- Maintenance: each runs on the strand between batches, never beside a change. ---

    // The target's rows and the position they are consistent with, for a snapshot; nullopt
    // when the pipeline is not STREAMING or PAUSED. Throws what the target throws.
    boost::asio::awaitable<std::optional<snapshot_table>> export_table();
    // Loads a snapshot's rows into the target and resumes after `pos` (like resume_from).
    boost::asio::awaitable<void> restore_table(snapshot_table table, position pos);
    // Applies the pipeline's dead letters in order, removing each one applied; stops at the
    // first failure (throws, naming how many were applied). Returns how many were applied.
    boost::asio::awaitable<std::size_t> replay_dead_letters();
    // Compares the expected row count with the target's now (the observer hears the result).
    boost::asio::awaitable<void> validate_now();
    // Removes the stored rows that have expired; returns how many.
    boost::asio::awaitable<std::size_t> expire_now();
    // Brings an ERROR pipeline back for a reload: it takes changes again (held until the
    // reload's baseline ends). False when it cannot come back (stopped or closed).
    boost::asio::awaitable<bool> revive();

  private:
    // A maintenance operation queued for the consumer, and how its caller hears the result.
    struct task_state {
        bool done = false;
        std::exception_ptr failure;
    };
    struct pending_task {
        std::function<boost::asio::awaitable<void>()> run;
        std::shared_ptr<task_state> state;
    };
    // Queues `run` for the consumer and waits (on the strand) until it has run.
    boost::asio::awaitable<void> run_exclusive(std::function<boost::asio::awaitable<void>()> run);
    boost::asio::awaitable<void> run_task(pending_task task);
    void fail_pending_tasks();

    boost::asio::awaitable<void> export_into(std::shared_ptr<std::optional<snapshot_table>> out);
    boost::asio::awaitable<void> restore_into(std::shared_ptr<snapshot_table> table, position pos);
    boost::asio::awaitable<void> replay_into(std::shared_ptr<std::size_t> applied);
    boost::asio::awaitable<void> validate_into();
    boost::asio::awaitable<void> expire_into(std::shared_ptr<std::size_t> removed);
    boost::asio::awaitable<void> ttl_scan_loop();
    boost::asio::awaitable<void> validation_loop();
    // Writes the change that failed to the dead-letter store (when one is configured).
    void write_dead_letter(const change_event& change, const std::exception_ptr& failure,
                           int attempts);
    // Tries each change alone after a batch failed for good; returns the index of the one
    // that fails and its failure, or nullopt when each applied alone.
    boost::asio::awaitable<std::optional<std::pair<std::size_t, std::exception_ptr>>>
    isolate_failure(std::span<const change_event> changes);
    void count_applied(std::span<const change_event> changes);
    // TTL: when the row expires (nullopt: never), and whether it has by `now`.
    bool has_ttl() const noexcept;
    bool expired(const row& r, std::chrono::system_clock::time_point now) const;
    void validate(const char* when);
    // Asks the target about rows with new columns (docs/design.md "Schema changes").
    boost::asio::awaitable<void> adopt_columns(schema_ptr schema);

    boost::asio::awaitable<void> consume();
    boost::asio::awaitable<void> push_changes_on_strand(change_work work);
    boost::asio::awaitable<void> push_baseline_on_strand(baseline_work work);
    boost::asio::awaitable<void> process_baseline(baseline_work work);
    boost::asio::awaitable<void> process_changes(change_work work);
    boost::asio::awaitable<void> apply_with_retries(std::span<const change_event> changes);
    boost::asio::awaitable<void> handle_overflow(std::size_t incoming);

    // Filters and transforms one baseline row; nullopt when it does not belong.
    std::optional<row> shape_row(row r) const;
    bool included(const row& r) const;
    std::optional<row> transformed(row r) const;
    bool needs_rewrite(const change_event& e) const;
    // Applies TOAST merging, filter crossings (docs/design.md "Filters") and transforms; appends
    // the change(s) the target must see to `out`.
    void rewrite(const change_event& e, std::vector<change_event>& out) const;

    bool fits(std::size_t events, std::size_t bytes) const noexcept;
    bool out_of_service() const noexcept { return machine_.out_of_service(); }
    void set_applied(const position& p);
    // Does what the machine answered: tells the observer and the runner, confirms, drops the
    // buffer, arms the recovery timer.
    void execute(const pipeline_machine::actions& actions);
    // Drops everything buffered and wakes every waiter (nothing more will be applied).
    void drop_buffered();
    // Confirms `pos` for the ACK when the target says it is durable there.
    void confirm_applied(const position& pos);
    void failed(error_policy policy, const std::string& why);
    // Calls the machine's recovery_due() after `delay`.
    void arm_recovery(std::chrono::milliseconds delay);
    void report_depth();

    const std::size_t index_;
    const std::string id_;
    const std::string source_id_;
    const table_identifier table_;
    const std::shared_ptr<sync_target> target_;
    const pipeline_options options_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    const sync_source* const source_;
    // Keeps the observer and the dead-letter store alive while the pipeline finishes.
    const std::shared_ptr<const engine_options> engine_;
    engine_observer* const observer_;
    dead_letter_store* const dead_letters_;
    const pipeline_hooks hooks_;
    schema_ptr source_schema_;  // set by init_target
    schema_ptr target_schema_;  // the source's columns after the transforms

    // Strand-confined.
    pipeline_machine machine_;  // the state and every decision about it
    std::deque<change_work> changes_;
    std::deque<baseline_work> baseline_;
    std::size_t queued_events_ = 0;
    std::size_t queued_bytes_ = 0;
    std::size_t queued_baseline_rows_ = 0;
    async_signal work_;        // the consumer waits for work
    async_signal space_;       // producers wait for room
    async_signal idle_;        // drain / reload waiters wait for progress
    bool rebuilding_ = false;  // the baseline loading is a rebuild (commit_rebuild at its end)
    bool draining_ = false;
    bool producers_released_ = false;
    bool processing_ = false;
    bool consumer_done_ = false;
    std::uint64_t baseline_generation_ = 0;
    std::uint64_t completed_generation_ = 0;
    std::string baseline_failure_;
    std::uint64_t baseline_rows_ = 0;
    std::chrono::steady_clock::time_point baseline_started_{};
    std::vector<change_event> scratch_;
    std::deque<pending_task> tasks_;
    std::unique_ptr<boost::asio::steady_timer> ttl_timer_;
    std::unique_ptr<boost::asio::steady_timer> validation_timer_;
    std::unique_ptr<boost::asio::steady_timer> recovery_timer_;
    // What the source sent through the filters: the rows the target should hold. Unknown
    // after a resume from a target that cannot count.
    std::int64_t expected_rows_ = 0;
    bool expected_known_ = false;
    // A reload asked by validation is running: a mismatch right after it only warns.
    bool validation_reload_pending_ = false;
    std::chrono::system_clock::time_point now_{};  // the time TTL is judged against

    // Read from other threads.
    std::atomic<pipeline_state> state_{pipeline_state::initializing};
    std::atomic<bool> stale_{false};
    std::atomic<std::size_t> depth_{0};
    mutable std::mutex applied_mutex_;
    std::optional<position> applied_;
    std::string last_error_;
};

}  // namespace laredo::detail
