// stream: delivery, positions, batches, backpressure, pause, heartbeats, cancellation.
#include "fixture.hpp"

#include <set>
#include <thread>

namespace laredo::testing {
namespace {

class stream : public threaded {};
LAREDO_THREADED_SUITE(stream);

TEST_P(stream, delivers_injected_changes_in_order_on_the_source_executor) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        recording_handler handler(src.get_executor());
        co_await on_source(src, src.init(config_of(just_users)));
        const auto at = co_await on_source(src, src.baseline(just_users, handler));
        stream_runner run(src, at, handler);

        src.insert(users, user(src, 1, "ann"));
        src.update(users, user(src, 1, "anna"), src.make_row(users, {{"id", 1}}));
        src.remove(users, src.make_row(users, {{"id", 1}}));
        const auto last = src.truncate(users);
        EXPECT_TRUE(co_await src.wait_delivered(last));
        EXPECT_TRUE(co_await run.cancel());
        EXPECT_FALSE(run.failure());

        const auto events = handler.events();
        CO_ASSERT_EQ(events.size(), 4u);
        const std::vector<change_action> actions{change_action::insert, change_action::update,
                                                 change_action::delete_, change_action::truncate};
        for (std::size_t i = 0; i < 4; ++i) {
            EXPECT_EQ(events[i].action, actions[i]);
            EXPECT_EQ(events[i].table, users);
            EXPECT_EQ(events[i].pos, position::from_sequence(i + 1));
            EXPECT_TRUE(events[i].ends_transaction);
            EXPECT_TRUE(events[i].commit_timestamp.has_value());
            EXPECT_NE(events[i].timestamp, std::chrono::system_clock::time_point{});
        }
        EXPECT_EQ(events[0].new_values, user(src, 1, "ann"));
        EXPECT_TRUE(events[0].old_values.empty());
        EXPECT_EQ(events[1].old_values, src.make_row(users, {{"id", 1}}));
        EXPECT_EQ(events[2].identity(), src.make_row(users, {{"id", 1}}));
        EXPECT_NE(events[0].transaction_id, events[1].transaction_id);
        EXPECT_NE(events[0].transaction_id, 0u);
        EXPECT_TRUE(handler.all_calls_on_expected_executor());
        EXPECT_EQ(src.delivered_position(), last);
    });
}

TEST_P(stream, ends_normally_on_terminal_cancellation_and_a_final_ack_still_works) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        recording_handler handler(src.get_executor());
        stream_runner run(src, position::from_sequence(0), handler);
        const auto p = src.insert(users, user(src, 1, "ann"));
        EXPECT_TRUE(co_await src.wait_delivered(p));

        EXPECT_TRUE(co_await run.cancel());
        EXPECT_FALSE(run.failure());
        EXPECT_EQ(src.state(), source_state::connected);
        co_await on_source(src, src.ack(p));
        EXPECT_EQ(src.last_acked(), p);
        // A new stream can start after the old one ended.
        stream_runner again(src, p, handler);
        const auto q = src.insert(users, user(src, 2, "bob"));
        EXPECT_TRUE(co_await src.wait_delivered(q));
        EXPECT_TRUE(co_await again.cancel());
        EXPECT_EQ(handler.event_count(), 2u);
    });
}

TEST_P(stream, delivers_only_changes_after_from) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        for (int id = 1; id <= 5; ++id) src.insert(users, user(src, id, "u"));
        recording_handler handler(src.get_executor());
        stream_runner run(src, position::from_sequence(2), handler);
        EXPECT_TRUE(co_await src.wait_delivered(position::from_sequence(5)));
        EXPECT_TRUE(co_await run.cancel());
        const auto events = handler.events();
        CO_ASSERT_EQ(events.size(), 3u);
        EXPECT_EQ(events[0].pos, position::from_sequence(3));
        EXPECT_EQ(events[2].pos, position::from_sequence(5));
    });
}

TEST_P(stream, delivers_in_batches_of_batch_size) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source_options options;
        options.batch_size = 4;
        ts::test_source src(ctx.get_executor(), options);
        add_users(src);
        for (int id = 1; id <= 10; ++id) src.insert(users, user(src, id, "u"));
        recording_handler handler(src.get_executor());
        stream_runner run(src, position::from_sequence(0), handler);
        EXPECT_TRUE(co_await src.wait_delivered(position::from_sequence(10)));
        EXPECT_TRUE(co_await run.cancel());
        EXPECT_EQ(handler.batch_sizes(), (std::vector<std::size_t>{4, 4, 2}));
    });
}

TEST_P(stream, waits_for_a_full_handler_and_reports_undelivered_changes_as_lag) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source_options options;
        options.batch_size = 1;
        ts::test_source src(ctx.get_executor(), options);
        add_users(src);
        recording_handler handler(src.get_executor());
        handler.close_gate();
        stream_runner run(src, position::from_sequence(0), handler);
        src.insert(users, user(src, 1, "a"));
        src.insert(users, user(src, 2, "b"));
        const auto last = src.insert(users, user(src, 3, "c"));
        std::function<bool()> held = [&] { return handler.waiting_at_gate() == 1; };
        EXPECT_TRUE(co_await eventually(held));
        co_await sleep_for(std::chrono::milliseconds(10));
        EXPECT_EQ(handler.event_count(), 0u);
        EXPECT_EQ(src.lag().lag_bytes, 3);
        EXPECT_FALSE(src.lag().lag_time.has_value());

        handler.open_gate();
        EXPECT_TRUE(co_await src.wait_delivered(last));
        EXPECT_EQ(src.lag().lag_bytes, 0);
        EXPECT_TRUE(co_await run.cancel());
        EXPECT_EQ(handler.event_count(), 3u);
    });
}

TEST_P(stream, pause_holds_delivery_until_resume) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        recording_handler handler(src.get_executor());
        stream_runner run(src, position::from_sequence(0), handler);
        co_await on_source(src, src.pause());
        const auto p = src.insert(users, user(src, 1, "ann"));
        src.heartbeat();
        EXPECT_FALSE(co_await src.wait_delivered(p, std::chrono::milliseconds(30)));
        EXPECT_TRUE(handler.calls().empty());
        EXPECT_EQ(src.state(), source_state::paused);

        co_await on_source(src, src.resume());
        EXPECT_TRUE(co_await src.wait_delivered(p));
        EXPECT_TRUE(co_await run.cancel());
        EXPECT_EQ(handler.event_count(), 1u);
        EXPECT_EQ(src.calls(ts::step::pause), 1u);
        EXPECT_EQ(src.calls(ts::step::resume), 1u);
    });
}

TEST_P(stream, a_stream_started_while_paused_waits_for_resume) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        const auto p = src.insert(users, user(src, 1, "ann"));
        co_await on_source(src, src.pause());
        recording_handler handler(src.get_executor());
        stream_runner run(src, position::from_sequence(0), handler);
        EXPECT_FALSE(co_await src.wait_delivered(p, std::chrono::milliseconds(30)));
        EXPECT_EQ(src.state(), source_state::paused);
        co_await on_source(src, src.resume());
        EXPECT_TRUE(co_await src.wait_delivered(p));
        EXPECT_TRUE(co_await run.cancel());
    });
}

TEST_P(stream, heartbeat_comes_after_pending_changes_at_the_delivered_position) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        for (int id = 1; id <= 3; ++id) src.insert(users, user(src, id, "u"));
        src.heartbeat();
        recording_handler handler(src.get_executor());
        stream_runner run(src, position::from_sequence(0), handler);
        std::function<bool()> beat = [&] { return !handler.heartbeats().empty(); };
        EXPECT_TRUE(co_await eventually(beat));
        // An idle source: the heartbeat reports where the stream is.
        src.heartbeat();
        std::function<bool()> beat_twice = [&] { return handler.heartbeats().size() == 2; };
        EXPECT_TRUE(co_await eventually(beat_twice));
        EXPECT_TRUE(co_await run.cancel());
        // The heartbeat asked for before the stream started is reported too, after the changes.
        EXPECT_EQ(handler.calls(),
                  (std::vector<std::string>{"changes:3", "heartbeat:3", "heartbeat:3"}));
    });
}

TEST_P(stream, wait_delivered_gives_up_after_its_limit) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        const auto p = src.insert(users, user(src, 1, "ann"));
        EXPECT_FALSE(co_await src.wait_delivered(p, std::chrono::milliseconds(10)));
        EXPECT_TRUE(src.delivered_position().empty());
    });
}

TEST_P(stream, refuses_a_start_beyond_the_newest_change_and_a_second_stream) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        recording_handler handler(src.get_executor());
        stream_runner beyond(src, position::from_sequence(7), handler);
        EXPECT_TRUE(co_await beyond.wait_done());
        EXPECT_EQ(failure_of(beyond.failure()).code, errc::invalid_position);

        stream_runner first(src, position::from_sequence(0), handler);
        std::function<bool()> streaming = [&] { return src.state() == source_state::streaming; };
        EXPECT_TRUE(co_await eventually(streaming));
        stream_runner second(src, position::from_sequence(0), handler);
        EXPECT_TRUE(co_await second.wait_done());
        EXPECT_EQ(failure_of(second.failure()).code, errc::invalid_argument);
        EXPECT_FALSE(first.done());
        EXPECT_TRUE(co_await first.cancel());
        EXPECT_FALSE(first.failure());
    });
}

TEST_P(stream, emit_assigns_positions_and_bypasses_the_tables) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        std::vector<change_event> events(3);
        for (int i = 0; i < 3; ++i) {
            events[i].table = users;
            events[i].new_values = user(src, i, "e");
            events[i].ends_transaction = i == 1;
        }
        const auto last = src.emit(std::move(events));
        EXPECT_EQ(last, position::from_sequence(3));
        recording_handler handler(src.get_executor());
        stream_runner run(src, position::from_sequence(0), handler);
        EXPECT_TRUE(co_await src.wait_delivered(last));
        EXPECT_TRUE(co_await run.cancel());
        const auto got = handler.events();
        CO_ASSERT_EQ(got.size(), 3u);
        EXPECT_EQ(got[0].transaction_id, got[1].transaction_id);
        EXPECT_NE(got[1].transaction_id, got[2].transaction_id);
        EXPECT_TRUE(got[1].ends_transaction);
        EXPECT_TRUE(got[2].ends_transaction) << "the last emitted event always ends a transaction";
        recording_handler sink(src.get_executor());
        co_await on_source(src, src.baseline(just_users, sink));
        EXPECT_TRUE(sink.rows().empty());
    });
}

TEST_P(stream, changes_injected_from_many_threads_arrive_once_in_position_order) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source_options options;
        options.batch_size = 16;
        ts::test_source src(ctx.get_executor(), options);
        add_users(src);
        recording_handler handler(src.get_executor());
        stream_runner run(src, position::from_sequence(0), handler);
        constexpr int writers = 4;
        constexpr int per_writer = 250;
        std::atomic<int> finished{0};
        std::vector<std::thread> threads;
        for (int w = 0; w < writers; ++w) {
            threads.emplace_back([&, w] {
                for (int i = 0; i < per_writer; ++i)
                    src.insert(users, user(src, w * per_writer + i, "x"));
                ++finished;
            });
        }
        std::function<bool()> all_written = [&] { return finished == writers; };
        EXPECT_TRUE(co_await eventually(all_written));
        for (auto& t : threads) t.join();
        EXPECT_TRUE(co_await src.wait_delivered(position::from_sequence(writers * per_writer)));
        EXPECT_TRUE(co_await run.cancel());

        const auto events = handler.events();
        CO_ASSERT_EQ(events.size(), static_cast<std::size_t>(writers * per_writer));
        std::set<std::int64_t> ids;
        for (std::size_t i = 0; i < events.size(); ++i) {
            EXPECT_EQ(events[i].pos, position::from_sequence(i + 1));
            ids.insert(events[i].new_values.at("id").get<std::int64_t>());
        }
        EXPECT_EQ(ids.size(), events.size());
        EXPECT_TRUE(handler.all_calls_on_expected_executor());
    });
}

}  // namespace
}  // namespace laredo::testing
