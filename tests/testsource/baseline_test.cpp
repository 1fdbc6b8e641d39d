// baseline: current rows, batches, consistency with concurrent changes.
#include "fixture.hpp"

#include <thread>

namespace laredo::testing {
namespace {

class baseline : public threaded {};
LAREDO_THREADED_SUITE(baseline);

TEST_P(baseline, returns_the_current_rows_and_the_newest_position) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        for (int id = 1; id <= 3; ++id)
            src.add_row(users, user(src, id, "old" + std::to_string(id)));
        src.insert(users, user(src, 4, "dan"));
        src.update(users, user(src, 2, "bob"));
        src.remove(users, src.make_row(users, {{"id", 1}}));
        recording_handler sink(src.get_executor());

        const auto at = co_await on_source(src, src.baseline(just_users, sink));

        EXPECT_EQ(at, position::from_sequence(3));
        EXPECT_EQ(at, src.head());
        const std::vector<row> expected{user(src, 2, "bob"), user(src, 3, "old3"),
                                        user(src, 4, "dan")};
        EXPECT_EQ(rows_of(sink.rows()), expected);
        EXPECT_TRUE(sink.all_calls_on_expected_executor());
        EXPECT_EQ(src.calls(ts::step::baseline), 1u);
        EXPECT_EQ(src.baseline_requests(), (std::vector<std::vector<table_identifier>>{{users}}));
    });
}

TEST_P(baseline, of_an_untouched_source_is_at_position_zero) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        recording_handler sink(src.get_executor());
        const auto at = co_await on_source(src, src.baseline(just_users, sink));
        EXPECT_EQ(at, position::from_sequence(0));
        EXPECT_TRUE(sink.rows().empty());
    });
}

TEST_P(baseline, hands_over_rows_in_batches_of_batch_size) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source_options options;
        options.batch_size = 2;
        ts::test_source src(ctx.get_executor(), options);
        add_users(src);
        src.set_schema(orders, ts::test_source::text_columns({"id"}));
        for (int id = 1; id <= 5; ++id) src.add_row(users, user(src, id, "u"));
        src.add_row(orders, src.make_row(orders, {{"id", 7}}));
        recording_handler sink(src.get_executor());
        co_await on_source(src, src.baseline(users_and_orders, sink));
        EXPECT_EQ(sink.row_batch_sizes(), (std::vector<std::size_t>{2, 2, 1, 1}));
        EXPECT_EQ(sink.rows().back().first, orders);
    });
}

TEST_P(baseline, of_an_unknown_table_throws_unknown_table) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        recording_handler sink(src.get_executor());
        const auto f = co_await failure_of(on_source(src, src.baseline(just_users, sink)));
        EXPECT_EQ(f.code, errc::unknown_table);
        EXPECT_NE(f.message.find("public.users"), std::string::npos);
    });
}

// The property the engine's reload relies on: baseline rows at P plus every change after P
// give exactly the final state, however the changes interleave with the baseline.
TEST_P(baseline, stays_consistent_with_changes_injected_while_it_runs) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source_options options;
        options.baseline_row_delay = std::chrono::milliseconds(1);
        ts::test_source src(ctx.get_executor(), options);
        add_users(src);
        for (int id = 0; id < 40; ++id) src.add_row(users, user(src, id, "v0"));
        recording_handler sink(src.get_executor());

        std::atomic<bool> injecting{true};
        std::thread injector([&] {
            for (int round = 1; injecting; ++round) {
                const int id = round % 60;
                if (round % 3 == 0) {
                    src.remove(users, src.make_row(users, {{"id", id}}));
                } else {
                    src.insert(users, user(src, id, "v" + std::to_string(round)));
                }
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
        });
        const auto at = co_await on_source(src, src.baseline(just_users, sink));
        injecting = false;
        injector.join();

        recording_handler changes(src.get_executor());
        stream_runner stream(src, at, changes);
        EXPECT_TRUE(co_await src.wait_delivered(src.head()));
        EXPECT_TRUE(co_await stream.cancel());

        EXPECT_GT(src.compare_positions(src.head(), at), 0) << "no change overlapped the baseline";
        for (const auto& e : changes.events()) EXPECT_GT(src.compare_positions(e.pos, at), 0);
        replica r;
        r.load(sink.rows());
        r.apply(changes.events());
        recording_handler final_state(src.get_executor());
        co_await on_source(src, src.baseline(just_users, final_state));
        EXPECT_EQ(r.rows(users), rows_of(final_state.rows()));
    });
}

TEST_P(baseline, can_fail_after_a_number_of_rows) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source_options options;
        options.batch_size = 4;
        ts::test_source src(ctx.get_executor(), options);
        add_users(src);
        for (int id = 1; id <= 10; ++id) src.add_row(users, user(src, id, "u"));
        src.fail_baseline_after(6, errc::transient);
        recording_handler sink(src.get_executor());

        const auto f = co_await failure_of(on_source(src, src.baseline(just_users, sink)));

        EXPECT_EQ(f.code, errc::transient);
        EXPECT_NE(f.message.find("after 6 rows"), std::string::npos) << f.message;
        EXPECT_EQ(sink.row_batch_sizes(), (std::vector<std::size_t>{4, 2}));
        recording_handler again(src.get_executor());
        co_await on_source(src, src.baseline(just_users, again));
        EXPECT_EQ(again.rows().size(), 10u);
    });
}

}  // namespace
}  // namespace laredo::testing
