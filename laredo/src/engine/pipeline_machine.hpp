#pragma once

#include "backoff.hpp"

#include "laredo/position.hpp"
#include "laredo/types.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::detail {

// The life of one pipeline, as a state machine without I/O: its driver (pipeline.cpp) feeds
// it what happened (a baseline began or ended, a batch failed, the buffer overflowed, a pause,
// a timer fired) and does what it answers (tell the observer and the runner, confirm a
// position, drop the buffer, schedule a recovery, ask for a reload). It also answers the
// driver's questions: may a change be applied now, must a producer wait, which re-delivered
// changes to skip.
//
//  initializing --baseline_begin--> baselining --baseline_end--> streaming <--pause/resume-->
//  paused
//       |                               ^   ^                      |    ^
//       +--resumed / restored-----------|---|----------------------+    | baseline_end
//                                       |   +-- columns changed ----> awaiting_rebuild
//                                       | baseline_begin (reload)          (a reload's begin)
//  any state except stopped --failed--> error --revive (reload)--> initializing
//  any state --closed--> stopped
//
// docs/engine-state-machines.md describes every transition.
class pipeline_machine {
  public:
    enum class state : std::uint8_t {
        initializing,      // before its first baseline, resume or restore
        baselining,        // a baseline is loading; changes wait in the buffer
        streaming,         // applying changes
        paused,            // applying nothing: the buffer fills and the source meets backpressure
        awaiting_rebuild,  // its columns changed, the target asked for a re-baseline: changes
                           // are not applied (the reload's baseline brings them) until it begins
        error,             // failed: takes nothing, out of the ACK until a reload
        stopped,           // closed
    };

    struct action {
        enum class kind : std::uint8_t {
            state_changed,      // `from` -> `to` (public states): tell the observer
            reached_streaming,  // the first time: the engine counts it for readiness
            entered_error,      // readiness waiters re-check
            leave_ack,          // the runner stops counting it in the ACK
            join_ack,           // ... and counts it again
            drop_buffer,        // nothing more will be applied: producers must not wait
            notify_failed,      // the runner applies `policy` with `why`
            schedule_recovery,  // call recovery_due() after `delay`
            request_reload,     // the runner reloads the table, saying `why`
            confirm,            // `pos` is applied (durable targets confirm it)
        };
        kind what;
        pipeline_state from = pipeline_state::initializing;
        pipeline_state to = pipeline_state::initializing;
        error_policy policy = error_policy::isolate;
        std::string why;
        position pos;
        std::chrono::milliseconds delay{0};
    };
    using actions = std::vector<action>;

    using clock = backoff::clock;

    // `recovery`: when and how often a failed or stale pipeline reloads by itself (initial 0:
    // never). `apply`: retries of a batch the target refused.
    pipeline_machine(std::string id, retry_policy recovery, retry_policy apply);

    state current() const noexcept { return state_; }
    // What the engine reports: awaiting_rebuild shows as streaming (or paused).
    pipeline_state public_state() const noexcept;
    bool out_of_service() const noexcept {
        return state_ == state::error || state_ == state::stopped;
    }
    bool closed() const noexcept { return closed_; }
    bool stale() const noexcept { return stale_; }
    bool in_ack() const noexcept { return in_ack_; }
    bool paused() const noexcept { return pause_requested_; }
    const std::string& last_error() const noexcept { return last_error_; }

    // --- questions from the driver ---

    // A baseline is queued or loading: changes wait behind it.
    bool holding_changes() const noexcept { return baseline_pending_; }
    // The consumer may apply a change now (`draining`: a stop applies what is buffered even
    // when paused).
    bool may_apply(bool draining) const noexcept;
    // A producer facing a full buffer waits for room (instead of the buffer policy).
    bool producer_waits(buffer_policy policy) const noexcept;
    // Changes at or before this position were applied already (or are in the baseline).
    const std::optional<position>& skip_through() const noexcept { return skip_through_; }
    void passed_skip_point() noexcept { skip_through_.reset(); }
    bool discarding_changes() const noexcept { return state_ == state::awaiting_rebuild; }

    // --- events ---

    actions baseline_queued();
    actions baseline_begin();
    actions baseline_end(const position& pos);
    actions baseline_failed(const std::string& why, clock::time_point now);
    // Resumed from the target's own position, or restored from a snapshot at `pos`.
    actions resumed(const position& pos);
    // A failure of this pipeline (a batch still failing, a refused change, a target error):
    // `policy` says what the runner does about its siblings.
    actions failed(error_policy policy, const std::string& why, clock::time_point now);
    // The runner puts it in ERROR (its source failed, or an error policy elsewhere): nothing
    // is reported back to the runner.
    actions fail_requested(const std::string& why);
    // The buffer was full and the policy was not block: `refused` when the change was
    // refused (policy error), otherwise the oldest changes were dropped.
    actions overflowed(bool refused, error_policy on_error, const std::string& why,
                       clock::time_point now);
    actions set_paused(bool paused);
    // The columns changed and the target answered.
    actions columns_changed(schema_change_action answer, error_policy on_error,
                            const std::string& description, clock::time_point now);
    // The source will re-deliver from before `applied`.
    void rewind(const std::optional<position>& applied) { skip_through_ = applied; }
    // A batch was applied; `confirm`: the end of its last whole transaction (may be empty).
    actions applied(const position& confirm);
    // A new batch is about to be applied (its retries count from zero).
    void apply_started() { apply_retry_.succeeded(); }
    // The batch failed: the delay before retrying it, or nullopt to give up.
    std::optional<std::chrono::milliseconds> apply_failed(bool retryable, clock::time_point now);
    actions recovery_due();
    // A reload wants it back: false when it cannot come back (closed).
    bool revive(actions& out);
    actions close_requested();
    actions closed_done();

  private:
    void move_to(state s, actions& out);
    // Tells the observer (and readiness) when the public state differs from `before`.
    void publish(pipeline_state before, actions& out);
    void schedule_recovery(actions& out, clock::time_point now);
    // To ERROR (why), out of the ACK, the buffer dropped.
    void enter_error(const std::string& why, actions& out);
    void leave_ack(actions& out);

    std::string id_;
    state state_ = state::initializing;
    bool pause_requested_ = false;
    bool baseline_pending_ = false;
    bool closed_ = false;
    bool in_ack_ = true;
    bool stale_ = false;
    bool reached_streaming_ = false;
    bool recovery_scheduled_ = false;
    bool recovery_enabled_;
    std::optional<position> skip_through_;
    std::string last_error_;
    backoff recovery_;
    backoff apply_retry_;
};

std::string_view to_string(pipeline_machine::state s) noexcept;

}  // namespace laredo::detail
