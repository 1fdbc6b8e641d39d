#include "engine_test_support.hpp"

namespace laredo::testing {
namespace {

class engine_ack : public engine_test {};

TEST_P(engine_ack, ack_is_the_minimum_durable_position_and_never_goes_back) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto fast = std::make_shared<recording_target>("fast");
        auto lagging = std::make_shared<recording_target>("lagging");
        lagging->set_durable(false);
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, fast)
                       .add_pipeline("test", users, lagging)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        const auto first = src->insert(users, user(*src, 1, "ann"));
        EXPECT_TRUE(co_await until(eng, [&] { return lagging->applied() == first; }));
        co_await sleep_for(std::chrono::milliseconds(20));
        // The lagging target has confirmed nothing durable: nothing may be acked.
        EXPECT_TRUE(src->acked_positions().empty());

        lagging->set_durable(true);
        const auto second = src->insert(users, user(*src, 2, "bob"));
        EXPECT_TRUE(co_await until(eng, [&] { return src->last_acked() == second; }));
        const auto acked = src->acked_positions();
        for (std::size_t i = 1; i < acked.size(); ++i)
            EXPECT_LT(src->compare_positions(acked[i - 1], acked[i]), 0);
        EXPECT_EQ(eng.source("test")->last_acked, second);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_ack, failed_pipeline_leaves_the_ack) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto healthy = std::make_shared<recording_target>("healthy");
        auto broken = std::make_shared<recording_target>("broken");
        pipeline_options no_retries;
        no_retries.retry.attempts = 0;
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, healthy)
                       .add_pipeline("test", users, broken, no_retries)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        broken->fail_next(1000, errc::target_failed);
        src->insert(users, user(*src, 1, "ann"));
        const auto last = src->insert(users, user(*src, 2, "bob"));
        EXPECT_TRUE(co_await until(eng, [&] { return src->last_acked() == last; }));
        EXPECT_EQ(eng.pipelines()[1].state, pipeline_state::error);
        EXPECT_EQ(eng.pipelines()[0].state, pipeline_state::streaming);
        EXPECT_EQ(healthy->count(), 2u);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_ack, resume_skips_the_baseline_and_loses_nothing) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        test_source_options options;
        options.supports_resume = true;
        auto first = std::make_shared<test_source>(ctx.get_executor(), options);
        first->set_schema(users, user_columns());
        first->add_row(users, user(*first, 1, "ann"));
        auto target = std::make_shared<recording_target>();
        target->set_persistent(true);  // the embedder hands the same target to the next engine
        {
            auto eng = test_builder()
                           .add_source("test", first)
                           .add_pipeline("test", users, target)
                           .build(ctx.get_executor());
            co_await eng.async_start(use_awaitable);
            co_await eng.async_await_ready(use_awaitable);
            const auto last = first->insert(users, user(*first, 2, "bob"));
            EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
            co_await eng.async_stop(use_awaitable);
            EXPECT_EQ(first->last_acked(), last);  // the final ACK was written
        }
        EXPECT_EQ(target->baselines_completed(), 1u);

        // Changes made while no engine runs are streamed on restart, without a baseline.
        options.database = first->database();
        auto second = std::make_shared<test_source>(ctx.get_executor(), options);
        second->insert(users, user(*second, 3, "cid"));
        auto eng = test_builder()
                       .add_source("test", second)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        const auto last = second->insert(users, user(*second, 4, "dan"));
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        EXPECT_EQ(second->calls(step::baseline), 0u);
        EXPECT_EQ(target->baselines_completed(), 1u);
        EXPECT_EQ(target->count(), 4u);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_ack, table_added_to_the_configuration_is_baselined_alone_while_the_rest_resumes) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        test_source_options options;
        options.supports_resume = true;
        auto first = std::make_shared<test_source>(ctx.get_executor(), options);
        first->set_schema(users, user_columns());
        first->set_schema(orders, order_columns());
        first->add_row(users, user(*first, 1, "ann"));
        first->add_row(orders, order(*first, 10, 1, 5.0));
        auto user_target = std::make_shared<recording_target>();
        user_target->set_persistent(true);
        {
            auto eng = test_builder()
                           .add_source("test", first)
                           .add_pipeline("test", users, user_target)
                           .build(ctx.get_executor());
            co_await eng.async_start(use_awaitable);
            co_await eng.async_await_ready(use_awaitable);
            co_await eng.async_stop(use_awaitable);
        }
        options.database = first->database();
        auto second = std::make_shared<test_source>(ctx.get_executor(), options);
        second->insert(users, user(*second, 2, "bob"));
        second->insert(orders, order(*second, 11, 2, 7.5));
        auto order_target = std::make_shared<recording_target>();  // new in this configuration
        auto eng = test_builder()
                       .add_source("test", second)
                       .add_pipeline("test", users, user_target)
                       .add_pipeline("test", orders, order_target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        const auto last = second->insert(orders, order(*second, 12, 2, 1.0));
        EXPECT_TRUE(co_await until(eng, [&] { return order_target->applied() == last; }));
        // Only the new table was baselined; the users table resumed.
        const auto requests = second->baseline_requests();
        CO_ASSERT_TRUE(requests.size() == 1u);
        EXPECT_EQ(requests[0], std::vector<table_identifier>{orders});
        EXPECT_EQ(user_target->baselines_completed(), 1u);
        EXPECT_EQ(user_target->count(), 2u);
        EXPECT_EQ(order_target->count(), 3u);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_ack, lost_history_falls_back_to_a_baseline) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        test_source_options options;
        options.supports_resume = true;
        auto src = std::make_shared<test_source>(ctx.get_executor(), options);
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "ann"));
        src->insert(users, user(*src, 2, "bob"));
        src->discard_history();  // the "slot" lost what the target would need
        auto target = std::make_shared<recording_target>();
        target->set_persistent(true);
        co_await target->on_baseline_complete(users, position::from_sequence(0));
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_EQ(src->calls(step::baseline), 1u);
        EXPECT_EQ(target->count(), 2u);
        co_await eng.async_stop(use_awaitable);
    });
}

INSTANTIATE_TEST_SUITE_P(threads, engine_ack, ::testing::Values(1, 4), thread_suffix);

}  // namespace
}  // namespace laredo::testing
