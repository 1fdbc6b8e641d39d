#include "engine_test_support.hpp"

#include <boost/asio/detached.hpp>

#include <map>

namespace laredo::testing {
namespace {

class engine_admin : public engine_test {};

TEST_P(engine_admin, pause_holds_changes_and_resume_delivers_them) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto target = std::make_shared<recording_target>();
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        co_await eng.async_pause("test", use_awaitable);
        EXPECT_EQ(eng.pipelines()[0].state, pipeline_state::paused);
        EXPECT_EQ(src->state(), source_state::paused);
        EXPECT_TRUE(eng.is_source_ready("test"));
        position last;
        for (int i = 1; i <= 50; ++i) last = src->insert(users, user(*src, i, "u"));
        co_await sleep_for(std::chrono::milliseconds(30));
        EXPECT_EQ(target->count(), 0u);  // nothing applied while paused, nothing dropped
        co_await eng.async_resume("test", use_awaitable);
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        EXPECT_EQ(target->count(), 50u);
        EXPECT_EQ(eng.pipelines()[0].state, pipeline_state::streaming);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_admin, reload_while_changes_stream_loses_nothing_and_leaves_no_stale_rows) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        test_source_options options;
        options.baseline_row_delay = std::chrono::milliseconds(1);  // a reload that takes a while
        auto src = std::make_shared<test_source>(ctx.get_executor(), options);
        src->set_schema(users, user_columns());
        std::map<std::int64_t, std::string> expected;
        for (int i = 1; i <= 40; ++i) {
            src->add_row(users, user(*src, i, "v0"));
            expected[i] = "v0";
        }
        auto target = std::make_shared<recording_target>();
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        // A row the source never had: a reload must not keep it.
        change_event stale;
        stale.table = users;
        stale.new_values = user(*src, 999, "stale");
        co_await target->on_insert(users, stale);

        std::atomic<bool> reloaded{false};
        boost::asio::co_spawn(ctx, eng.async_reload("test", users, use_awaitable),
                              [&](std::exception_ptr e) {
                                  EXPECT_EQ(e, nullptr);
                                  reloaded = true;
                              });
        // Changes while the reload runs: updates, deletes and inserts.
        position last;
        for (int round = 1; round <= 30; ++round) {
            const std::int64_t id = round;
            if (round % 3 == 0) {
                last = src->remove(users, user_key(*src, id));
                expected.erase(id);
            } else {
                last = src->update(users, user(*src, id, "v" + std::to_string(round)),
                                   user_key(*src, id));
                expected[id] = "v" + std::to_string(round);
            }
            last = src->insert(users, user(*src, 100 + round, "new"));
            expected[100 + round] = "new";
            co_await sleep_for(std::chrono::milliseconds(1));
        }
        EXPECT_TRUE(co_await until(
            eng, [&] { return reloaded.load(); }, std::chrono::seconds(20)));
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        EXPECT_EQ(target->rebuilds(), 1u);
        const auto rows = target->rows();
        EXPECT_EQ(rows.size(), expected.size());
        for (const auto& [id, name] : expected) {
            const auto it = rows.find(key(id));
            if (it == rows.end()) {
                ADD_FAILURE() << "row " << id << " missing after reload";
                continue;
            }
            EXPECT_EQ(it->second.at("name"), value(name)) << "row " << id;
        }
        EXPECT_FALSE(target->get(key(999)));
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_admin, reload_right_after_ready_keeps_every_later_change) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "ann"));
        auto target = std::make_shared<recording_target>();
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        co_await eng.async_reload("test", users, use_awaitable);
        position last;
        for (int i = 2; i <= 20; ++i) last = src->insert(users, user(*src, i, "u"));
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        EXPECT_EQ(target->count(), 20u);
        EXPECT_EQ(src->baseline_requests().size(), 2u);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_admin, graceful_stop_applies_everything_buffered_and_acks_it) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto target = std::make_shared<recording_target>();
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        target->hold(true);
        position last;
        for (int i = 1; i <= 30; ++i) last = src->insert(users, user(*src, i, "u"));
        EXPECT_TRUE(co_await src->wait_delivered(last));  // buffered, not applied
        EXPECT_LT(target->count(), 30u);
        std::atomic<bool> stopped{false};
        boost::asio::co_spawn(ctx, eng.async_stop(use_awaitable), [&](std::exception_ptr e) {
            EXPECT_EQ(e, nullptr);
            stopped = true;
        });
        co_await sleep_for(std::chrono::milliseconds(20));
        EXPECT_FALSE(stopped.load());  // still draining
        target->hold(false);
        EXPECT_TRUE(co_await until(eng, [&] { return stopped.load(); }));
        EXPECT_EQ(target->count(), 30u);
        EXPECT_EQ(src->last_acked(), last);
        EXPECT_TRUE(target->closed());
    });
}

TEST_P(engine_admin, rebaseline_demand_rebuilds_the_table_without_stale_rows) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "ann"));
        src->add_row(users, user(*src, 2, "bob"));
        auto target = std::make_shared<recording_target>();
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        change_event stale;
        stale.table = users;
        stale.new_values = user(*src, 999, "stale");
        co_await target->on_insert(users, stale);
        src->remove(users, user_key(*src, 2));
        src->require_rebaseline();
        EXPECT_TRUE(co_await until(
            eng, [&] { return target->rebuilds() == 1 && target->baselines_completed() == 2; }));
        const auto last = src->insert(users, user(*src, 3, "cid"));
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        EXPECT_EQ(target->count(), 2u);
        EXPECT_TRUE(target->get(key(1)));
        EXPECT_TRUE(target->get(key(3)));
        EXPECT_FALSE(target->get(key(999)));
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_admin, final_ack_covers_the_last_change_even_for_idle_pipelines) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->set_schema(orders, order_columns());
        auto users_target = std::make_shared<recording_target>("users");
        auto orders_target = std::make_shared<recording_target>("orders");
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, users_target)
                       .add_pipeline("test", orders, orders_target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        src->insert(users, user(*src, 1, "ann"));
        const auto last = src->insert(orders, order(*src, 10, 1, 2.5));
        EXPECT_TRUE(co_await src->wait_delivered(last));
        co_await eng.async_stop(use_awaitable);
        EXPECT_EQ(src->last_acked(), last);
    });
}

INSTANTIATE_TEST_SUITE_P(threads, engine_admin, ::testing::Values(1, 4), thread_suffix);

}  // namespace
}  // namespace laredo::testing
