// The target under the engine, fed by the test source, against a real HTTP server: the whole
// flow, the ACK held behind what the endpoint answered, backpressure from a slow endpoint,
// dead letters and the error policy, and a schema change. Each case runs on 1 and 4 threads.
#include "httpsync_test_support.hpp"

#include "laredo/deadletter/memory_store.hpp"
#include "laredo/engine.hpp"
#include "laredo/sources/testsource/test_source.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace laredo::testing::httpsync {
namespace {

using boost::asio::awaitable;
using boost::asio::use_awaitable;
using sources::testsource::test_source;
using sources::testsource::test_source_options;

class httpsync_engine : public ::testing::TestWithParam<int> {
  protected:
    void run(std::function<awaitable<void>(boost::asio::io_context&)> body) {
        run_async(GetParam(), 60s, std::move(body));
    }
};

row user(const test_source& src, std::int64_t id, std::string name) {
    return src.make_row(
        users, {{"id", value(id)}, {"name", value(std::move(name))}, {"status", value("active")}});
}

// Target options that write positions in the source's own form.
http_sync_options options_for(const test_server& server, const std::shared_ptr<test_source>& src) {
    auto o = fast_options(server);
    o.format_position = [src](const position& p) { return src->position_to_string(p); };
    return o;
}

std::uint64_t sequence_of(const boost::json::value& v) {
    return std::stoull(std::string(v.as_string()));
}

TEST_P(httpsync_engine, a_baseline_then_streamed_changes_reach_the_endpoint_in_order) {
    test_server server;
    run([&](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        for (int i = 1; i <= 3; ++i) src->add_row(users, user(*src, i, "base" + std::to_string(i)));
        auto target = std::make_shared<http_sync_target>(options_for(server, src));
        auto eng = engine::builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        // Ready means the endpoint has the whole copy.
        EXPECT_EQ(paths(server), (std::vector<std::string>{"/baseline/start", "/baseline/batch",
                                                           "/baseline/complete"}));
        src->insert(users, user(*src, 4, "new"));
        src->update(users, user(*src, 1, "renamed"));
        src->remove(users, src->make_row(users, {{"id", value(2)}}));
        test_source::transaction tx;
        tx.insert(users, user(*src, 5, "a"));
        tx.insert(users, user(*src, 6, "b"));
        tx.update(users, user(*src, 5, "a2"));
        const auto last = src->commit(std::move(tx));
        EXPECT_TRUE(co_await eventually([&] { return received_changes(server).size() == 6; }));
        EXPECT_TRUE(co_await eventually([&] {
            src->heartbeat();
            return src->last_acked() == last;
        }));
        co_await eng.async_stop(use_awaitable);
    });
    EXPECT_EQ(expect_all_valid(server), server.request_count());
    const auto got = received_changes(server);
    ASSERT_EQ(got.size(), 6u);
    std::vector<std::string> actions;
    for (const auto& c : got) actions.emplace_back(c.at("action").as_string());
    EXPECT_EQ(actions, (std::vector<std::string>{"INSERT", "UPDATE", "DELETE", "INSERT", "INSERT",
                                                 "UPDATE"}));
    for (std::size_t i = 1; i < got.size(); ++i)
        EXPECT_LT(sequence_of(got[i - 1].at("position")), sequence_of(got[i].at("position")));
    // The transaction's three changes share its id and commit position, in one request.
    EXPECT_EQ(got[3].at("transaction_id"), got[5].at("transaction_id"));
    EXPECT_EQ(got[3].at("commit_position"), got[5].at("position"));
    EXPECT_EQ(got[4].at("commit_position"), got[5].at("position"));
    EXPECT_NE(got[2].at("transaction_id"), got[3].at("transaction_id"));
    const auto batches = server.requests_to("/baseline/batch");
    ASSERT_EQ(batches.size(), 1u);
    EXPECT_EQ(laredo::json::parse(batches[0].body).at("rows").as_array().size(), 3u);
}

TEST_P(httpsync_engine, the_ack_never_passes_a_batch_the_endpoint_has_not_answered) {
    test_server server;
    run([&](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto target = std::make_shared<http_sync_target>(options_for(server, src));
        auto eng = engine::builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        const auto before = src->insert(users, user(*src, 1, "answered"));
        EXPECT_TRUE(co_await eventually([&] {
            src->heartbeat();
            return src->last_acked() == before;
        }));

        server.stall(true);
        const auto first = src->insert(users, user(*src, 2, "held"));
        const auto second = src->insert(users, user(*src, 3, "held too"));
        EXPECT_TRUE(co_await eventually([&] {
            return received_changes(server).size() == 3 && src->delivered_position() == second;
        }));
        // The source has moved on and says so, repeatedly; the endpoint has not answered.
        for (int i = 0; i < 10; ++i) {
            src->heartbeat();
            co_await sleep_for(10ms);
        }
        for (const auto& acked : src->acked_positions())
            EXPECT_LT(src->compare_positions(acked, first), 0) << acked.debug_string();
        EXPECT_FALSE(target->confirmed_position() == second);

        server.stall(false);
        // The answer makes the target durable; the next heartbeat carries the ACK there.
        EXPECT_TRUE(co_await eventually([&] {
            src->heartbeat();
            return src->last_acked() == second;
        }));
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(httpsync_engine, a_slow_endpoint_slows_the_source_instead_of_queueing) {
    test_server server;
    server.set_default(reply{.delay = 15ms});
    constexpr std::size_t changes = 150;
    constexpr std::size_t buffer = 20;
    constexpr std::size_t batch = 5;
    std::size_t widest_gap = 0;
    run([&](boost::asio::io_context& ctx) -> awaitable<void> {
        test_source_options source_options;
        source_options.batch_size = batch;
        auto src = std::make_shared<test_source>(ctx.get_executor(), source_options);
        src->set_schema(users, user_columns());
        auto o = options_for(server, src);
        o.batch_size = batch;
        o.flush_interval = 5ms;
        auto target = std::make_shared<http_sync_target>(o);
        pipeline_options pipeline;
        pipeline.buffer_size = buffer;
        auto eng = engine::builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, pipeline)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        for (std::size_t i = 1; i <= changes; ++i)
            src->insert(users, user(*src, static_cast<std::int64_t>(i), "row"));
        // How far the source runs ahead of what the endpoint has received (read in this
        // order, the gap is never overstated).
        for (;;) {
            const auto delivered = src->delivered_position().sequence();
            const auto received = received_changes(server).size();
            widest_gap = std::max(widest_gap, static_cast<std::size_t>(delivered) - received);
            if (received == changes) break;
            co_await sleep_for(2ms);
        }
        co_await eng.async_stop(use_awaitable);
    });
    // The pipeline's buffer, the batch on the wire, one waiting behind it, one collecting
    // (with what the pipeline's current work adds to it): nothing else may hold changes.
    // Without backpressure the gap would approach all 150.
    EXPECT_LE(widest_gap, buffer + 4 * batch);
    EXPECT_GT(widest_gap, 0u);
    EXPECT_EQ(expect_all_valid(server), server.request_count());
}

TEST_P(httpsync_engine, a_batch_that_fails_for_good_is_dead_lettered_and_the_error_policy_applies) {
    test_server server;
    auto store = std::make_shared<deadletter::memory_store>();
    run([&](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "base"));
        auto o = options_for(server, src);
        o.max_retries = 1;
        o.dead_letters = store;
        o.pipeline_id = "users-hook";
        auto target = std::make_shared<http_sync_target>(o);
        pipeline_options pipeline;
        pipeline.id = "users-hook";
        engine_options engine_opts;
        engine_opts.dead_letters = store;
        auto eng = engine::builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, pipeline)
                       .with_options(engine_opts)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);

        server.set_default(reply{.status = 500});
        const auto lost = src->insert(users, user(*src, 2, "refused"));
        EXPECT_TRUE(co_await eventually([&] { return target->metrics().failed; }));
        // The pipeline hears of it with its next change, which it dead-letters itself.
        const auto next = src->insert(users, user(*src, 3, "after"));
        EXPECT_TRUE(
            co_await eventually([&] { return eng.pipelines()[0].state == pipeline_state::error; }));
        const auto letters = eng.dead_letters("users-hook");
        HS_CO_ASSERT(letters.size() == 2u);
        EXPECT_EQ(letters[0].position, src->position_to_string(lost));
        EXPECT_EQ(letters[0].attempts, 2);
        EXPECT_EQ(letters[0].error_code, "http:500");
        EXPECT_EQ(letters[1].position, src->position_to_string(next));
        EXPECT_NE(eng.pipelines()[0].last_error.find("HTTP 500"), std::string::npos)
            << eng.pipelines()[0].last_error;
        for (const auto& acked : src->acked_positions())
            EXPECT_LT(src->compare_positions(acked, lost), 0);

        // The endpoint is back: a reload brings the pipeline back with a new copy.
        server.set_default(reply{});
        co_await eng.async_reload("test", users, use_awaitable);
        EXPECT_EQ(eng.pipelines()[0].state, pipeline_state::streaming);
        const auto after = src->insert(users, user(*src, 4, "back"));
        EXPECT_TRUE(co_await eventually([&] {
            src->heartbeat();
            return src->last_acked() == after;
        }));
        co_await eng.async_stop(use_awaitable);
    });
    const auto starts = server.requests_to("/baseline/start");
    EXPECT_EQ(starts.size(), 2u);
    const auto batches = server.requests_to("/baseline/batch");
    ASSERT_FALSE(batches.empty());
    EXPECT_EQ(laredo::json::parse(batches.back().body).at("rows").as_array().size(), 3u);
    expect_all_valid(server);
}

TEST_P(httpsync_engine, a_schema_change_sends_a_new_copy_with_the_new_columns) {
    test_server server;
    run([&](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "ann"));
        auto target = std::make_shared<http_sync_target>(options_for(server, src));
        auto eng = engine::builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        auto columns = user_columns();
        columns.push_back({.name = "email", .type = "text", .ordinal_position = 4});
        src->alter_schema(users, columns);
        const auto last = src->insert(
            users, src->make_row(
                       users, {{"id", value(2)}, {"name", value("bob")}, {"email", value("b@x")}}));
        EXPECT_TRUE(co_await eventually([&] {
            src->heartbeat();
            return src->last_acked() == last;
        }));
        co_await eng.async_stop(use_awaitable);
    });
    const auto starts = server.requests_to("/baseline/start");
    ASSERT_EQ(starts.size(), 2u);
    EXPECT_EQ(laredo::json::parse(starts[1].body).at("columns").as_array().size(), 4u);
    const auto batches = server.requests_to("/baseline/batch");
    ASSERT_EQ(batches.size(), 2u);
    const auto rows = laredo::json::parse(batches[1].body).at("rows").as_array();
    ASSERT_EQ(rows.size(), 2u);
    expect_all_valid(server);
}

INSTANTIATE_TEST_SUITE_P(threads, httpsync_engine, ::testing::Values(1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                             return std::to_string(info.param) + "_threads";
                         });

}  // namespace
}  // namespace laredo::testing::httpsync
