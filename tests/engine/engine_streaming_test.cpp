#include "engine_test_support.hpp"

#include "laredo/targets/memory/indexed_target.hpp"

namespace laredo::testing {
namespace {

class engine_streaming : public engine_test {};

TEST_P(engine_streaming, applies_insert_update_delete_truncate_in_order) {
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

        src->insert(users, user(*src, 2, "bob"));
        src->update(users, user(*src, 1, "anne"), user_key(*src, 1));
        auto last = src->remove(users, user_key(*src, 2));
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        EXPECT_EQ(target->count(), 1u);
        EXPECT_EQ(target->get(key(1))->at("name"), value("anne"));
        EXPECT_FALSE(target->get(key(2)));

        last = src->truncate(users);
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        EXPECT_EQ(target->count(), 0u);
        const auto changes = target->changes();
        CO_ASSERT_TRUE(changes.size() == 4);
        EXPECT_EQ(changes[0].action, change_action::insert);
        EXPECT_EQ(changes[1].action, change_action::update);
        EXPECT_EQ(changes[2].action, change_action::delete_);
        EXPECT_EQ(changes[3].action, change_action::truncate);
        for (std::size_t i = 1; i < changes.size(); ++i)
            EXPECT_LT(src->compare_positions(changes[i - 1].pos, changes[i].pos), 0);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_streaming, routes_each_table_of_a_source_to_its_own_pipelines) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->set_schema(orders, order_columns());
        src->add_row(users, user(*src, 1, "ann"));
        src->add_row(orders, order(*src, 10, 1, 9.5));
        auto user_target = std::make_shared<recording_target>("users");
        auto order_target = std::make_shared<recording_target>("orders");
        auto order_target_2 = std::make_shared<recording_target>("orders2");
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, user_target)
                       .add_pipeline("test", orders, order_target)
                       .add_pipeline("test", orders, order_target_2)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_EQ(user_target->count(), 1u);
        EXPECT_EQ(order_target->count(), 1u);

        test_source::transaction tx;
        tx.insert(users, user(*src, 2, "bob")).insert(orders, order(*src, 11, 2, 1.25));
        const auto last = src->commit(std::move(tx));
        EXPECT_TRUE(co_await until(eng, [&] { return order_target_2->applied() == last; }));
        EXPECT_TRUE(co_await until(eng, [&] { return user_target->count() == 2; }));
        // Each pipeline runs on its own strand: the first orders target may still be applying.
        EXPECT_TRUE(co_await until(eng, [&] { return order_target->applied() == last; }));
        EXPECT_EQ(order_target->count(), 2u);
        EXPECT_EQ(order_target_2->count(), 2u);
        for (const auto& c : user_target->changes()) EXPECT_EQ(c.table, users);
        for (const auto& c : order_target->changes()) EXPECT_EQ(c.table, orders);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_streaming, filters_move_rows_in_and_out_on_update) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "ann", "active"));
        src->add_row(users, user(*src, 2, "bob", "inactive"));
        auto target = std::make_shared<recording_target>();
        pipeline_options options;
        options.filters.push_back(filters::field_equals("status", value("active")));
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_EQ(target->count(), 1u);  // bob is filtered out of the baseline

        // ann stops matching: deleted. bob starts matching: inserted.
        src->update(users, user(*src, 1, "ann", "inactive"), user_key(*src, 1));
        auto last = src->update(users, user(*src, 2, "bob", "active"), user_key(*src, 2));
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        EXPECT_FALSE(target->get(key(1)));
        CO_ASSERT_TRUE(target->get(key(2)).has_value());
        auto changes = target->changes();
        CO_ASSERT_TRUE(changes.size() == 2);
        EXPECT_EQ(changes[0].action, change_action::delete_);
        EXPECT_EQ(changes[1].action, change_action::insert);

        // An insert that does not match never arrives; a delete of a row not in the
        // target is not sent either; a delete of a stored row is.
        src->insert(users, user(*src, 3, "cid", "inactive"));
        src->remove(users, user_key(*src, 3));
        last = src->remove(users, user_key(*src, 2));
        EXPECT_TRUE(co_await until(eng, [&] { return target->count() == 0; }));
        changes = target->changes();
        CO_ASSERT_TRUE(changes.size() == 3);
        EXPECT_EQ(changes[2].action, change_action::delete_);
        EXPECT_EQ(changes[2].identity().at("id"), value(2));
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_streaming, transforms_shape_baseline_rows_and_changes) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "ann"));
        auto target = std::make_shared<recording_target>();
        pipeline_options options;
        options.transforms.push_back(transforms::drop_fields({"status"}));
        options.transforms.push_back(transforms::rename_fields({{"name", "display_name"}}));
        options.transforms.push_back([](const table_identifier&, row r) -> std::optional<row> {
            if (r.at("display_name") == value("skip me")) return std::nullopt;
            return r;
        });
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        auto stored = target->get(key(1));
        CO_ASSERT_TRUE(stored.has_value());
        EXPECT_EQ(stored->size(), 2u);
        EXPECT_EQ(stored->at("display_name"), value("ann"));
        EXPECT_EQ(stored->find("status"), nullptr);

        src->insert(users, user(*src, 2, "skip me"));
        const auto last = src->insert(users, user(*src, 3, "cid"));
        EXPECT_TRUE(co_await until(eng, [&] { return target->count() == 2; }));
        EXPECT_FALSE(target->get(key(2)));
        EXPECT_EQ(target->get(key(3))->at("display_name"), value("cid"));
        EXPECT_EQ(target->applied(), last);
        co_await eng.async_stop(use_awaitable);
    });
}

// The target is given the columns after the transforms, at init and at a schema change; the
// indexed target checks every row against them.
TEST_P(engine_streaming, transforms_that_change_columns_reach_the_indexed_target) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "ann"));
        auto target = std::make_shared<targets::memory::indexed_target>();
        pipeline_options options;
        options.transforms.push_back(transforms::drop_fields({"status"}));
        options.transforms.push_back(transforms::rename_fields({{"name", "display_name"}}));
        options.transforms.push_back(transforms::add_timestamp("seen_at"));
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        auto names = [&] {
            std::vector<std::string> out;
            for (const auto& c : target->schema()->columns()) out.push_back(c.name);
            return out;
        };
        EXPECT_EQ(names(), (std::vector<std::string>{"id", "display_name", "seen_at"}));
        src->insert(users, user(*src, 2, "bob"));
        src->update(users, user(*src, 1, "anne"), user_key(*src, 1));
        const auto removed = src->remove(users, user_key(*src, 2));
        EXPECT_TRUE(co_await until(eng, [&] { return src->last_acked() == removed; }));
        EXPECT_EQ(eng.pipelines()[0].state, pipeline_state::streaming)
            << eng.pipelines()[0].last_error;
        EXPECT_EQ(target->count(), 1u);
        EXPECT_EQ(target->get(key(1))->at("display_name"), value("anne"));

        // A new column: the target is asked with its own columns (still without status).
        auto columns = user_columns();
        columns.push_back({.name = "age", .type = "int8", .ordinal_position = 4});
        src->alter_schema(users, columns);
        const auto last = src->insert(users, src->make_row(users, {{"id", value(3)},
                                                                   {"name", value("cid")},
                                                                   {"status", value("x")},
                                                                   {"age", value(40)}}));
        EXPECT_TRUE(co_await until(eng, [&] { return src->last_acked() == last; }));
        EXPECT_EQ(names(), (std::vector<std::string>{"id", "display_name", "age", "seen_at"}));
        EXPECT_EQ(target->get(key(3))->at("age"), value(40));
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_streaming, transform_that_removes_a_key_column_is_refused_naming_it) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "ann"));
        auto target = std::make_shared<targets::memory::indexed_target>();
        pipeline_options options;
        options.transforms.push_back(transforms::drop_fields({"status", "id"}));
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        EXPECT_TRUE(
            co_await until(eng, [&] { return eng.pipelines()[0].state == pipeline_state::error; }));
        const auto why = eng.pipelines()[0].last_error;
        EXPECT_NE(why.find("transform drop_fields(status, id) removes key column id of "
                           "public.users"),
                  std::string::npos)
            << why;
        EXPECT_EQ(target->count(), 0u);  // no row reached it
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_streaming, unchanged_values_are_filled_from_the_stored_row_before_filters) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "ann", "active"));
        auto target = std::make_shared<recording_target>();
        pipeline_options options;
        // The filter reads a column the update does not resend.
        options.filters.push_back(filters::field_equals("status", value("active")));
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        auto partial = src->make_row(
            users, {{"id", value(1)}, {"name", value("anne")}, {"status", value::unchanged()}});
        const auto last = src->update(users, std::move(partial), user_key(*src, 1));
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        const auto stored = target->get(key(1));
        CO_ASSERT_TRUE(stored.has_value());
        EXPECT_EQ(stored->at("name"), value("anne"));
        EXPECT_EQ(stored->at("status"), value("active"));
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_streaming, idle_source_advances_through_heartbeats) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->set_schema(orders, order_columns());
        auto users_target = std::make_shared<recording_target>();
        auto orders_target = std::make_shared<recording_target>();
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, users_target)
                       .add_pipeline("test", orders, orders_target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        // Only users change: the orders target hears of the new position through a heartbeat
        // (so a target that persists its position can resume from there).
        const auto last = src->insert(users, user(*src, 1, "ann"));
        EXPECT_TRUE(co_await until(eng, [&] { return users_target->applied() == last; }));
        EXPECT_NE(orders_target->applied(), last);
        src->heartbeat();
        EXPECT_TRUE(co_await until(eng, [&] { return orders_target->applied() == last; }));
        EXPECT_TRUE(co_await until(eng, [&] { return src->last_acked() == last; }));
        co_await eng.async_stop(use_awaitable);
    });
}

INSTANTIATE_TEST_SUITE_P(threads, engine_streaming, ::testing::Values(1, 4), thread_suffix);

}  // namespace
}  // namespace laredo::testing
