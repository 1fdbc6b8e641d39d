#include "source_machine.hpp"

namespace laredo::detail {

using kind = source_machine::action::kind;

std::string_view to_string(source_machine::state s) noexcept {
    switch (s) {
        case source_machine::state::created:
            return "created";
        case source_machine::state::initializing:
            return "initializing";
        case source_machine::state::validating:
            return "validating";
        case source_machine::state::resuming:
            return "resuming";
        case source_machine::state::restoring:
            return "restoring";
        case source_machine::state::baselining:
            return "baselining";
        case source_machine::state::streaming:
            return "streaming";
        case source_machine::state::backing_off:
            return "backing_off";
        case source_machine::state::idle:
            return "idle";
        case source_machine::state::stopping:
            return "stopping";
        case source_machine::state::closed:
            return "closed";
    }
    return "unknown";
}

namespace {

source_machine::action make(kind what) {
    source_machine::action a;
    a.what = what;
    return a;
}

source_machine::report disconnected(std::string text) {
    return {source_machine::report::kind::disconnected, std::move(text)};
}

source_machine::state state_of(kind what) {
    switch (what) {
        case kind::init:
            return source_machine::state::initializing;
        case kind::baseline:
            return source_machine::state::baselining;
        default:
            return source_machine::state::streaming;
    }
}

}  // namespace

source_machine::source_machine(retry_policy policy) : backoff_(policy) {}

source_machine::step source_machine::go(action next, state s, std::vector<report> reports) {
    state_ = s;
    if (next.what == kind::stream) last_from_ = next.from;
    return {std::move(reports), std::move(next)};
}

source_machine::step source_machine::finish() { return go(make(kind::finish), state::stopping); }

source_machine::step source_machine::idle(std::vector<report> reports) {
    if (stop_requested_) return {std::move(reports), finish().next};
    return go(make(kind::wait_for_stop), state::idle, std::move(reports));
}

source_machine::step source_machine::retry_or_fail(action retry, const action& give_up,
                                                   clock::time_point now,
                                                   std::vector<report> reports) {
    if (const auto delay = backoff_.failed(now)) {
        after_sleep_ = std::move(retry);
        auto sleep = make(kind::sleep);
        sleep.delay = *delay;
        return go(std::move(sleep), state::backing_off, std::move(reports));
    }
    return go(give_up, state_, std::move(reports));
}

source_machine::step source_machine::start(clock::time_point now) {
    if (stop_requested_) return finish();
    backoff_.started(now);
    return go(make(kind::init), state::initializing);
}

source_machine::step source_machine::init_succeeded() {
    if (stop_requested_) return finish();
    backoff_.succeeded();
    return go(make(kind::validate), state::validating, {{report::kind::connected, {}}});
}

source_machine::step source_machine::init_failed(const failure& f, clock::time_point now) {
    if (stop_requested_) return finish();
    const auto why = "init failed: " + f.message;
    auto give_up = make(kind::fail_pipelines);
    give_up.why = why;
    if (!f.retryable) return go(std::move(give_up), state_, {disconnected(why)});
    return retry_or_fail(make(kind::init), give_up, now, {disconnected(why)});
}

source_machine::step source_machine::validated(bool live) {
    if (stop_requested_) return finish();
    if (!live || halted_) return idle();
    return go(make(kind::resume), state::resuming);
}

source_machine::step source_machine::validate_failed(const std::string& message) {
    if (stop_requested_) return finish();
    auto fail = make(kind::fail_pipelines);
    fail.why = "validate failed: " + message;
    auto text = fail.why;
    return go(std::move(fail), state_, {disconnected(std::move(text))});
}

source_machine::step source_machine::resumed(std::optional<position> from, clock::time_point now) {
    if (stop_requested_) return finish();
    if (halted_) return idle();
    if (!from) return go(make(kind::restore), state::restoring);
    auto stream = make(kind::stream);
    stream.from = std::move(*from);
    backoff_.started(now);
    return go(std::move(stream), state::streaming);
}

source_machine::step source_machine::restored(std::optional<position> from, bool partial,
                                              clock::time_point now) {
    if (stop_requested_) return finish();
    if (halted_) return idle();
    if (from) return resumed(std::move(from), now);
    auto baseline = make(kind::baseline);
    baseline.rebuild = partial;  // rows of the partial restore must not linger
    backoff_.started(now);
    return go(std::move(baseline), state::baselining);
}

source_machine::step source_machine::baseline_succeeded(position end, clock::time_point now) {
    if (stop_requested_) return finish();
    if (halted_) return idle();
    backoff_.succeeded();
    auto stream = make(kind::stream);
    stream.from = std::move(end);
    backoff_.started(now);
    return go(std::move(stream), state::streaming);
}

source_machine::step source_machine::baseline_failed(const failure& f, clock::time_point now) {
    if (stop_requested_) return finish();
    if (halted_) return idle();
    const auto why = "baseline failed: " + f.message;
    auto give_up = make(kind::fail_baseline);
    give_up.why = why;
    if (!f.retryable) return go(std::move(give_up), state_, {disconnected(why)});
    // The next attempt rebuilds, so rows of the partial attempt cannot linger.
    auto again = make(kind::baseline);
    again.rebuild = true;
    return retry_or_fail(std::move(again), give_up, now, {disconnected(why)});
}

source_machine::step source_machine::stream_ended() {
    if (stop_requested_) return finish();
    return idle();
}

source_machine::step source_machine::stream_failed(const failure& f, bool progressed,
                                                   std::optional<position> resume_from,
                                                   clock::time_point now) {
    if (stop_requested_) return finish();
    if (halted_) return idle();
    // A stream that made progress before it failed is a new outage, not the same one.
    if (progressed) backoff_.succeeded();
    if (f.rebaseline_required) {
        backoff_.succeeded();
        auto baseline = make(kind::baseline);
        baseline.rebuild = true;
        backoff_.started(now);
        return go(std::move(baseline), state::baselining,
                  {{report::kind::rebaseline_triggered, f.message}});
    }
    const auto why = "stream error: " + f.message;
    auto give_up = make(kind::fail_pipelines);
    give_up.why = why;
    if (!f.retryable) return go(std::move(give_up), state_, {disconnected(why)});
    // Stream again from what every pipeline has durably applied; pipelines skip the part
    // they applied already.
    auto again = make(kind::stream);
    again.rewind = true;
    again.from = resume_from ? std::move(*resume_from) : last_from_;
    return retry_or_fail(std::move(again), give_up, now, {disconnected(why)});
}

source_machine::step source_machine::slept(clock::time_point now) {
    if (stop_requested_) return finish();
    if (halted_) return idle();
    backoff_.started(now);
    return go(after_sleep_, state_of(after_sleep_.what));
}

source_machine::step source_machine::pipelines_failed() { return idle(); }

source_machine::step source_machine::stop_reached() {
    stop_requested_ = true;
    return finish();
}

}  // namespace laredo::detail
