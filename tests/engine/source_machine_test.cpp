// The source runner's state machine and the retry backoff, transition by transition, without
// an io_context.
#include "source_machine.hpp"
#include "backoff.hpp"

#include <gtest/gtest.h>

namespace laredo::detail {
namespace {

using namespace std::chrono_literals;
using kind = source_machine::action::kind;
using state = source_machine::state;
using report = source_machine::report;
using clock = source_machine::clock;

const clock::time_point t0{};

retry_policy policy(int attempts, std::chrono::milliseconds reset_after = 0ms) {
    retry_policy p;
    p.initial = 10ms;
    p.multiplier = 2.0;
    p.max = 50ms;
    p.attempts = attempts;
    p.reset_after = reset_after;
    return p;
}

source_machine::failure retryable(std::string message = "connection reset") {
    return {true, false, std::move(message)};
}
source_machine::failure fatal(std::string message = "bad password") {
    return {false, false, std::move(message)};
}

// ---- backoff ----

TEST(backoff, delays_grow_by_the_multiplier_up_to_the_max_then_give_up) {
    backoff b(policy(5));
    EXPECT_EQ(b.failed(t0), 10ms);
    EXPECT_EQ(b.failed(t0), 20ms);
    EXPECT_EQ(b.failed(t0), 40ms);
    EXPECT_EQ(b.failed(t0), 50ms);
    EXPECT_EQ(b.failed(t0), 50ms);
    EXPECT_EQ(b.failed(t0), std::nullopt);
    EXPECT_EQ(b.retries(), 5);
}

TEST(backoff, success_starts_over) {
    backoff b(policy(2));
    EXPECT_EQ(b.failed(t0), 10ms);
    EXPECT_EQ(b.failed(t0), 20ms);
    b.succeeded();
    EXPECT_EQ(b.failed(t0), 10ms);
}

TEST(backoff, an_attempt_healthy_for_reset_after_fails_anew) {
    backoff b(policy(1, 1s));
    b.started(t0);
    EXPECT_EQ(b.failed(t0 + 10ms), 10ms);
    b.started(t0 + 20ms);
    EXPECT_EQ(b.failed(t0 + 30ms), std::nullopt);  // short-lived: the same outage
    b.started(t0 + 40ms);
    EXPECT_EQ(b.failed(t0 + 2s), 10ms);  // ran for longer than reset_after
}

TEST(backoff, unlimited_attempts_and_jitter_within_its_bounds) {
    retry_policy p = policy(-1);
    p.jitter = 0.5;
    backoff b(p);
    for (int i = 0; i < 100; ++i) {
        const auto d = b.failed(t0);
        ASSERT_TRUE(d.has_value());
        const auto base = std::min<std::int64_t>(10 << std::min(i, 10), 50);
        EXPECT_GE(d->count(), base / 2) << i;
        EXPECT_LE(d->count(), base * 3 / 2) << i;
    }
}

// ---- source machine ----

TEST(source_machine, happy_path_from_start_to_close) {
    source_machine m(policy(3));
    auto s = m.start(t0);
    EXPECT_EQ(s.next.what, kind::init);
    EXPECT_EQ(m.current(), state::initializing);
    s = m.init_succeeded();
    EXPECT_EQ(s.next.what, kind::validate);
    ASSERT_EQ(s.reports.size(), 1u);
    EXPECT_EQ(s.reports[0].what, report::kind::connected);
    s = m.validated(true);
    EXPECT_EQ(s.next.what, kind::resume);
    s = m.resumed(std::nullopt, t0);
    EXPECT_EQ(s.next.what, kind::restore);
    EXPECT_EQ(m.current(), state::restoring);
    s = m.restored(std::nullopt, false, t0);
    EXPECT_EQ(s.next.what, kind::baseline);
    EXPECT_FALSE(s.next.rebuild);
    s = m.baseline_succeeded(position::from_sequence(7), t0);
    EXPECT_EQ(s.next.what, kind::stream);
    EXPECT_EQ(s.next.from, position::from_sequence(7));
    EXPECT_FALSE(s.next.rewind);
    EXPECT_EQ(m.current(), state::streaming);
    s = m.stream_ended();
    EXPECT_EQ(s.next.what, kind::wait_for_stop);
    EXPECT_EQ(m.current(), state::idle);
    s = m.stop_reached();
    EXPECT_EQ(s.next.what, kind::finish);
    EXPECT_EQ(m.current(), state::stopping);
    m.closed();
    EXPECT_EQ(m.current(), state::closed);
}

TEST(source_machine, resume_streams_from_the_targets_position) {
    source_machine m(policy(3));
    m.start(t0);
    m.init_succeeded();
    m.validated(true);
    auto s = m.resumed(position::from_sequence(42), t0);
    EXPECT_EQ(s.next.what, kind::stream);
    EXPECT_EQ(s.next.from, position::from_sequence(42));
}

TEST(source_machine, failed_partial_restore_baselines_with_a_rebuild) {
    source_machine m(policy(3));
    m.start(t0);
    m.init_succeeded();
    m.validated(true);
    m.resumed(std::nullopt, t0);
    auto s = m.restored(std::nullopt, true, t0);
    EXPECT_EQ(s.next.what, kind::baseline);
    EXPECT_TRUE(s.next.rebuild);
}

TEST(source_machine, retryable_init_failure_backs_off_then_fails_the_pipelines) {
    source_machine m(policy(2));
    m.start(t0);
    auto s = m.init_failed(retryable(), t0);
    EXPECT_EQ(s.next.what, kind::sleep);
    EXPECT_EQ(s.next.delay, 10ms);
    EXPECT_EQ(m.current(), state::backing_off);
    ASSERT_EQ(s.reports.size(), 1u);
    EXPECT_EQ(s.reports[0].what, report::kind::disconnected);
    EXPECT_EQ(s.reports[0].text, "init failed: connection reset");
    s = m.slept(t0);
    EXPECT_EQ(s.next.what, kind::init);
    EXPECT_EQ(m.current(), state::initializing);
    s = m.init_failed(retryable(), t0);
    EXPECT_EQ(s.next.delay, 20ms);
    m.slept(t0);
    s = m.init_failed(retryable(), t0);
    EXPECT_EQ(s.next.what, kind::fail_pipelines);
    EXPECT_EQ(s.next.why, "init failed: connection reset");
    s = m.pipelines_failed();
    EXPECT_EQ(s.next.what, kind::wait_for_stop);
}

TEST(source_machine, fatal_init_failure_fails_the_pipelines_at_once) {
    source_machine m(policy(5));
    m.start(t0);
    auto s = m.init_failed(fatal(), t0);
    EXPECT_EQ(s.next.what, kind::fail_pipelines);
    EXPECT_EQ(s.next.why, "init failed: bad password");
}

TEST(source_machine, init_retries_do_not_count_against_the_baseline) {
    source_machine m(policy(1));
    m.start(t0);
    m.init_failed(retryable(), t0);
    m.slept(t0);
    m.init_succeeded();
    m.validated(true);
    m.resumed(std::nullopt, t0);
    m.restored(std::nullopt, false, t0);
    auto s = m.baseline_failed(retryable("copy broke"), t0);
    EXPECT_EQ(s.next.what, kind::sleep);
    s = m.slept(t0);
    EXPECT_EQ(s.next.what, kind::baseline);
    EXPECT_TRUE(s.next.rebuild);  // no row of the broken attempt survives
    s = m.baseline_failed(retryable("copy broke"), t0);
    EXPECT_EQ(s.next.what, kind::fail_baseline);
    EXPECT_EQ(s.next.why, "baseline failed: copy broke");
}

TEST(source_machine, validation_failure_or_no_live_pipeline_ends_the_source) {
    source_machine a(policy(3));
    a.start(t0);
    a.init_succeeded();
    auto s = a.validate_failed("permission denied");
    EXPECT_EQ(s.next.what, kind::fail_pipelines);
    EXPECT_EQ(s.next.why, "validate failed: permission denied");
    source_machine b(policy(3));
    b.start(t0);
    b.init_succeeded();
    EXPECT_EQ(b.validated(false).next.what, kind::wait_for_stop);
}

source_machine streaming(retry_policy p, position from = position::from_sequence(5)) {
    source_machine m(p);
    m.start(t0);
    m.init_succeeded();
    m.validated(true);
    m.resumed(from, t0);
    return m;
}

TEST(source_machine, stream_failure_retries_from_the_ack_with_a_rewind) {
    auto m = streaming(policy(2));
    auto s = m.stream_failed(retryable(), false, position::from_sequence(9), t0);
    EXPECT_EQ(s.next.what, kind::sleep);
    EXPECT_EQ(s.reports[0].text, "stream error: connection reset");
    s = m.slept(t0);
    EXPECT_EQ(s.next.what, kind::stream);
    EXPECT_TRUE(s.next.rewind);
    EXPECT_EQ(s.next.from, position::from_sequence(9));
    // Without an ACK yet, from where the stream started.
    s = m.stream_failed(retryable(), false, std::nullopt, t0);
    s = m.slept(t0);
    EXPECT_EQ(s.next.from, position::from_sequence(9));
    s = m.stream_failed(retryable(), false, std::nullopt, t0);
    EXPECT_EQ(s.next.what, kind::fail_pipelines);
    EXPECT_EQ(s.next.why, "stream error: connection reset");
}

TEST(source_machine, stream_that_made_progress_fails_anew) {
    auto m = streaming(policy(1));
    auto s = m.stream_failed(retryable(), false, std::nullopt, t0);
    EXPECT_EQ(s.next.what, kind::sleep);
    m.slept(t0);
    s = m.stream_failed(retryable(), true, std::nullopt, t0);  // delivered changes first
    EXPECT_EQ(s.next.what, kind::sleep);
    EXPECT_EQ(s.next.delay, 10ms);
    m.slept(t0);
    s = m.stream_failed(retryable(), false, std::nullopt, t0);
    EXPECT_EQ(s.next.what, kind::fail_pipelines);
}

TEST(source_machine, stream_healthy_for_reset_after_fails_anew) {
    auto m = streaming(policy(1, 1s));
    m.stream_failed(retryable(), false, std::nullopt, t0 + 10ms);
    m.slept(t0 + 20ms);
    auto s = m.stream_failed(retryable(), false, std::nullopt, t0 + 5s);
    EXPECT_EQ(s.next.what, kind::sleep);
}

TEST(source_machine, rebaseline_required_rebuilds_every_table) {
    auto m = streaming(policy(1));
    auto s = m.stream_failed({false, true, "slot lost"}, false, std::nullopt, t0);
    EXPECT_EQ(s.next.what, kind::baseline);
    EXPECT_TRUE(s.next.rebuild);
    EXPECT_EQ(m.current(), state::baselining);
    ASSERT_EQ(s.reports.size(), 1u);
    EXPECT_EQ(s.reports[0].what, report::kind::rebaseline_triggered);
    EXPECT_EQ(s.reports[0].text, "slot lost");
    s = m.baseline_succeeded(position::from_sequence(20), t0);
    EXPECT_EQ(s.next.what, kind::stream);
    EXPECT_EQ(s.next.from, position::from_sequence(20));
    EXPECT_FALSE(s.next.rewind);
}

TEST(source_machine, stop_ends_whatever_runs_without_a_retry) {
    source_machine a(policy(5));
    a.start(t0);
    a.stop_requested();
    EXPECT_EQ(a.init_failed(retryable(), t0).next.what, kind::finish);
    EXPECT_EQ(a.current(), state::stopping);

    auto b = streaming(policy(5));
    b.stream_failed(retryable(), false, std::nullopt, t0);  // backing off
    b.stop_requested();
    EXPECT_EQ(b.slept(t0).next.what, kind::finish);

    auto c = streaming(policy(5));
    c.stop_requested();
    EXPECT_EQ(c.stream_ended().next.what, kind::finish);

    source_machine d(policy(5));
    d.stop_requested();
    EXPECT_EQ(d.start(t0).next.what, kind::finish);
}

TEST(source_machine, halted_source_neither_retries_nor_streams_again) {
    auto m = streaming(policy(5));
    m.halt();
    EXPECT_TRUE(m.halted());
    auto s = m.stream_failed(retryable(), false, std::nullopt, t0);
    EXPECT_EQ(s.next.what, kind::wait_for_stop);
    EXPECT_EQ(m.current(), state::idle);
    EXPECT_EQ(m.stop_reached().next.what, kind::finish);
}

}  // namespace
}  // namespace laredo::detail
