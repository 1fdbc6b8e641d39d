// Resume across source instances over one database, and lost history.
#include "fixture.hpp"

namespace laredo::testing {
namespace {

class resume : public threaded {};
LAREDO_THREADED_SUITE(resume);

ts::test_source_options resumable(std::shared_ptr<ts::test_database> db = nullptr) {
    ts::test_source_options options;
    options.supports_resume = true;
    options.database = std::move(db);
    return options;
}

TEST_P(resume, without_resume_support_nothing_is_persisted) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        const auto p = src.insert(users, user(src, 1, "u"));
        co_await on_source(src, src.ack(p));
        EXPECT_FALSE(src.supports_resume());
        EXPECT_FALSE((co_await on_source(src, src.last_acked_position())).has_value());
        EXPECT_FALSE(co_await on_source(src, src.can_resume_from(p)));
        EXPECT_EQ(src.last_acked(), p);
    });
}

TEST_P(resume, a_new_source_over_the_same_database_resumes_after_the_ack) {
    run([&](io_context& ctx) -> awaitable<void> {
        std::shared_ptr<ts::test_database> db;
        {
            ts::test_source first(ctx.get_executor(), resumable());
            add_users(first);
            first.add_row(users, user(first, 100, "base"));
            recording_handler handler(first.get_executor());
            co_await on_source(first, first.init(config_of(just_users)));
            const auto at = co_await on_source(first, first.baseline(just_users, handler));
            stream_runner run(first, at, handler);
            position last;
            for (int id = 1; id <= 5; ++id) last = first.insert(users, user(first, id, "u"));
            EXPECT_TRUE(co_await first.wait_delivered(last));
            co_await on_source(first, first.ack(position::from_sequence(3)));
            EXPECT_TRUE(co_await run.cancel());
            co_await on_source(first, first.close());
            db = first.database();
        }
        // The engine is down; the upstream goes on.
        ts::test_source second(ctx.get_executor(), resumable(db));
        second.insert(users, user(second, 6, "while down"));
        EXPECT_TRUE(second.supports_resume());
        const auto acked = co_await on_source(second, second.last_acked_position());
        CO_ASSERT_TRUE(acked.has_value());
        EXPECT_EQ(*acked, position::from_sequence(3));
        EXPECT_TRUE(co_await on_source(second, second.can_resume_from(*acked)));
        EXPECT_TRUE(second.acked_positions().empty()) << "records belong to one instance";

        co_await on_source(second, second.init(config_of(just_users)));
        recording_handler handler(second.get_executor());
        stream_runner run(second, *acked, handler);
        EXPECT_TRUE(co_await second.wait_delivered(position::from_sequence(6)));
        EXPECT_TRUE(co_await run.cancel());
        std::vector<position> positions;
        for (const auto& e : handler.events()) positions.push_back(e.pos);
        EXPECT_EQ(positions,
                  (std::vector<position>{position::from_sequence(4), position::from_sequence(5),
                                         position::from_sequence(6)}));
        // The tables survived too.
        recording_handler sink(second.get_executor());
        co_await on_source(second, second.baseline(just_users, sink));
        EXPECT_EQ(sink.rows().size(), 7u);
    });
}

TEST_P(resume, the_persisted_ack_never_moves_back) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor(), resumable());
        add_users(src);
        for (int id = 1; id <= 4; ++id) src.insert(users, user(src, id, "u"));
        co_await on_source(src, src.ack(position::from_sequence(4)));
        co_await on_source(src, src.ack(position::from_sequence(2)));
        EXPECT_EQ(co_await on_source(src, src.last_acked_position()), position::from_sequence(4));
        EXPECT_EQ(src.last_acked(), position::from_sequence(2)) << "what the engine sent, as sent";
    });
}

TEST_P(resume, lost_history_refuses_resume_and_demands_a_rebaseline) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor(), resumable());
        add_users(src);
        for (int id = 1; id <= 4; ++id) src.insert(users, user(src, id, "u"));
        co_await on_source(src, src.ack(position::from_sequence(2)));
        EXPECT_TRUE(co_await on_source(src, src.can_resume_from(position::from_sequence(2))));
        EXPECT_FALSE(co_await on_source(src, src.can_resume_from(position::from_sequence(1))))
            << "acked history is forgotten";

        src.discard_history();  // the slot lost its WAL
        EXPECT_FALSE(co_await on_source(src, src.can_resume_from(position::from_sequence(2))));
        recording_handler handler(src.get_executor());
        stream_runner run(src, position::from_sequence(2), handler);
        EXPECT_TRUE(co_await run.wait_done());
        EXPECT_EQ(failure_of(run.failure()).code, errc::rebaseline_required);

        // After a new baseline the stream goes on from its position.
        const auto at = co_await on_source(src, src.baseline(just_users, handler));
        EXPECT_TRUE(co_await on_source(src, src.can_resume_from(at)));
        stream_runner again(src, at, handler);
        const auto p = src.insert(users, user(src, 5, "u"));
        EXPECT_TRUE(co_await src.wait_delivered(p));
        EXPECT_TRUE(co_await again.cancel());
        EXPECT_FALSE(again.failure());
    });
}

TEST_P(resume, discarding_part_of_the_history_keeps_the_rest) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor(), resumable());
        add_users(src);
        for (int id = 1; id <= 4; ++id) src.insert(users, user(src, id, "u"));
        src.discard_history(position::from_sequence(2));
        EXPECT_FALSE(co_await on_source(src, src.can_resume_from(position::from_sequence(1))));
        EXPECT_TRUE(co_await on_source(src, src.can_resume_from(position::from_sequence(2))));
        EXPECT_FALSE(co_await on_source(src, src.can_resume_from(position::from_sequence(5))))
            << "beyond the newest change";
        EXPECT_THROW(src.discard_history(position::from_sequence(9)), laredo::error);
        recording_handler handler(src.get_executor());
        stream_runner run(src, position::from_sequence(2), handler);
        EXPECT_TRUE(co_await src.wait_delivered(position::from_sequence(4)));
        EXPECT_TRUE(co_await run.cancel());
        EXPECT_EQ(handler.event_count(), 2u);
    });
}

TEST_P(resume, a_bounded_history_loses_changes_nobody_received) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source_options options = resumable();
        options.max_history = 3;
        ts::test_source src(ctx.get_executor(), options);
        add_users(src);
        for (int id = 1; id <= 5; ++id) src.insert(users, user(src, id, "u"));
        EXPECT_FALSE(co_await on_source(src, src.can_resume_from(position::from_sequence(1))));
        EXPECT_TRUE(co_await on_source(src, src.can_resume_from(position::from_sequence(2))));
        recording_handler handler(src.get_executor());
        stream_runner run(src, position::from_sequence(0), handler);
        EXPECT_TRUE(co_await run.wait_done());
        EXPECT_EQ(failure_of(run.failure()).code, errc::rebaseline_required);
        EXPECT_EQ(handler.event_count(), 0u);
    });
}

TEST_P(resume, an_ack_ahead_of_the_stream_keeps_what_it_has_not_delivered) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source_options options = resumable();
        options.batch_size = 1;
        ts::test_source src(ctx.get_executor(), options);
        add_users(src);
        recording_handler handler(src.get_executor());
        handler.close_gate();
        stream_runner run(src, src.head(), handler);
        position last;
        for (int id = 1; id <= 4; ++id) last = src.insert(users, user(src, id, "u"));
        std::function<bool()> held = [&] { return handler.waiting_at_gate() == 1; };
        EXPECT_TRUE(co_await eventually(held));
        // E.g. a reloaded table's baseline position confirmed before the stream got there.
        co_await on_source(src, src.ack(last));
        handler.open_gate();
        EXPECT_TRUE(co_await src.wait_delivered(last));
        EXPECT_TRUE(co_await run.cancel());
        EXPECT_FALSE(run.failure());
        EXPECT_EQ(handler.event_count(), 4u);
    });
}

}  // namespace
}  // namespace laredo::testing
