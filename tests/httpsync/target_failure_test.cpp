// The target when the endpoint fails: what is retried and how, what is given up at once,
// broken connections, timeouts, and where a batch that fails for good goes.
#include "httpsync_test_support.hpp"
#include "temp_dir.hpp"

#include "laredo/deadletter/memory_store.hpp"
#include "laredo/error.hpp"

#include <boost/asio/io_context.hpp>

#include <fstream>

namespace laredo::testing::httpsync {
namespace {

using boost::asio::awaitable;

void run(std::function<awaitable<void>(boost::asio::io_context&)> body) {
    run_async(1, 30s, std::move(body));
}

// One call with these changes (a braced list cannot appear inside a co_await statement with
// g++ 12, so the vector is built here).
template <class... Changes>
awaitable<void> send(http_sync_target& t, change_event first, Changes... rest) {
    std::vector<change_event> changes{std::move(first), std::move(rest)...};
    co_await t.on_changes(users, changes);
}

// The error code a call failed with; empty when it did not fail.
template <class... Changes>
awaitable<boost::system::error_code> failure_of(http_sync_target& t, Changes... list) {
    std::vector<change_event> changes{std::move(list)...};
    try {
        co_await t.on_changes(users, changes);
    } catch (const boost::system::system_error& e) {
        co_return e.code();
    }
    co_return boost::system::error_code{};
}

class recording_observer : public targets::httpsync::http_sync_observer {
  public:
    void on_batch_sent(const targets::httpsync::http_sync_event&) override { ++sent; }
    void on_retry(const targets::httpsync::http_sync_event& e,
                  std::chrono::milliseconds delay) override {
        retry_statuses.push_back(e.status);
        delays.push_back(delay);
    }
    void on_batch_failed(const targets::httpsync::http_sync_event& e) override {
        failures.push_back(e.error);
    }
    int sent = 0;
    std::vector<int> retry_statuses;
    std::vector<std::chrono::milliseconds> delays;
    std::vector<std::string> failures;
};

TEST(httpsync_failures, server_errors_are_retried_until_the_batch_is_delivered) {
    test_server server;
    server.script(
        {reply{.status = 500}, reply{.status = 502}, reply{.status = 408}, reply{.status = 200}});
    auto observer = std::make_shared<recording_observer>();
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.max_retries = 3;
        o.observer = observer;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        co_await send(t, insert_change(1, 1), insert_change(2, 2));
        co_await t.on_close(users);
        EXPECT_EQ(t.confirmed_position(), position::from_sequence(2));
        const auto m = t.metrics();
        EXPECT_EQ(m.retries, 3u);
        EXPECT_EQ(m.requests, 4u);
        EXPECT_EQ(m.batches_sent, 1u);
        EXPECT_EQ(m.failures, 0u);
    });
    EXPECT_EQ(observer->retry_statuses, (std::vector<int>{500, 502, 408}));
    EXPECT_EQ(observer->sent, 1);
    // The same body each time.
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 4u);
    for (const auto& r : requests) EXPECT_EQ(r.body, requests[0].body);
}

TEST(httpsync_failures, too_many_requests_waits_as_long_as_retry_after_says) {
    test_server server;
    server.script({reply{.status = 429, .headers = {{"Retry-After", "1"}}}});
    auto observer = std::make_shared<recording_observer>();
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);  // backoff alone would wait 1 ms
        o.observer = observer;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        co_await send(t, insert_change(1, 1));
        co_await t.on_close(users);
    });
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_GE(requests[1].received - requests[0].received, 1s);
    EXPECT_EQ(observer->delays, (std::vector<std::chrono::milliseconds>{1s}));
}

TEST(httpsync_failures, retry_after_is_capped_by_max_retry_after) {
    test_server server;
    server.script({reply{.status = 503, .headers = {{"Retry-After", "3600"}}}});
    auto observer = std::make_shared<recording_observer>();
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.max_retry_after = 20ms;
        o.observer = observer;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        co_await send(t, insert_change(1, 1));
        co_await t.on_close(users);
    });
    EXPECT_EQ(observer->delays, (std::vector<std::chrono::milliseconds>{20ms}));
    EXPECT_EQ(server.request_count(), 2u);
}

TEST(httpsync_failures, a_client_error_is_not_retried_and_dead_letters_every_unsent_change) {
    test_server server;
    server.set_default(reply{.status = 422, .body = R"({"error":"bad row"})"});
    auto store = std::make_shared<deadletter::memory_store>();
    auto observer = std::make_shared<recording_observer>();
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.batch_size = 2;
        o.flush_interval = 10s;
        o.dead_letters = store;
        o.pipeline_id = "test:public.users:httpsync";
        o.observer = observer;
        o.format_position = [](const position& p) { return "seq-" + std::to_string(p.sequence()); };
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        // The first batch (1, 2) fails; 3 waits in the batcher when it does.
        co_await send(t, insert_change(1, 1), insert_change(2, 2), insert_change(3, 3));
        EXPECT_TRUE(co_await eventually([&] { return t.metrics().failed; }));
        // The pipeline hears about it on its next call, whose first change it dead-letters.
        const auto code = co_await failure_of(t, insert_change(4, 4));
        EXPECT_EQ(code, make_error_code(errc::target_failed));
        EXPECT_FALSE(t.is_durable());
        EXPECT_FALSE(t.confirmed_position().has_value());
        const auto m = t.metrics();
        EXPECT_EQ(m.requests, 1u);
        EXPECT_EQ(m.retries, 0u);
        EXPECT_EQ(m.failures, 1u);
        EXPECT_EQ(m.dead_letters, 3u);
        // Until a re-baseline, the target refuses work.
        co_await t.begin_rebuild(users);
        EXPECT_FALSE(t.metrics().failed);
    });
    const auto letters = store->list("test:public.users:httpsync");
    ASSERT_EQ(letters.size(), 3u);
    EXPECT_EQ(letters[0].position, "seq-1");
    EXPECT_EQ(letters[1].position, "seq-2");
    EXPECT_EQ(letters[2].position, "seq-3");
    EXPECT_EQ(letters[0].change.new_values.key(), std::vector<value>{value(std::int64_t{1})});
    EXPECT_EQ(letters[0].error_code, "http:422");
    EXPECT_EQ(letters[0].attempts, 1);
    EXPECT_NE(letters[0].error_message.find("HTTP 422"), std::string::npos);
    EXPECT_NE(letters[0].error_message.find("bad row"), std::string::npos);
    EXPECT_NE(letters[0].error_message.find("retrying cannot help"), std::string::npos);
    EXPECT_EQ(letters[2].attempts, 0);  // never sent
    EXPECT_EQ(letters[2].error_code, "httpsync:not_sent");
    ASSERT_EQ(observer->failures.size(), 1u);
}

TEST(httpsync_failures, exhausted_retries_fail_the_batch_and_the_call_waiting_behind_it) {
    test_server server;
    server.set_default(reply{.status = 503});
    auto store = std::make_shared<deadletter::memory_store>();
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.batch_size = 1;
        o.max_retries = 2;
        o.dead_letters = store;
        o.pipeline_id = "p";
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        // An earlier call's batch goes out and fails; the next call has its first change
        // queued and its second waiting for room when the failure comes: that call's changes
        // are the pipeline's to dead-letter (it writes the first one), so the target keeps
        // only the earlier call's.
        co_await send(t, insert_change(1, 1));
        const auto code = co_await failure_of(t, insert_change(2, 2), insert_change(3, 3));
        EXPECT_EQ(code, make_error_code(errc::target_failed));
        EXPECT_EQ(t.metrics().requests, 3u);
        EXPECT_EQ(t.metrics().retries, 2u);
    });
    const auto letters = store->list("p");
    ASSERT_EQ(letters.size(), 1u);
    EXPECT_EQ(letters[0].change.new_values.key(), std::vector<value>{value(std::int64_t{1})});
    EXPECT_EQ(letters[0].attempts, 3);
    EXPECT_EQ(letters[0].error_code, "http:503");
    EXPECT_NE(letters[0].error_message.find("no retries left"), std::string::npos);
}

TEST(httpsync_failures, a_connection_reset_mid_request_or_mid_response_is_retried) {
    test_server server;
    server.script(
        {reply{.what = reply::fault::reset_after_headers},
         reply{.body = R"({"ok":true,"padding":"0123456789"})", .what = reply::fault::cut_response},
         reply{}});
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        co_await send(t, insert_change(1, 1));
        co_await t.on_close(users);
        EXPECT_EQ(t.confirmed_position(), position::from_sequence(1));
        EXPECT_EQ(t.metrics().retries, 2u);
        EXPECT_EQ(t.metrics().connections, 3u);
    });
    EXPECT_EQ(server.request_count(), 3u);
}

TEST(httpsync_failures, a_hang_up_or_a_malformed_response_is_retried_on_a_new_connection) {
    test_server server;
    server.script(
        {reply{.what = reply::fault::hang_up}, reply{.what = reply::fault::malformed}, reply{}});
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        co_await send(t, insert_change(1, 1));
        co_await t.on_close(users);
        EXPECT_EQ(t.confirmed_position(), position::from_sequence(1));
        EXPECT_EQ(t.metrics().retries, 2u);
        EXPECT_EQ(t.metrics().batches_sent, 1u);
    });
    // The same batch three times, each on a connection of its own.
    const auto seen = server.requests_to("/changes");
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].body, seen[2].body);
    EXPECT_EQ(server.connections(), 3u);
}

TEST(httpsync_failures, an_endpoint_that_only_answers_garbage_fails_the_batch_naming_why) {
    test_server server;
    server.set_default(reply{.what = reply::fault::malformed});
    auto store = std::make_shared<deadletter::memory_store>();
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.batch_size = 1;
        o.max_retries = 1;
        o.dead_letters = store;
        o.pipeline_id = "p";
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        co_await send(t, insert_change(1, 1));
        // The second change of this call waits for room and sees the first batch fail.
        const auto code = co_await failure_of(t, insert_change(2, 2), insert_change(3, 3));
        EXPECT_EQ(code, make_error_code(errc::target_failed));
        EXPECT_FALSE(t.confirmed_position().has_value());
        EXPECT_EQ(t.metrics().failures, 1u);
    });
    const auto letters = store->list("p");
    ASSERT_EQ(letters.size(), 1u);
    EXPECT_EQ(letters[0].attempts, 2);
    EXPECT_EQ(letters[0].error_code.rfind("beast.http:", 0), 0u) << letters[0].error_code;
    EXPECT_NE(letters[0].error_message.find("POST " + server.url() + "/hooks/changes"),
              std::string::npos)
        << letters[0].error_message;
}

TEST(httpsync_failures, a_request_that_times_out_is_retried) {
    test_server server;
    server.script({reply{.delay = 2s}});
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.request_timeout = 100ms;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        co_await send(t, insert_change(1, 1));
        co_await t.on_close(users);
        EXPECT_EQ(t.confirmed_position(), position::from_sequence(1));
        EXPECT_EQ(t.metrics().retries, 1u);
    });
    EXPECT_EQ(server.request_count(), 2u);
}

TEST(httpsync_failures, a_refused_connection_is_retried_then_fails_naming_the_url) {
    std::string url;
    {
        test_server gone;  // a port nobody listens on any more
        url = gone.url();
    }
    run([&](boost::asio::io_context&) -> awaitable<void> {
        http_sync_options o;
        o.base_url = url + "/hooks";
        o.retry_initial_backoff = 1ms;
        o.retry_max_backoff = 1ms;
        o.max_retries = 2;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        std::string message;
        try {
            co_await t.on_baseline_complete(users, position::from_sequence(1));
        } catch (const error& e) {
            message = e.what();
        }
        EXPECT_NE(message.find(url + "/hooks/baseline/start"), std::string::npos) << message;
        EXPECT_NE(message.find("after 3 attempt(s)"), std::string::npos) << message;
        EXPECT_EQ(t.metrics().retries, 2u);
        EXPECT_EQ(t.metrics().batches_sent, 0u);
    });
}

TEST(httpsync_failures, a_rotated_token_is_read_again_after_a_401) {
    test_server server;
    server.script({reply{}, reply{.status = 401}});
    temp_dir dir("laredo-httpsync");
    const auto file = (dir.path() / "token").string();
    std::ofstream(file) << "old";
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.batch_size = 1;
        o.bearer_token_file = file;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        co_await send(t, insert_change(1, 1));
        EXPECT_TRUE(co_await eventually([&] { return t.is_durable(); }));
        // Rotated while the connection stays open: the old token is refused once.
        std::ofstream(file) << "new";
        co_await send(t, insert_change(2, 2));
        co_await t.on_close(users);
        EXPECT_EQ(t.confirmed_position(), position::from_sequence(2));
    });
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0].header("authorization"), "Bearer old");
    EXPECT_EQ(requests[1].header("authorization"), "Bearer old");
    EXPECT_EQ(requests[2].header("authorization"), "Bearer new");
    EXPECT_EQ(server.connections(), 1u);
}

TEST(httpsync_failures, a_401_with_the_same_token_is_not_retried_and_the_token_is_never_shown) {
    test_server server;
    server.set_default(reply{.status = 401});
    run([&](boost::asio::io_context&) -> awaitable<void> {
        auto o = fast_options(server);
        o.bearer_token = "s3cret-token";
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        co_await send(t, insert_change(1, 1));
        std::string message;
        try {
            co_await t.on_close(users);
        } catch (const error& e) {
            message = e.what();
        }
        EXPECT_NE(message.find("HTTP 401"), std::string::npos) << message;
        EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
        EXPECT_EQ(t.metrics().requests, 1u);
    });
}

}  // namespace
}  // namespace laredo::testing::httpsync
