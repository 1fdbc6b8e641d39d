// init, validate_tables, states, close, and the executor rule.
#include "fixture.hpp"

namespace laredo::testing {
namespace {

class lifecycle : public threaded {};
LAREDO_THREADED_SUITE(lifecycle);

TEST_P(lifecycle, init_returns_columns_with_key_metadata) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        // A composite key given in a different order than the columns, ordinals left unset.
        std::vector<column_definition> columns(3);
        columns[0].name = "region";
        columns[0].type = "text";
        columns[0].primary_key_ordinal = 2;
        columns[1].name = "id";
        columns[1].type = "int8";
        columns[1].primary_key = true;
        columns[1].primary_key_ordinal = 1;
        columns[2].name = "total";
        columns[2].type = "numeric";
        src.set_schema(orders, columns);
        add_users(src);
        EXPECT_EQ(src.state(), source_state::closed);

        const auto schemas = co_await on_source(src, src.init(config_of(orders_and_users)));

        EXPECT_EQ(src.state(), source_state::connected);
        CO_ASSERT_EQ(schemas.size(), 2u);
        const auto& o = schemas.at(orders);
        CO_ASSERT_EQ(o.size(), 3u);
        EXPECT_EQ(o[0].name, "region");
        EXPECT_TRUE(o[0].primary_key);
        EXPECT_EQ(o[0].primary_key_ordinal, 2);
        EXPECT_FALSE(o[0].nullable);
        EXPECT_EQ(o[1].primary_key_ordinal, 1);
        EXPECT_FALSE(o[2].primary_key);
        EXPECT_EQ(o[2].primary_key_ordinal, 0);
        EXPECT_EQ(o[2].ordinal_position, 3);
        EXPECT_EQ(src.schema_of(orders)->key_indexes(), (std::vector<std::size_t>{1, 0}));
        EXPECT_EQ(schemas.at(users)[0].name, "id");
        EXPECT_TRUE(schemas.at(users)[0].primary_key);
        EXPECT_EQ(src.calls(ts::step::init), 1u);
    });
}

TEST_P(lifecycle, init_names_every_unknown_table) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        const table_identifier a{"s", "missing_a"};
        const table_identifier b{"s", "missing_b"};
        const std::vector<table_identifier> a_users_b{a, users, b};
        const auto f = co_await failure_of(on_source(src, src.init(config_of(a_users_b))));
        EXPECT_EQ(f.code, errc::unknown_table);
        EXPECT_NE(f.message.find("s.missing_a"), std::string::npos) << f.message;
        EXPECT_NE(f.message.find("s.missing_b"), std::string::npos) << f.message;
        EXPECT_EQ(f.message.find("public.users"), std::string::npos) << f.message;
        EXPECT_EQ(src.state(), source_state::error);
    });
}

TEST_P(lifecycle, validate_tables_reports_table_not_found_per_unknown_table) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        const table_identifier a{"s", "a"};
        const table_identifier b{"s", "b"};
        const std::vector<table_identifier> a_users_b{a, users, b};
        const auto errors = co_await on_source(src, src.validate_tables(a_users_b));
        CO_ASSERT_EQ(errors.size(), 2u);
        EXPECT_EQ(errors[0].table, a);
        EXPECT_EQ(errors[0].code, "TABLE_NOT_FOUND");
        EXPECT_EQ(errors[1].table, b);
        EXPECT_NE(errors[1].to_string().find("s.b: TABLE_NOT_FOUND"), std::string::npos);
        const auto fine = co_await on_source(src, src.validate_tables(just_users));
        EXPECT_TRUE(fine.empty());
    });
}

TEST_P(lifecycle, coroutines_called_off_the_source_executor_are_refused) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        // Called directly from a coroutine on the plain io_context executor, not the strand.
        const auto f = co_await failure_of(src.init(config_of(just_users)));
        EXPECT_EQ(f.code, errc::invalid_argument);
        EXPECT_NE(f.message.find("init"), std::string::npos) << f.message;
        const auto g = co_await failure_of(src.ack(position::from_sequence(0)));
        EXPECT_EQ(g.code, errc::invalid_argument);
        EXPECT_EQ(src.acked_positions().size(), 0u);
    });
}

TEST_P(lifecycle, state_follows_the_lifecycle) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        recording_handler handler(src.get_executor());
        EXPECT_EQ(src.state(), source_state::closed);
        co_await on_source(src, src.init(config_of(just_users)));
        EXPECT_EQ(src.state(), source_state::connected);
        const auto at = co_await on_source(src, src.baseline(just_users, handler));
        EXPECT_EQ(src.state(), source_state::connected);

        stream_runner stream(src, at, handler);
        std::function<bool()> streaming = [&] { return src.state() == source_state::streaming; };
        EXPECT_TRUE(co_await eventually(streaming));
        co_await on_source(src, src.pause());
        EXPECT_EQ(src.state(), source_state::paused);
        co_await on_source(src, src.resume());
        EXPECT_EQ(src.state(), source_state::streaming);
        EXPECT_TRUE(co_await stream.cancel());
        EXPECT_EQ(src.state(), source_state::connected);
        co_await on_source(src, src.close());
        EXPECT_EQ(src.state(), source_state::closed);
        EXPECT_EQ(src.type_name(), "testsource");
        EXPECT_EQ(src.ordering(), ordering_guarantee::total_order);
    });
}

TEST_P(lifecycle, ordering_is_configurable) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source_options options;
        options.ordering = ordering_guarantee::per_partition_order;
        ts::test_source src(ctx.get_executor(), options);
        EXPECT_EQ(src.ordering(), ordering_guarantee::per_partition_order);
        co_return;
    });
}

TEST(lifecycle_options, zero_batch_size_is_refused) {
    io_context ctx;
    ts::test_source_options options;
    options.batch_size = 0;
    EXPECT_THROW(ts::test_source(ctx.get_executor(), options), laredo::error);
}

TEST(lifecycle_options, a_database_of_the_other_position_mode_is_refused) {
    io_context ctx;
    ts::test_source first(ctx.get_executor());
    ts::test_source_options options;
    options.positions = ts::position_mode::pair;
    options.database = first.database();
    EXPECT_THROW(ts::test_source(ctx.get_executor(), options), laredo::error);
}

// Not on run_async: the point is that the io_context runs out of work by itself.
TEST(lifecycle_close, close_ends_the_stream_and_leaves_no_work_behind) {
    io_context ctx;
    ts::test_source src(ctx.get_executor());
    add_users(src);
    recording_handler handler(src.get_executor());
    std::exception_ptr failure;
    bool body_done = false;
    bool delivered_before = false;
    bool delivered_after_close = true;
    std::unique_ptr<stream_runner> stream;
    auto body = [&]() -> awaitable<void> {
        co_await on_source(src, src.init(config_of(just_users)));
        const auto at = co_await on_source(src, src.baseline(just_users, handler));
        stream = std::make_unique<stream_runner>(src, at, handler);
        const auto p = src.insert(users, user(src, 1, "ann"));
        delivered_before = co_await src.wait_delivered(p);
        co_await on_source(src, src.close());
        co_await stream->wait_done();
        // A wait on a closed source completes at once instead of holding the context.
        delivered_after_close = co_await src.wait_delivered(position::from_sequence(99));
        body_done = true;
    };
    boost::asio::co_spawn(ctx, body(), [&](std::exception_ptr e) { failure = e; });
    ctx.run_for(std::chrono::seconds(10));
    EXPECT_TRUE(ctx.stopped()) << "the io_context still had work after close()";
    if (failure) std::rethrow_exception(failure);
    EXPECT_TRUE(body_done);
    EXPECT_TRUE(delivered_before);
    EXPECT_FALSE(delivered_after_close);
    ASSERT_TRUE(stream && stream->done());
    EXPECT_FALSE(stream->failure());
    EXPECT_EQ(src.state(), source_state::closed);
    EXPECT_EQ(src.calls(ts::step::close), 1u);
}

}  // namespace
}  // namespace laredo::testing
