// Transactions that span tables, and positions that move on through heartbeats, with the
// indexed memory target (which applies a table's part of a transaction when it sees its end).
#include "engine_test_support.hpp"
#include "scripted_source.hpp"

#include "laredo/targets/memory/indexed_target.hpp"

#include <map>
#include <random>

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
        auto eng = test_builder()
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
        EXPECT_TRUE(co_await until(eng, [&] { return order_target->get(10).has_value(); }));
        EXPECT_TRUE(co_await until(eng, [&] { return user_target->count() == 2u; }));
        EXPECT_FALSE(order_target->is_mid_transaction());
        // The ACK covers the whole transaction (every pipeline confirmed its part).
        EXPECT_TRUE(co_await until(eng, [&] { return src->last_acked() == commit; }));
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
            return test_builder()
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
            EXPECT_TRUE(co_await until(eng, [&] { return user_target->count() == 1u; }));
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
        EXPECT_TRUE(co_await until(eng, [&] { return order_target->count() == 2u; }));
        EXPECT_EQ(second->calls(step::baseline), 0u);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_transactions, transaction_split_across_calls_ends_in_every_table_it_touched) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        test_source_options options;
        options.batch_size = 2;  // call 1: users 1 + orders 10; call 2: users 2 and the commit
        auto src = std::make_shared<test_source>(ctx.get_executor(), options);
        src->set_schema(users, user_columns());
        src->set_schema(orders, order_columns());
        auto user_target = std::make_shared<indexed_target>();
        auto order_target = std::make_shared<indexed_target>();
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, user_target)
                       .add_pipeline("test", orders, order_target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        test_source::transaction tx;
        tx.insert(users, user(*src, 1, "ann"));
        tx.insert(orders, order(*src, 10, 1, 9.5));
        tx.insert(users, user(*src, 2, "bob"));
        const auto commit = src->commit(std::move(tx));
        EXPECT_TRUE(co_await src->wait_delivered(commit));
        // The orders part ended with the commit although the call carrying it held only users.
        EXPECT_TRUE(co_await until(eng, [&] { return order_target->get(key(10)).has_value(); }));
        EXPECT_TRUE(co_await until(eng, [&] { return src->last_acked() == commit; }));
        EXPECT_FALSE(order_target->is_mid_transaction());
        EXPECT_EQ(user_target->count(), 2u);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_transactions, idle_pipeline_does_not_hold_the_ack_back) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->set_schema(orders, order_columns());
        auto user_target = std::make_shared<recording_target>();
        auto order_target = std::make_shared<recording_target>();
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, user_target)
                       .add_pipeline("test", orders, order_target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        const auto first = src->insert(users, user(*src, 1, "ann"));
        EXPECT_TRUE(co_await src->wait_delivered(first));
        const auto second = src->insert(orders, order(*src, 10, 1, 9.5));
        // No heartbeat: the users pipeline has nothing pending, so it holds nothing back.
        EXPECT_TRUE(co_await until(eng, [&] { return src->last_acked() == second; }));
        EXPECT_EQ(eng.source("test")->last_acked, second);
        co_await eng.async_stop(use_awaitable);
    });
}

// Thousands of transactions over 1-3 of 4 tables, each split at random points over 1-3
// on_changes calls (a call may also carry the end of one transaction and the start of the
// next): every target ends equal to a model, and the last ACK is the last commit.
TEST_P(engine_transactions, randomly_split_transactions_end_equal_to_a_model) {
    run(
        [](boost::asio::io_context& ctx) -> awaitable<void> {
            std::mt19937_64 rng(20240514);
            auto pick = [&](int lo, int hi) {
                return std::uniform_int_distribution<int>(lo, hi)(rng);
            };
            std::vector<table_identifier> tables;
            table_schemas columns;
            std::vector<schema_ptr> schemas;
            for (int t = 0; t < 4; ++t) {
                tables.emplace_back("public", "t" + std::to_string(t));
                std::vector<column_definition> cols{
                    {.name = "id",
                     .type = "int8",
                     .nullable = false,
                     .primary_key = true,
                     .ordinal_position = 1,
                     .primary_key_ordinal = 1},
                    {.name = "v", .type = "int8", .ordinal_position = 2}};
                columns[tables.back()] = cols;
                schemas.push_back(row_schema::make(cols));
            }
            std::vector<std::map<std::int64_t, std::int64_t>> model(tables.size());
            std::vector<change_event> events;
            std::vector<std::size_t> transaction_ends;  // index of each transaction's last event
            std::uint64_t next_position = 1;
            const int transactions = 2000;
            for (int tx = 0; tx < transactions; ++tx) {
                std::vector<int> touched;
                const int n_tables = pick(1, 3);
                while (static_cast<int>(touched.size()) < n_tables) {
                    const int t = pick(0, 3);
                    if (std::find(touched.begin(), touched.end(), t) == touched.end())
                        touched.push_back(t);
                }
                const int n_changes = n_tables + pick(0, 3);
                for (int c = 0; c < n_changes; ++c) {
                    const int t = c < n_tables ? touched[c] : touched[pick(0, n_tables - 1)];
                    const std::int64_t k = pick(0, 49);
                    const std::int64_t v = pick(0, 1'000'000);
                    change_event e;
                    e.table = tables[t];
                    e.pos = position::from_sequence(next_position++);
                    e.transaction_id = static_cast<std::uint64_t>(tx) + 1;
                    e.ends_transaction = false;
                    if (pick(0, 3) == 0) {
                        e.action = change_action::delete_;
                        e.old_values = row(schemas[t], {value(k), value()});
                        model[t].erase(k);
                    } else {
                        e.action = pick(0, 1) ? change_action::insert : change_action::update;
                        e.new_values = row(schemas[t], {value(k), value(v)});
                        model[t][k] = v;
                    }
                    events.push_back(std::move(e));
                }
                events.back().ends_transaction = true;
                transaction_ends.push_back(events.size() - 1);
            }
            const position last_commit = events.back().pos;
            // Cut points: inside each transaction 0-2 of them, and after it with even odds.
            std::vector<scripted_source::call> calls(1);
            std::size_t begin = 0;
            for (const auto end : transaction_ends) {
                const std::size_t size = end - begin + 1;
                std::vector<std::size_t> cuts;
                for (int parts = pick(1, 3); parts > 1 && size > 1; --parts)
                    cuts.push_back(begin +
                                   static_cast<std::size_t>(pick(1, static_cast<int>(size) - 1)));
                for (std::size_t i = begin; i <= end; ++i) {
                    if (std::find(cuts.begin(), cuts.end(), i) != cuts.end() &&
                        !calls.back().empty())
                        calls.emplace_back();
                    calls.back().push_back(events[i]);
                }
                if (pick(0, 1)) calls.emplace_back();
                begin = end + 1;
            }
            if (calls.back().empty()) calls.pop_back();

            auto src =
                std::make_shared<scripted_source>(ctx.get_executor(), columns, std::move(calls));
            std::vector<std::shared_ptr<indexed_target>> targets;
            auto b = test_builder();
            b.add_source("s", src);
            for (const auto& t : tables) {
                targets.push_back(std::make_shared<indexed_target>());
                b.add_pipeline("s", t, targets.back());
            }
            auto eng = b.build(ctx.get_executor());
            co_await eng.async_start(use_awaitable);
            co_await eng.async_await_ready(use_awaitable);
            EXPECT_TRUE(co_await until(
                eng, [&] { return src->last_acked() == last_commit; }, std::chrono::seconds(60)));
            for (std::size_t t = 0; t < tables.size(); ++t) {
                EXPECT_FALSE(targets[t]->is_mid_transaction()) << tables[t].to_string();
                EXPECT_EQ(targets[t]->count(), model[t].size()) << tables[t].to_string();
                for (const auto& [k, v] : model[t]) {
                    const auto stored = targets[t]->get(key(k));
                    CO_ASSERT_TRUE(stored.has_value());
                    EXPECT_EQ((*stored)[1], value(v)) << tables[t].to_string() << " key " << k;
                }
            }
            co_await eng.async_stop(use_awaitable);
            EXPECT_EQ(src->last_acked(), last_commit);
        },
        std::chrono::seconds(120));
}

INSTANTIATE_TEST_SUITE_P(threads, engine_transactions, ::testing::Values(1, 4), thread_suffix);

}  // namespace
}  // namespace laredo::testing
