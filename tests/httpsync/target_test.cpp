// The target on its own (the calls a pipeline makes, on one strand) against a real HTTP
// server: the flow of a baseline and changes, batching by size, bytes and time,
// transactions, keep-alive, headers and durability.
#include "httpsync_test_support.hpp"
#include "temp_dir.hpp"

#include <boost/asio/io_context.hpp>

#include <fstream>

namespace laredo::testing::httpsync {
namespace {

using boost::asio::awaitable;

void run(std::function<awaitable<void>(boost::asio::io_context&)> body) {
    run_async(1, 30s, std::move(body));
}

awaitable<void> send(http_sync_target& t, std::vector<change_event> changes) {
    co_await t.on_changes(users, changes);
}

// One call with these changes (a braced list cannot appear inside a co_await statement with
// g++ 12, so the vector is built here).
template <class... Changes>
awaitable<void> send(http_sync_target& t, change_event first, Changes... rest) {
    std::vector<change_event> changes{std::move(first), std::move(rest)...};
    co_await t.on_changes(users, changes);
}

TEST(httpsync_target, baseline_then_changes_arrive_in_order_over_one_connection) {
    test_server server;
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.flush_interval = 10s;  // only full batches and the explicit ends go out
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        std::vector<row> rows;
        for (int i = 1; i <= 250; ++i) rows.push_back(user_row(i, "user" + std::to_string(i)));
        co_await t.on_baseline_rows(users, rows);
        co_await t.on_baseline_complete(users, position::from_sequence(10));
        // The endpoint has the whole copy when on_baseline_complete returns.
        EXPECT_EQ(paths(server),
                  (std::vector<std::string>{"/baseline/start", "/baseline/batch", "/baseline/batch",
                                            "/baseline/batch", "/baseline/complete"}));
        EXPECT_TRUE(t.is_durable());
        EXPECT_EQ(t.confirmed_position(), position::from_sequence(10));

        change_event update = insert_change(12, 3, "renamed");
        update.action = change_action::update;
        change_event remove = insert_change(13, 4);
        remove.action = change_action::delete_;
        remove.old_values = user_row(4, "user4");
        remove.new_values = row();
        change_event truncate = insert_change(14, 0);
        truncate.action = change_action::truncate;
        truncate.new_values = row();
        co_await send(t, insert_change(11, 251), update, remove, truncate);
        EXPECT_FALSE(t.is_durable());  // waiting for the timer or more changes
        co_await t.on_close(users);
        EXPECT_TRUE(t.is_durable());
        EXPECT_EQ(t.confirmed_position(), position::from_sequence(14));
        const auto got = received_changes(server);
        HS_CO_ASSERT(got.size() == 4u);
        EXPECT_EQ(got[0].at("action"), "INSERT");
        EXPECT_EQ(got[1].at("action"), "UPDATE");
        EXPECT_EQ(got[2].at("action"), "DELETE");
        EXPECT_EQ(got[3].at("action"), "TRUNCATE");
        EXPECT_EQ(got[2].at("identity"), (boost::json::object{{"id", 4}}));
        const auto m = t.metrics();
        EXPECT_EQ(m.batches_sent, 6u);
        EXPECT_EQ(m.rows_sent, 254u);
        EXPECT_EQ(m.connections, 1u);
        EXPECT_EQ(m.retries, 0u);
        EXPECT_EQ(m.latency_count, 6u);
        EXPECT_EQ(m.latency_buckets.back(), 6u);
        EXPECT_EQ(m.queued_rows, 0u);
    });
    EXPECT_EQ(server.connections(), 1u);  // keep-alive
    EXPECT_EQ(expect_all_valid(server), 6u);
    const auto batches = server.requests_to("/baseline/batch");
    ASSERT_EQ(batches.size(), 3u);
    EXPECT_EQ(laredo::json::parse(batches[2].body).at("rows").as_array().size(), 50u);
    EXPECT_EQ(laredo::json::parse(server.requests_to("/baseline/complete")[0].body).at("rows"),
              250);
}

TEST(httpsync_target, a_batch_goes_out_when_it_holds_batch_size_changes) {
    test_server server;
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.batch_size = 10;
        o.flush_interval = 10s;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        std::vector<change_event> changes;
        for (std::uint64_t i = 1; i <= 25; ++i) changes.push_back(insert_change(i, i));
        co_await send(t, changes);
        EXPECT_TRUE(
            co_await eventually([&] { return server.requests_to("/changes").size() == 2; }));
        co_await t.on_close(users);
    });
    EXPECT_EQ(batch_sizes(server), (std::vector<std::size_t>{10, 10, 5}));
    expect_all_valid(server);
}

TEST(httpsync_target, a_batch_never_exceeds_batch_bytes) {
    test_server server;
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.batch_bytes = 2048;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        std::vector<change_event> changes;
        for (std::uint64_t i = 1; i <= 30; ++i)
            changes.push_back(
                insert_change(i, static_cast<std::int64_t>(i), std::string(300, 'x')));
        co_await send(t, changes);
        co_await t.on_close(users);
    });
    const auto requests = server.requests_to("/changes");
    EXPECT_GT(requests.size(), 5u);
    std::size_t total = 0;
    for (const auto& r : requests) {
        EXPECT_LE(r.body.size(), 2048u);
        total += laredo::json::parse(r.body).as_array().size();
    }
    EXPECT_EQ(total, 30u);
    expect_all_valid(server);
}

TEST(httpsync_target, a_batch_that_is_not_full_goes_out_after_flush_interval) {
    test_server server;
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.flush_interval = 30ms;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        co_await send(t, insert_change(1, 1), insert_change(2, 2));
        EXPECT_FALSE(t.is_durable());
        // No further call: only the timer can send it.
        EXPECT_TRUE(
            co_await eventually([&] { return server.requests_to("/changes").size() == 1; }));
        EXPECT_TRUE(co_await eventually([&] { return t.is_durable(); }));
        EXPECT_EQ(t.confirmed_position(), position::from_sequence(2));
        co_await t.on_close(users);
    });
    EXPECT_EQ(batch_sizes(server), (std::vector<std::size_t>{2}));
}

TEST(httpsync_target, a_transaction_goes_in_one_batch_and_the_timer_waits_for_its_end) {
    test_server server;
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.batch_size = 5;
        o.flush_interval = 10ms;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        // Transaction 1 (3 changes), then transaction 2 (4 changes) handed over in two calls
        // with a pause between them longer than flush_interval.
        co_await send(t, insert_change(1, 1, "a", false, 1), insert_change(2, 2, "b", false, 1),
                      insert_change(3, 3, "c", true, 1), insert_change(4, 4, "d", false, 2),
                      insert_change(5, 5, "e", false, 2));
        // Transaction 1 goes out on time; transaction 2 waits for its end, however long.
        EXPECT_TRUE(
            co_await eventually([&] { return server.requests_to("/changes").size() == 1; }));
        co_await sleep_for(50ms);
        EXPECT_EQ(batch_sizes(server), (std::vector<std::size_t>{3}));
        co_await send(t, insert_change(6, 6, "f", false, 2), insert_change(7, 7, "g", true, 2));
        EXPECT_TRUE(
            co_await eventually([&] { return server.requests_to("/changes").size() == 2; }));
        co_await t.on_close(users);
    });
    EXPECT_EQ(batch_sizes(server), (std::vector<std::size_t>{3, 4}));
    const auto got = received_changes(server);
    ASSERT_EQ(got.size(), 7u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(got[i].at("commit_position"), "3");
    for (std::size_t i = 3; i < 7; ++i) EXPECT_EQ(got[i].at("commit_position"), "7");
    expect_all_valid(server);
}

TEST(httpsync_target, is_not_durable_and_confirms_nothing_new_while_the_endpoint_stalls) {
    test_server server;
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.batch_size = 2;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        co_await send(t, insert_change(1, 1), insert_change(2, 2));
        EXPECT_TRUE(co_await eventually([&] { return t.is_durable(); }));
        server.stall(true);
        co_await send(t, insert_change(3, 3), insert_change(4, 4));
        EXPECT_TRUE(co_await eventually([&] { return server.request_count() == 2; }));
        co_await sleep_for(50ms);
        EXPECT_FALSE(t.is_durable());
        EXPECT_EQ(t.confirmed_position(), position::from_sequence(2));
        server.stall(false);
        EXPECT_TRUE(co_await eventually([&] { return t.is_durable(); }));
        EXPECT_EQ(t.confirmed_position(), position::from_sequence(4));
        co_await t.on_close(users);
    });
}

TEST(httpsync_target, sends_custom_headers_the_token_from_a_file_and_idempotency_keys) {
    test_server server;
    temp_dir dir("laredo-httpsync");
    const auto token_file = (dir.path() / "token").string();
    std::ofstream(token_file) << "tok-123\n";
    server.script({reply{.status = 503}, reply{.status = 200}});
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.batch_size = 1;
        o.headers["X-Tenant"] = "acme";
        o.bearer_token_file = token_file;
        o.idempotency_keys = true;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        co_await send(t, insert_change(1, 1));
        co_await send(t, insert_change(2, 2));
        co_await t.on_close(users);
    });
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 3u);  // the first batch twice (503, then 200), then the second
    for (const auto& r : requests) {
        EXPECT_EQ(r.method, "POST");
        EXPECT_EQ(r.target, "/hooks/changes");
        EXPECT_EQ(r.header("x-tenant"), "acme");
        EXPECT_EQ(r.header("authorization"), "Bearer tok-123");
        EXPECT_EQ(r.header("content-type"), "application/json");
        EXPECT_EQ(r.header("user-agent").rfind("laredo-httpsync/", 0), 0u);
        EXPECT_EQ(r.header("idempotency-key").size(), 36u);
    }
    // Stable across the retries of one batch, new for the next batch.
    EXPECT_EQ(requests[0].header("idempotency-key"), requests[1].header("idempotency-key"));
    EXPECT_NE(requests[1].header("idempotency-key"), requests[2].header("idempotency-key"));
}

TEST(httpsync_target, a_server_that_closes_the_connection_gets_a_new_one) {
    test_server server;
    server.set_default(reply{.close = true});
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.batch_size = 1;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        for (std::uint64_t i = 1; i <= 3; ++i) co_await send(t, insert_change(i, i));
        co_await t.on_close(users);
        EXPECT_EQ(t.metrics().connections, 3u);
        EXPECT_EQ(t.metrics().retries, 0u);
    });
    EXPECT_EQ(server.connections(), 3u);
    EXPECT_EQ(server.request_count(), 3u);
}

TEST(httpsync_target, a_schema_change_rebaselines_by_default_or_continues_when_configured) {
    test_server server;
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        http_sync_target rebaseline(o);
        o.on_schema_change = schema_change_action::continue_;
        http_sync_target carry_on(o);
        const auto wider = [] {
            auto columns = user_columns();
            columns.push_back({.name = "email", .type = "text", .ordinal_position = 4});
            return row_schema::make(columns);
        }();
        const auto a = co_await rebaseline.on_schema_change(users, *user_schema(), *wider);
        EXPECT_EQ(a.action, schema_change_action::rebaseline);
        const auto b = co_await carry_on.on_schema_change(users, *user_schema(), *wider);
        EXPECT_EQ(b.action, schema_change_action::continue_);
    });
}

}  // namespace
}  // namespace laredo::testing::httpsync
