// What the PostgreSQL source will do, on demand: transactions with pair positions and commit
// markers, unchanged values, a column change mid-stream, re-delivery after a reconnect, a
// demand for a re-baseline.
#include "fixture.hpp"

namespace laredo::testing {
namespace {

class postgres_like : public threaded {};
LAREDO_THREADED_SUITE(postgres_like);

ts::test_source_options pair_mode(std::size_t batch_size = 256) {
    ts::test_source_options options;
    options.positions = ts::position_mode::pair;
    options.batch_size = batch_size;
    return options;
}

TEST_P(postgres_like, a_transaction_gets_pair_positions_and_one_commit_marker) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor(), pair_mode());
        add_users(src);
        recording_handler handler(src.get_executor());
        const auto at = co_await on_source(src, src.baseline(just_users, handler));
        EXPECT_EQ(at, position::from_pair(0, 0));
        stream_runner run(src, at, handler);

        ts::test_source::transaction tx;
        tx.insert(users, user(src, 1, "ann"))
            .update(users, user(src, 1, "anna"))
            .remove(users, src.make_row(users, {{"id", 1}}));
        EXPECT_EQ(tx.size(), 3u);
        EXPECT_EQ(src.commit(std::move(tx)), position::from_pair(1, 3));
        const auto last = src.insert(users, user(src, 2, "bob"));
        EXPECT_EQ(last, position::from_pair(2, 1));
        EXPECT_TRUE(co_await src.wait_delivered(last));
        EXPECT_TRUE(co_await run.cancel());

        const auto events = handler.events();
        CO_ASSERT_EQ(events.size(), 4u);
        EXPECT_EQ(events[0].pos, position::from_pair(1, 1));
        EXPECT_EQ(events[1].pos, position::from_pair(1, 2));
        EXPECT_EQ(events[2].pos, position::from_pair(1, 3));
        EXPECT_EQ(events[3].pos, position::from_pair(2, 1));
        EXPECT_FALSE(events[0].ends_transaction);
        EXPECT_FALSE(events[1].ends_transaction);
        EXPECT_TRUE(events[2].ends_transaction);
        EXPECT_TRUE(events[3].ends_transaction);
        EXPECT_EQ(events[0].transaction_id, events[2].transaction_id);
        EXPECT_NE(events[2].transaction_id, events[3].transaction_id);
        EXPECT_EQ(events[0].commit_timestamp, events[2].commit_timestamp);
        EXPECT_EQ(src.position_to_string(src.head()), "2:1");
    });
}

TEST_P(postgres_like, a_large_transaction_spans_batches_with_the_marker_on_its_last_change) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor(), pair_mode(2));
        add_users(src);
        ts::test_source::transaction tx;
        for (int id = 1; id <= 5; ++id) tx.insert(users, user(src, id, "u"));
        const auto last = src.commit(std::move(tx));
        recording_handler handler(src.get_executor());
        stream_runner run(src, position::from_pair(0, 0), handler);
        EXPECT_TRUE(co_await src.wait_delivered(last));
        EXPECT_TRUE(co_await run.cancel());
        EXPECT_EQ(handler.batch_sizes(), (std::vector<std::size_t>{2, 2, 1}));
        const auto events = handler.events();
        for (std::size_t i = 0; i < events.size(); ++i) {
            EXPECT_EQ(events[i].ends_transaction, i == events.size() - 1) << i;
        }
    });
}

TEST_P(postgres_like, an_empty_transaction_is_refused) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor(), pair_mode());
        EXPECT_THROW(src.commit(ts::test_source::transaction{}), laredo::error);
        co_return;
    });
}

TEST_P(postgres_like, a_transaction_with_a_bad_change_changes_nothing) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor(), pair_mode());
        add_users(src);
        ts::test_source::transaction tx;
        tx.insert(users, user(src, 1, "ann")).insert(orders, user(src, 2, "bob"));
        try {
            src.commit(std::move(tx));
            ADD_FAILURE() << "a change of an unknown table was accepted";
        } catch (const laredo::error& e) {
            EXPECT_EQ(e.code(), errc::unknown_table);
        }
        EXPECT_EQ(src.head(), position::from_pair(0, 0));
        recording_handler sink(src.get_executor());
        co_await on_source(src, src.baseline(just_users, sink));
        EXPECT_TRUE(sink.rows().empty());
    });
}

TEST_P(postgres_like, an_update_with_unchanged_values_keeps_the_stored_ones) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor(), pair_mode());
        add_users(src);
        const std::string big(5000, 'x');
        src.add_row(users, src.make_row(users, {{"id", 1}, {"name", "ann"}, {"note", big}}));
        recording_handler handler(src.get_executor());
        stream_runner run(src, src.head(), handler);
        const auto p = src.update(
            users,
            src.make_row(users, {{"id", 1}, {"name", "anna"}, {"note", value::unchanged()}}));
        EXPECT_TRUE(co_await src.wait_delivered(p));
        EXPECT_TRUE(co_await run.cancel());

        const auto events = handler.events();
        CO_ASSERT_EQ(events.size(), 1u);
        EXPECT_TRUE(events[0].new_values.at("note").is_unchanged());
        EXPECT_FALSE(events[0].new_values.is_complete());
        recording_handler sink(src.get_executor());
        co_await on_source(src, src.baseline(just_users, sink));
        CO_ASSERT_EQ(sink.rows().size(), 1u);
        EXPECT_EQ(sink.rows()[0].second,
                  src.make_row(users, {{"id", 1}, {"name", "anna"}, {"note", big}}));
    });
}

TEST_P(postgres_like, an_update_that_changes_the_key_moves_the_row) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        src.add_row(users, user(src, 1, "ann"));
        src.update(users, user(src, 2, "ann"), src.make_row(users, {{"id", 1}}));
        recording_handler sink(src.get_executor());
        co_await on_source(src, src.baseline(just_users, sink));
        EXPECT_EQ(rows_of(sink.rows()), (std::vector<row>{user(src, 2, "ann")}));
    });
}

TEST_P(postgres_like, a_column_change_mid_stream_changes_the_rows_of_later_events) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        const auto before = add_users(src);
        src.add_row(users, user(src, 1, "ann"));
        recording_handler handler(src.get_executor());
        stream_runner run(src, src.head(), handler);
        const auto old_row = user(src, 2, "bob");
        src.insert(users, old_row);

        auto columns = ts::test_source::text_columns({"id", "name", "note", "email"});
        const auto after = src.alter_schema(users, columns);
        EXPECT_EQ(src.schema_of(users), after);
        try {
            src.insert(users, old_row);
            ADD_FAILURE() << "a row of the old columns was accepted";
        } catch (const laredo::error& e) {
            EXPECT_EQ(e.code(), errc::schema_mismatch);
        }
        const auto p = src.insert(users, src.make_row(users, {{"id", 3}, {"email", "c@x"}}));
        EXPECT_TRUE(co_await src.wait_delivered(p));
        EXPECT_TRUE(co_await run.cancel());

        const auto events = handler.events();
        CO_ASSERT_EQ(events.size(), 2u);
        EXPECT_EQ(*events[0].new_values.schema(), *before);
        EXPECT_EQ(*events[1].new_values.schema(), *after);
        recording_handler sink(src.get_executor());
        co_await on_source(src, src.baseline(just_users, sink));
        const auto rows = rows_of(sink.rows());
        CO_ASSERT_EQ(rows.size(), 3u);
        EXPECT_EQ(rows[0], src.make_row(users, {{"id", 1}, {"name", "ann"}}));
        EXPECT_TRUE(rows[0].at("email").is_null());
        EXPECT_THROW(src.alter_schema(orders, columns), laredo::error);
    });
}

TEST_P(postgres_like, a_reconnect_rewinds_and_redelivers) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor(), pair_mode());
        add_users(src);
        recording_handler handler(src.get_executor());
        stream_runner run(src, src.head(), handler);
        position last;
        for (int id = 1; id <= 4; ++id) last = src.insert(users, user(src, id, "u"));
        EXPECT_TRUE(co_await src.wait_delivered(last));

        src.simulate_reconnect(position::from_pair(2, 1));
        EXPECT_EQ(src.delivered_position(), position::from_pair(2, 1));
        EXPECT_TRUE(co_await src.wait_delivered(last));
        EXPECT_TRUE(co_await run.cancel());

        EXPECT_EQ(handler.rewinds(), (std::vector<position>{position::from_pair(2, 1)}));
        const auto calls = handler.calls();
        CO_ASSERT_GE(calls.size(), 2u);
        const auto rewind_at = std::find(calls.begin(), calls.end(), "rewind:(2,1)");
        CO_ASSERT_NE(rewind_at, calls.end());
        std::vector<position> positions;
        for (const auto& e : handler.events()) positions.push_back(e.pos);
        const std::vector<position> expected{position::from_pair(1, 1), position::from_pair(2, 1),
                                             position::from_pair(3, 1), position::from_pair(4, 1),
                                             position::from_pair(3, 1), position::from_pair(4, 1)};
        EXPECT_EQ(positions, expected);
    });
}

TEST_P(postgres_like, a_reconnect_without_a_position_rewinds_to_the_last_ack) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        recording_handler handler(src.get_executor());
        stream_runner run(src, src.head(), handler);
        position last;
        for (int id = 1; id <= 5; ++id) last = src.insert(users, user(src, id, "u"));
        EXPECT_TRUE(co_await src.wait_delivered(last));
        co_await on_source(src, src.ack(position::from_sequence(3)));

        src.simulate_reconnect();
        EXPECT_TRUE(co_await src.wait_delivered(last));
        EXPECT_TRUE(co_await run.cancel());
        EXPECT_EQ(handler.rewinds(), (std::vector<position>{position::from_sequence(3)}));
        EXPECT_EQ(handler.event_count(), 7u);
    });
}

TEST_P(postgres_like, a_reconnect_needs_a_stream_and_a_delivered_retained_position) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        EXPECT_THROW(src.simulate_reconnect(), laredo::error);
        recording_handler handler(src.get_executor());
        stream_runner run(src, src.head(), handler);
        std::function<bool()> streaming = [&] { return src.state() == source_state::streaming; };
        EXPECT_TRUE(co_await eventually(streaming));
        for (int id = 1; id <= 4; ++id) src.insert(users, user(src, id, "u"));
        EXPECT_TRUE(co_await src.wait_delivered(position::from_sequence(4)));
        // Beyond what was delivered.
        EXPECT_THROW(src.simulate_reconnect(position::from_sequence(9)), laredo::error);
        // Acked history is forgotten: nothing to re-deliver from before it.
        co_await on_source(src, src.ack(position::from_sequence(3)));
        EXPECT_THROW(src.simulate_reconnect(position::from_sequence(2)), laredo::error);
        EXPECT_TRUE(co_await run.cancel());
        EXPECT_TRUE(handler.rewinds().empty());
    });
}

TEST_P(postgres_like, kept_acked_history_can_be_redelivered) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source_options options;
        options.keep_acked_history = true;
        ts::test_source src(ctx.get_executor(), options);
        add_users(src);
        recording_handler handler(src.get_executor());
        stream_runner run(src, src.head(), handler);
        position last;
        for (int id = 1; id <= 4; ++id) last = src.insert(users, user(src, id, "u"));
        EXPECT_TRUE(co_await src.wait_delivered(last));
        co_await on_source(src, src.ack(position::from_sequence(3)));
        src.simulate_reconnect(position::from_sequence(1));
        EXPECT_TRUE(co_await src.wait_delivered(last));
        EXPECT_TRUE(co_await run.cancel());
        EXPECT_EQ(handler.event_count(), 7u);
    });
}

TEST_P(postgres_like, a_demand_for_a_rebaseline_ends_the_stream) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        recording_handler handler(src.get_executor());
        stream_runner run(src, src.head(), handler);
        const auto p = src.insert(users, user(src, 1, "u"));
        EXPECT_TRUE(co_await src.wait_delivered(p));
        src.require_rebaseline();
        EXPECT_TRUE(co_await run.wait_done());
        const auto f = failure_of(run.failure());
        EXPECT_EQ(f.code, errc::rebaseline_required);
        EXPECT_EQ(src.state(), source_state::connected);
        // Demanded once: the next stream runs.
        stream_runner again(src, p, handler);
        const auto q = src.insert(users, user(src, 2, "u"));
        EXPECT_TRUE(co_await src.wait_delivered(q));
        EXPECT_TRUE(co_await again.cancel());
    });
}

}  // namespace
}  // namespace laredo::testing
