#pragma once

#include "backoff.hpp"

#include "laredo/position.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::detail {

// The life of one source, as a state machine without I/O: the source runner feeds it what
// happened (a call into the source returned or failed, a backoff elapsed, a stop was asked)
// and does what it answers (call the source, sleep, fail the pipelines, report). Every retry
// of the source (init, baseline, stream) goes through its one backoff.
//
//   created -> initializing -> validating -> resuming -> restoring -> baselining -> streaming
//                  ^   |                        |            |             ^  |        |  ^
//                  backing_off (init)           +--------> streaming <-----+  |        |  |
//                                                                             |        v  |
//                                                   backing_off (baseline) <--+  backing_off
//                                                   (stream)
//   any state --(a final failure)--> idle;  any state --(stop)--> stopping -> closed
//
// docs/engine-state-machines.md draws it in full.
class source_machine {
  public:
    enum class state : std::uint8_t {
        created,
        initializing,  // source.init()
        validating,    // targets' on_init, source.validate_tables()
        resuming,      // can the source stream from the targets' own positions?
        restoring,     // from the snapshot loaded at start
        baselining,    // source.baseline() of every table
        streaming,     // source.stream()
        backing_off,   // waiting before retrying init, baseline or stream
        idle,          // nothing more to do until the engine stops (ended, or failed for good)
        stopping,      // stop asked: the call in flight ends, then finish
        closed,        // finished: drained, final ACK, closed
    };

    // What the runner does next.
    struct action {
        enum class kind : std::uint8_t {
            init,
            validate,
            resume,
            restore,
            baseline,        // `rebuild`: the targets build the new copy beside the old
            stream,          // from `from`; `rewind`: pipelines skip what they applied
            sleep,           // `delay`, then call slept()
            fail_pipelines,  // every live pipeline to ERROR with `why`, then idle
            fail_baseline,   // the pipelines of the failed baseline to ERROR with `why`
            wait_for_stop,   // nothing to do until stop_requested()
            finish,          // drain, final ACK, close; then closed()
        };
        kind what = kind::wait_for_stop;
        position from;
        bool rebuild = false;
        bool rewind = false;
        std::chrono::milliseconds delay{0};
        std::string why;
    };

    // What the observer hears, in order, before the action runs.
    struct report {
        enum class kind : std::uint8_t { connected, disconnected, rebaseline_triggered };
        kind what;
        std::string text;
    };

    struct step {
        std::vector<report> reports;
        action next;
    };

    // How a call into the source failed.
    struct failure {
        bool retryable = false;            // transient: retrying may help
        bool rebaseline_required = false;  // stream only: the source needs a new baseline
        std::string message;
    };

    using clock = backoff::clock;

    explicit source_machine(retry_policy policy);

    state current() const noexcept { return state_; }
    bool stopping() const noexcept { return stop_requested_; }

    step start(clock::time_point now);
    step init_succeeded();
    step init_failed(const failure& f, clock::time_point now);
    // `live`: some pipeline is still in service after the targets' init and the validation.
    step validated(bool live);
    step validate_failed(const std::string& message);
    // The position every resumed pipeline can stream from, or nullopt to try a restore.
    step resumed(std::optional<position> from, clock::time_point now);
    // `partial`: some target took rows before the restore failed (the baseline rebuilds).
    step restored(std::optional<position> from, bool partial, clock::time_point now);
    step baseline_succeeded(position end, clock::time_point now);
    step baseline_failed(const failure& f, clock::time_point now);
    // The stream returned by itself (or was cancelled): nothing more will come.
    step stream_ended();
    // `progressed`: it delivered changes before failing. `resume_from`: where to stream
    // again (the last ACK), when known.
    step stream_failed(const failure& f, bool progressed, std::optional<position> resume_from,
                       clock::time_point now);
    step slept(clock::time_point now);
    // The pipelines were failed (fail_pipelines, fail_baseline done), or none is in service
    // any more.
    step pipelines_failed();
    // The engine stops: the runner cancels the call in flight, whose outcome then leads to
    // finish; a runner waiting for the stop calls stop_reached().
    void stop_requested() noexcept { stop_requested_ = true; }
    step stop_reached();
    // The error policy stop_source/stop_all halted the source: its stream ends, no reload.
    void halt() noexcept { halted_ = true; }
    bool halted() const noexcept { return halted_; }
    void closed() noexcept { state_ = state::closed; }

  private:
    step go(action next, state s, std::vector<report> reports = {});
    // Sleeps then `retry` while the backoff allows, else `give_up`.
    step retry_or_fail(action retry, const action& give_up, clock::time_point now,
                       std::vector<report> reports);
    step idle(std::vector<report> reports = {});
    step finish();

    state state_ = state::created;
    backoff backoff_;
    action after_sleep_;  // what a backoff retries
    position last_from_;  // where the last stream started
    bool stop_requested_ = false;
    bool halted_ = false;
};

std::string_view to_string(source_machine::state s) noexcept;

}  // namespace laredo::detail
