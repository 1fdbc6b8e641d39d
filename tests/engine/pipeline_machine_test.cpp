// The pipeline's state machine, transition by transition, without an io_context.
#include "pipeline_machine.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace laredo::detail {
namespace {

using namespace std::chrono_literals;
using kind = pipeline_machine::action::kind;
using state = pipeline_machine::state;
using clock = pipeline_machine::clock;

const clock::time_point t0{};

retry_policy recovery(std::chrono::milliseconds initial = 100ms) {
    retry_policy p;
    p.initial = initial;
    p.max = 400ms;
    p.attempts = -1;
    return p;
}

retry_policy apply(int attempts = 2) {
    retry_policy p;
    p.initial = 10ms;
    p.max = 40ms;
    p.attempts = attempts;
    return p;
}

pipeline_machine make(std::chrono::milliseconds recover_after = 100ms) {
    return pipeline_machine("p", recovery(recover_after), apply());
}

std::vector<kind> kinds(const pipeline_machine::actions& a) {
    std::vector<kind> out;
    for (const auto& x : a) out.push_back(x.what);
    return out;
}

const pipeline_machine::action* find(const pipeline_machine::actions& a, kind k) {
    const auto it = std::find_if(a.begin(), a.end(), [&](const auto& x) { return x.what == k; });
    return it == a.end() ? nullptr : &*it;
}

pipeline_machine streaming(std::chrono::milliseconds recover_after = 100ms) {
    auto m = make(recover_after);
    m.baseline_queued();
    m.baseline_begin();
    m.baseline_end(position::from_sequence(1));
    return m;
}

TEST(pipeline_machine, first_baseline_holds_changes_then_streams_and_confirms) {
    auto m = make();
    EXPECT_EQ(m.public_state(), pipeline_state::initializing);
    EXPECT_FALSE(m.may_apply(false));
    m.baseline_queued();
    EXPECT_TRUE(m.holding_changes());
    EXPECT_TRUE(m.producer_waits(buffer_policy::drop_oldest));  // nothing is dropped behind it
    auto a = m.baseline_begin();
    EXPECT_EQ(m.current(), state::baselining);
    ASSERT_NE(find(a, kind::state_changed), nullptr);
    EXPECT_EQ(find(a, kind::state_changed)->to, pipeline_state::baselining);
    EXPECT_FALSE(m.may_apply(true));
    a = m.baseline_end(position::from_sequence(9));
    EXPECT_EQ(kinds(a),
              (std::vector<kind>{kind::state_changed, kind::reached_streaming, kind::confirm}));
    EXPECT_EQ(find(a, kind::confirm)->pos, position::from_sequence(9));
    EXPECT_EQ(m.skip_through(), position::from_sequence(9));
    EXPECT_TRUE(m.may_apply(false));
    EXPECT_FALSE(m.holding_changes());
    EXPECT_FALSE(m.producer_waits(buffer_policy::drop_oldest));
}

TEST(pipeline_machine, reached_streaming_is_reported_once) {
    auto m = streaming();
    m.set_paused(true);
    auto a = m.set_paused(false);
    EXPECT_EQ(kinds(a), (std::vector<kind>{kind::state_changed}));
}

TEST(pipeline_machine, pause_holds_changes_unless_draining) {
    auto m = streaming();
    auto a = m.set_paused(true);
    EXPECT_EQ(m.public_state(), pipeline_state::paused);
    EXPECT_EQ(find(a, kind::state_changed)->to, pipeline_state::paused);
    EXPECT_FALSE(m.may_apply(false));
    EXPECT_TRUE(m.may_apply(true));
    EXPECT_TRUE(m.producer_waits(buffer_policy::drop_oldest));  // paused: backpressure only
    m.set_paused(false);
    EXPECT_TRUE(m.may_apply(false));
}

TEST(pipeline_machine, pause_during_a_baseline_takes_effect_when_it_ends) {
    auto m = make();
    m.baseline_queued();
    m.baseline_begin();
    EXPECT_TRUE(m.set_paused(true).empty());  // still baselining
    auto a = m.baseline_end(position::from_sequence(2));
    EXPECT_EQ(m.public_state(), pipeline_state::paused);
    EXPECT_EQ(find(a, kind::reached_streaming), nullptr);
}

TEST(pipeline_machine, isolated_failure_leaves_the_ack_drops_the_buffer_and_schedules_recovery) {
    auto m = streaming();
    auto a = m.failed(error_policy::isolate, "target down", t0);
    EXPECT_EQ(kinds(a),
              (std::vector<kind>{kind::state_changed, kind::entered_error, kind::leave_ack,
                                 kind::drop_buffer, kind::notify_failed, kind::schedule_recovery}));
    EXPECT_EQ(find(a, kind::schedule_recovery)->delay, 100ms);
    EXPECT_EQ(m.last_error(), "target down");
    EXPECT_TRUE(m.out_of_service());
    EXPECT_FALSE(m.in_ack());
    // The timer fires: a reload is asked for, naming why.
    a = m.recovery_due();
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].what, kind::request_reload);
    EXPECT_EQ(a[0].why, "automatic recovery of pipeline p (target down)");
}

TEST(pipeline_machine, recovery_backs_off_until_a_reload_succeeds) {
    auto m = streaming();
    auto a = m.failed(error_policy::isolate, "x", t0);
    EXPECT_EQ(find(a, kind::schedule_recovery)->delay, 100ms);
    m.recovery_due();
    pipeline_machine::actions revived;
    EXPECT_TRUE(m.revive(revived));
    EXPECT_EQ(m.public_state(), pipeline_state::initializing);
    m.baseline_queued();
    m.baseline_begin();
    a = m.baseline_failed("reload failed", t0);  // the recovery's reload failed again
    EXPECT_EQ(find(a, kind::schedule_recovery)->delay, 200ms);
    m.recovery_due();
    m.revive(revived);
    m.baseline_queued();
    m.baseline_begin();
    a = m.baseline_end(position::from_sequence(5));  // back: rejoins the ACK
    EXPECT_NE(find(a, kind::join_ack), nullptr);
    EXPECT_TRUE(m.in_ack());
    EXPECT_TRUE(m.last_error().empty());
    a = m.failed(error_policy::isolate, "again", t0);
    EXPECT_EQ(find(a, kind::schedule_recovery)->delay, 100ms);  // started over
}

TEST(pipeline_machine, no_recovery_when_it_is_off_or_for_other_policies) {
    auto off = streaming(0ms);
    EXPECT_EQ(find(off.failed(error_policy::isolate, "x", t0), kind::schedule_recovery), nullptr);
    auto stop_source = streaming();
    auto a = stop_source.failed(error_policy::stop_source, "x", t0);
    EXPECT_EQ(find(a, kind::schedule_recovery), nullptr);
    EXPECT_EQ(find(a, kind::notify_failed)->policy, error_policy::stop_source);
}

TEST(pipeline_machine, failure_requested_by_the_runner_reports_nothing_back) {
    auto m = streaming();
    auto a = m.fail_requested("source failed");
    EXPECT_EQ(kinds(a), (std::vector<kind>{kind::state_changed, kind::entered_error,
                                           kind::leave_ack, kind::drop_buffer}));
    EXPECT_TRUE(m.fail_requested("again").empty());  // already out of service
}

TEST(pipeline_machine, dropped_changes_mark_it_stale_and_out_of_the_ack) {
    auto m = streaming();
    auto a = m.overflowed(false, error_policy::isolate, "full", t0);
    EXPECT_EQ(kinds(a), (std::vector<kind>{kind::leave_ack, kind::schedule_recovery}));
    EXPECT_TRUE(m.stale());
    EXPECT_EQ(m.public_state(), pipeline_state::streaming);  // it keeps applying
    a = m.recovery_due();
    EXPECT_EQ(a[0].why, "automatic recovery of pipeline p (it dropped changes)");
    // A refused change (policy error) fails it by its error policy.
    auto r = streaming();
    a = r.overflowed(true, error_policy::stop_all, "refused", t0);
    EXPECT_EQ(find(a, kind::notify_failed)->policy, error_policy::stop_all);
    EXPECT_TRUE(r.out_of_service());
}

TEST(pipeline_machine, changed_columns_wait_for_the_reload_or_fail) {
    auto m = streaming();
    auto a = m.columns_changed(schema_change_action::rebaseline, error_policy::isolate,
                               "columns changed", t0);
    EXPECT_EQ(m.current(), state::awaiting_rebuild);
    EXPECT_TRUE(m.discarding_changes());
    EXPECT_EQ(m.public_state(), pipeline_state::streaming);
    EXPECT_EQ(kinds(a), (std::vector<kind>{kind::request_reload}));
    m.baseline_queued();
    m.baseline_begin();
    EXPECT_FALSE(m.discarding_changes());
    EXPECT_TRUE(
        m.columns_changed(schema_change_action::continue_, error_policy::isolate, "added", t0)
            .empty());
    auto e = streaming();
    a = e.columns_changed(schema_change_action::error, error_policy::isolate, "dropped id", t0);
    EXPECT_EQ(e.last_error(), "pipeline p: dropped id");
}

TEST(pipeline_machine, apply_retries_follow_the_policy_per_batch) {
    auto m = streaming();
    m.apply_started();
    EXPECT_EQ(m.apply_failed(true, t0), 10ms);
    EXPECT_EQ(m.apply_failed(true, t0), 20ms);
    EXPECT_EQ(m.apply_failed(true, t0), std::nullopt);
    m.apply_started();
    EXPECT_EQ(m.apply_failed(true, t0), 10ms);           // a new batch counts from zero
    EXPECT_EQ(m.apply_failed(false, t0), std::nullopt);  // fatal: no retry
}

TEST(pipeline_machine, rewind_and_resume_set_what_to_skip) {
    auto m = make();
    auto a = m.resumed(position::from_sequence(7));
    EXPECT_EQ(m.public_state(), pipeline_state::streaming);
    EXPECT_EQ(find(a, kind::confirm)->pos, position::from_sequence(7));
    EXPECT_EQ(m.skip_through(), position::from_sequence(7));
    m.passed_skip_point();
    EXPECT_FALSE(m.skip_through());
    m.rewind(position::from_sequence(9));
    EXPECT_EQ(m.skip_through(), position::from_sequence(9));
    EXPECT_EQ(kinds(m.applied(position::from_sequence(10))), (std::vector<kind>{kind::confirm}));
    EXPECT_TRUE(m.applied(position()).empty());  // mid-transaction: nothing to confirm
}

TEST(pipeline_machine, closed_pipeline_cannot_come_back) {
    auto m = streaming();
    m.close_requested();
    EXPECT_TRUE(m.closed());
    auto a = m.closed_done();
    EXPECT_EQ(find(a, kind::state_changed)->to, pipeline_state::stopped);
    pipeline_machine::actions out;
    EXPECT_FALSE(m.revive(out));
    EXPECT_TRUE(m.failed(error_policy::isolate, "late", t0).empty());
    EXPECT_TRUE(m.recovery_due().empty());
}

}  // namespace
}  // namespace laredo::detail
