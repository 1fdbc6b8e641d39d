#include "pipeline_machine.hpp"

#include <fmt/format.h>

namespace laredo::detail {

using kind = pipeline_machine::action::kind;

std::string_view to_string(pipeline_machine::state s) noexcept {
    switch (s) {
        case pipeline_machine::state::initializing:
            return "initializing";
        case pipeline_machine::state::baselining:
            return "baselining";
        case pipeline_machine::state::streaming:
            return "streaming";
        case pipeline_machine::state::paused:
            return "paused";
        case pipeline_machine::state::awaiting_rebuild:
            return "awaiting_rebuild";
        case pipeline_machine::state::error:
            return "error";
        case pipeline_machine::state::stopped:
            return "stopped";
    }
    return "unknown";
}

namespace {

pipeline_machine::action make(kind what) {
    pipeline_machine::action a;
    a.what = what;
    return a;
}

}  // namespace

pipeline_machine::pipeline_machine(std::string id, retry_policy recovery, retry_policy apply)
    : id_(std::move(id)),
      recovery_enabled_(recovery.initial.count() > 0),
      recovery_(recovery),
      apply_retry_(apply) {}

pipeline_state pipeline_machine::public_state() const noexcept {
    switch (state_) {
        case state::initializing:
            return pipeline_state::initializing;
        case state::baselining:
            return pipeline_state::baselining;
        case state::streaming:
            return pipeline_state::streaming;
        case state::paused:
            return pipeline_state::paused;
        case state::awaiting_rebuild:
            return pause_requested_ ? pipeline_state::paused : pipeline_state::streaming;
        case state::error:
            return pipeline_state::error;
        case state::stopped:
            return pipeline_state::stopped;
    }
    return pipeline_state::error;
}

void pipeline_machine::publish(pipeline_state before, actions& out) {
    const auto now = public_state();
    if (now == before) return;
    auto changed = make(kind::state_changed);
    changed.from = before;
    changed.to = now;
    out.push_back(std::move(changed));
    if (now == pipeline_state::error) out.push_back(make(kind::entered_error));
    if (now == pipeline_state::streaming && !reached_streaming_) {
        reached_streaming_ = true;
        out.push_back(make(kind::reached_streaming));
    }
}

void pipeline_machine::move_to(state s, actions& out) {
    const auto before = public_state();
    state_ = s;
    publish(before, out);
}

bool pipeline_machine::may_apply(bool draining) const noexcept {
    if (out_of_service() || baseline_pending_) return false;
    if (state_ == state::initializing || state_ == state::baselining) return false;
    return !pause_requested_ || draining;
}

bool pipeline_machine::producer_waits(buffer_policy policy) const noexcept {
    // Paused, or behind a baseline, a pipeline always blocks: nothing is dropped for it.
    return pause_requested_ || baseline_pending_ || policy == buffer_policy::block;
}

pipeline_machine::actions pipeline_machine::baseline_queued() {
    if (!out_of_service() && !closed_) baseline_pending_ = true;
    return {};
}

pipeline_machine::actions pipeline_machine::baseline_begin() {
    actions out;
    if (out_of_service()) return out;
    baseline_pending_ = true;
    move_to(state::baselining, out);
    return out;
}

pipeline_machine::actions pipeline_machine::baseline_end(const position& pos) {
    actions out;
    if (out_of_service()) return out;
    baseline_pending_ = false;
    // Changes the stream delivers up to the baseline's position are already in it.
    skip_through_ = pos;
    stale_ = false;
    recovery_.succeeded();  // recovered: the next recovery waits less
    last_error_.clear();
    if (!in_ack_) {
        in_ack_ = true;
        out.push_back(make(kind::join_ack));
    }
    move_to(pause_requested_ ? state::paused : state::streaming, out);
    auto confirm = make(kind::confirm);
    confirm.pos = pos;
    out.push_back(std::move(confirm));
    return out;
}

pipeline_machine::actions pipeline_machine::baseline_failed(const std::string& why,
                                                            clock::time_point now) {
    baseline_pending_ = false;
    return failed(error_policy::isolate, why, now);
}

pipeline_machine::actions pipeline_machine::resumed(const position& pos) {
    actions out;
    if (out_of_service()) return out;
    skip_through_ = pos;
    move_to(pause_requested_ ? state::paused : state::streaming, out);
    auto confirm = make(kind::confirm);
    confirm.pos = pos;
    out.push_back(std::move(confirm));
    return out;
}

void pipeline_machine::schedule_recovery(actions& out, clock::time_point now) {
    if (!recovery_enabled_ || closed_ || recovery_scheduled_) return;
    const auto delay = recovery_.failed(now);
    if (!delay) return;
    recovery_scheduled_ = true;
    auto schedule = make(kind::schedule_recovery);
    schedule.delay = *delay;
    out.push_back(std::move(schedule));
}

pipeline_machine::actions pipeline_machine::failed(error_policy policy, const std::string& why,
                                                   clock::time_point now) {
    actions out;
    if (state_ == state::stopped) return out;
    enter_error(why, out);
    auto notify = make(kind::notify_failed);
    notify.policy = policy;
    notify.why = why;
    out.push_back(std::move(notify));
    if (policy == error_policy::isolate) schedule_recovery(out, now);
    return out;
}

pipeline_machine::actions pipeline_machine::fail_requested(const std::string& why) {
    actions out;
    if (out_of_service()) return out;
    enter_error(why, out);
    return out;
}

void pipeline_machine::enter_error(const std::string& why, actions& out) {
    last_error_ = why;
    baseline_pending_ = false;
    move_to(state::error, out);
    leave_ack(out);
    // Nothing more will be applied: drop what is buffered so producers never wait on us.
    out.push_back(make(kind::drop_buffer));
}

void pipeline_machine::leave_ack(actions& out) {
    if (!in_ack_) return;
    in_ack_ = false;
    out.push_back(make(kind::leave_ack));
}

pipeline_machine::actions pipeline_machine::overflowed(bool refused, error_policy on_error,
                                                       const std::string& why,
                                                       clock::time_point now) {
    actions out;
    // The first change a pipeline loses takes it out of the ACK and marks its table stale
    // until it re-baselines.
    stale_ = true;
    leave_ack(out);
    schedule_recovery(out, now);
    if (refused) {
        auto more = failed(on_error, why, now);
        out.insert(out.end(), more.begin(), more.end());
    }
    return out;
}

pipeline_machine::actions pipeline_machine::set_paused(bool paused) {
    actions out;
    const auto before = public_state();
    pause_requested_ = paused;
    if (paused && state_ == state::streaming) state_ = state::paused;
    if (!paused && state_ == state::paused) state_ = state::streaming;
    publish(before, out);
    return out;
}

pipeline_machine::actions pipeline_machine::columns_changed(schema_change_action answer,
                                                            error_policy on_error,
                                                            const std::string& description,
                                                            clock::time_point now) {
    actions out;
    switch (answer) {
        case schema_change_action::continue_:
            break;
        case schema_change_action::rebaseline: {
            if (!out_of_service()) move_to(state::awaiting_rebuild, out);
            auto reload = make(kind::request_reload);
            reload.why = description;
            out.push_back(std::move(reload));
            break;
        }
        case schema_change_action::error:
            out = failed(on_error, fmt::format("pipeline {}: {}", id_, description), now);
            break;
    }
    return out;
}

pipeline_machine::actions pipeline_machine::applied(const position& confirm) {
    actions out;
    if (confirm.empty() || out_of_service()) return out;
    auto c = make(kind::confirm);
    c.pos = confirm;
    out.push_back(std::move(c));
    return out;
}

std::optional<std::chrono::milliseconds> pipeline_machine::apply_failed(bool retryable,
                                                                        clock::time_point now) {
    if (!retryable || closed_) return std::nullopt;
    return apply_retry_.failed(now);
}

pipeline_machine::actions pipeline_machine::recovery_due() {
    actions out;
    recovery_scheduled_ = false;
    if (closed_) return out;
    if (state_ != state::error && !stale_) return out;  // recovered meanwhile
    auto reload = make(kind::request_reload);
    reload.why = fmt::format("automatic recovery of pipeline {} ({})", id_,
                             state_ == state::error ? last_error_ : "it dropped changes");
    out.push_back(std::move(reload));
    return out;
}

bool pipeline_machine::revive(actions& out) {
    if (closed_ || state_ == state::stopped) return false;
    if (state_ == state::error) move_to(state::initializing, out);
    return true;
}

pipeline_machine::actions pipeline_machine::close_requested() {
    closed_ = true;
    return {};
}

pipeline_machine::actions pipeline_machine::closed_done() {
    actions out;
    move_to(state::stopped, out);
    return out;
}

}  // namespace laredo::detail
