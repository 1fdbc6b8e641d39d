// Transactions that span tables, and positions that move on through heartbeats, with the
// indexed memory target (which applies a table's part of a transaction when it sees its end).
#include "engine_test_support.hpp"

#include "laredo/targets/memory/indexed_target.hpp"

namespace laredo::testing {
namespace {

using targets::memory::indexed_target;
using targets::memory::indexed_target_options;

class engine_transactions : public engine_test {};

TEST_P(engine_transactions, transaction_spanning_tables_is_applied_in_every_table) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        test_source_options options;
        options.positions = sources::testsource::position_mode::pair;
        auto src = std::make_shared<test_source>(ctx.get_executor(), options);
        src->set_schema(users, user_columns());
        src->set_schema(orders, order_columns());
        auto user_target = std::make_shared<indexed_target>();
        auto order_target = std::make_shared<indexed_target>();
        auto eng = engine::builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, user_target)
                       .add_pipeline("test", orders, order_target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        // users, orders, users: the transaction ends on a users change.
        test_source::transaction tx;
        tx.insert(users, user(*src, 1, "ann"));
        tx.insert(orders, order(*src, 10, 1, 9.5));
        tx.insert(users, user(*src, 2, "bob"));
        const auto commit = src->commit(std::move(tx));
        EXPECT_TRUE(co_await src->wait_delivered(commit));
        EXPECT_TRUE(co_await eventually([&] { return order_target->get(10).has_value(); }));
        EXPECT_TRUE(co_await eventually([&] { return user_target->count() == 2u; }));
        EXPECT_FALSE(order_target->is_mid_transaction());
        // The ACK covers the whole transaction (every pipeline confirmed its part).
        EXPECT_TRUE(co_await eventually([&] { return src->last_acked() == commit; }));
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_transactions, restart_resumes_when_the_last_change_touched_another_table) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        test_source_options options;
        options.supports_resume = true;
        auto first = std::make_shared<test_source>(ctx.get_executor(), options);
        first->set_schema(users, user_columns());
        first->set_schema(orders, order_columns());
        indexed_target_options keep;
        keep.keep_position_across_engines = true;
        auto user_target = std::make_shared<indexed_target>(keep);
        auto order_target = std::make_shared<indexed_target>(keep);
        auto build = [&](std::shared_ptr<test_source> src) {
            return engine::builder()
                .add_source("test", std::move(src))
                .add_pipeline("test", users, user_target)
                .add_pipeline("test", orders, order_target)
                .build(ctx.get_executor());
        };
        {
            auto eng = build(first);
            co_await eng.async_start(use_awaitable);
            co_await eng.async_await_ready(use_awaitable);
            first->insert(orders, order(*first, 10, 1, 9.5));
            const auto last = first->insert(users, user(*first, 1, "ann"));  // orders idle
            EXPECT_TRUE(co_await eventually([&] { return user_target->count() == 1u; }));
            co_await eng.async_stop(use_awaitable);
            EXPECT_EQ(first->last_acked(), last);
        }
        // The orders target learnt the final position through the stop's heartbeat, so the
        // lowest persisted position is the ACK, from which the source can still stream.
        EXPECT_EQ(order_target->persisted_position(), first->last_acked());
        options.database = first->database();
        auto second = std::make_shared<test_source>(ctx.get_executor(), options);
        second->insert(orders, order(*second, 11, 1, 1.0));
        auto eng = build(second);
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_TRUE(co_await eventually([&] { return order_target->count() == 2u; }));
        EXPECT_EQ(second->calls(step::baseline), 0u);
        co_await eng.async_stop(use_awaitable);
    });
}

INSTANTIATE_TEST_SUITE_P(threads, engine_transactions, ::testing::Values(1, 4), thread_suffix);

}  // namespace
}  // namespace laredo::testing
