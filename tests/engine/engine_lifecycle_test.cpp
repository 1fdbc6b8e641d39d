#include "engine_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>

#include <future>
#include <thread>

namespace laredo::testing {
namespace {

TEST_P(engine_test, baseline_loads_every_row_then_ready) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        for (int i = 1; i <= 100; ++i) src->add_row(users, user(*src, i, "u" + std::to_string(i)));
        auto target = std::make_shared<recording_target>();
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        EXPECT_FALSE(eng.is_ready());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_TRUE(eng.is_ready());
        EXPECT_TRUE(eng.is_source_ready("test"));
        EXPECT_FALSE(eng.is_source_ready("nope"));
        EXPECT_EQ(target->count(), 100u);
        EXPECT_EQ(target->get(key(42))->at("name"), value("u42"));
        const auto info = eng.pipelines();
        CO_ASSERT_TRUE(info.size() == 1);
        EXPECT_EQ(info[0].id, "test:public.users:recording");
        EXPECT_EQ(info[0].state, pipeline_state::streaming);
        EXPECT_EQ(eng.table_schema("test", users)->size(), 3u);
        EXPECT_EQ(eng.target<recording_target>("test", users), target);

        co_await eng.async_stop(use_awaitable);
        EXPECT_TRUE(target->closed());
        EXPECT_EQ(eng.pipelines()[0].state, pipeline_state::stopped);
        EXPECT_EQ(src->state(), source_state::closed);
        EXPECT_EQ(src->calls(step::close), 1u);
    });
}

TEST_P(engine_test, lifecycle_misuse_is_an_error) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, std::make_shared<recording_target>())
                       .build(ctx.get_executor());
        auto [e1] = co_await eng.async_stop(boost::asio::as_tuple(use_awaitable));
        EXPECT_EQ(e1, errc::not_started);
        auto [e2] = co_await eng.async_pause("test", boost::asio::as_tuple(use_awaitable));
        EXPECT_EQ(e2, errc::not_started);

        co_await eng.async_start(use_awaitable);
        auto [e3] = co_await eng.async_start(boost::asio::as_tuple(use_awaitable));
        EXPECT_EQ(e3, errc::already_started);
        auto [e4] = co_await eng.async_pause("nope", boost::asio::as_tuple(use_awaitable));
        EXPECT_EQ(e4, errc::unknown_source);
        auto [e5] = co_await eng.async_reload("nope", users, boost::asio::as_tuple(use_awaitable));
        EXPECT_EQ(e5, errc::unknown_source);
        co_await eng.async_await_ready(use_awaitable);
        auto [e6] = co_await eng.async_reload("test", orders, boost::asio::as_tuple(use_awaitable));
        EXPECT_EQ(e6, errc::unknown_table);

        co_await eng.async_stop(use_awaitable);
        auto [e7] = co_await eng.async_stop(boost::asio::as_tuple(use_awaitable));
        EXPECT_EQ(e7, errc::stopped);
        auto [e8] = co_await eng.async_start(boost::asio::as_tuple(use_awaitable));
        EXPECT_EQ(e8, errc::stopped);
        auto [e9] = co_await eng.async_resume("test", boost::asio::as_tuple(use_awaitable));
        EXPECT_EQ(e9, errc::stopped);
    });
}

TEST_P(engine_test, failing_init_never_readies_and_stop_still_works) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->fail_next(step::init, errc::source_failed);
        auto target = std::make_shared<recording_target>();
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        const bool errored =
            co_await until(eng, [&] { return eng.pipelines()[0].state == pipeline_state::error; });
        EXPECT_TRUE(errored);
        EXPECT_FALSE(eng.is_ready());
        EXPECT_FALSE(eng.is_source_ready("test"));
        EXPECT_EQ(target->baselines_completed(), 0u);
        co_await eng.async_stop(use_awaitable);
        EXPECT_EQ(eng.pipelines()[0].state, pipeline_state::stopped);
        EXPECT_EQ(src->calls(step::close), 1u);
    });
}

TEST_P(engine_test, retryable_init_failure_is_retried_with_backoff) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "ann"));
        src->fail_next(step::init, errc::transient, 2);
        auto target = std::make_shared<recording_target>();
        engine_options options;
        options.source_retry.initial = std::chrono::milliseconds(5);
        auto eng = test_builder()
                       .with_options(options)
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_EQ(src->calls(step::init), 3u);
        EXPECT_EQ(target->count(), 1u);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_test, unknown_table_fails_only_its_pipeline) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, std::make_shared<recording_target>())
                       .add_pipeline("test", table_identifier("public", "missing"),
                                     std::make_shared<recording_target>())
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        // init names the unknown table: a fatal error, so every pipeline of the source fails.
        const bool failed = co_await until(eng, [&] {
            const auto ps = eng.pipelines();
            return ps[0].state == pipeline_state::error && ps[1].state == pipeline_state::error;
        });
        EXPECT_TRUE(failed);
        co_await eng.async_stop(use_awaitable);
    });
}

INSTANTIATE_TEST_SUITE_P(threads, engine_test, ::testing::Values(1, 4), thread_suffix);

// ---------------------------------------------------------------------------------------

TEST(engine_config, reports_every_problem_at_once) {
    boost::asio::io_context ctx;
    auto src = std::make_shared<test_source>(ctx.get_executor());
    auto target = [] { return std::make_shared<recording_target>(); };
    pipeline_options named;
    named.id = "mine";
    pipeline_options zero_buffer;
    zero_buffer.buffer_size = 0;
    pipeline_options negative_retries;
    negative_retries.retry.attempts = -2;
    try {
        (void)test_builder()
            .add_source("a", src)
            .add_source("a", src)
            .add_source("", nullptr)
            .add_pipeline("a", users, target(), named)
            .add_pipeline("a", orders, target(), named)  // the same id given twice
            .add_pipeline("nope", users, target())
            .add_pipeline("a", table_identifier("", "t"), nullptr)
            .add_pipeline("a", orders, target(), zero_buffer)
            .add_pipeline("a", table_identifier("public", "x"), target(), negative_retries)
            .build(ctx.get_executor());
        FAIL() << "accepted a broken configuration";
    } catch (const config_error& e) {
        const auto& p = e.problems();
        auto has = [&](const std::string& text) {
            return std::any_of(p.begin(), p.end(), [&](const std::string& s) {
                return s.find(text) != std::string::npos;
            });
        };
        EXPECT_TRUE(has("duplicate source id")) << e.what();
        EXPECT_TRUE(has("source[2]: empty id")) << e.what();
        EXPECT_TRUE(has("source is null")) << e.what();
        EXPECT_TRUE(has("pipeline[1]: duplicate pipeline id \"mine\"")) << e.what();
        EXPECT_TRUE(has("pipeline[2]: unknown source \"nope\"")) << e.what();
        EXPECT_TRUE(has("pipeline[3]: table needs a schema")) << e.what();
        EXPECT_TRUE(has("pipeline[3]: target is null")) << e.what();
        EXPECT_TRUE(has("pipeline[4]: buffer_size must be > 0")) << e.what();
        EXPECT_TRUE(has("pipeline[5]: retry: attempts must be >= -1")) << e.what();
        EXPECT_EQ(e.code(), errc::invalid_config);
    }
}

TEST(engine_config, default_pipeline_ids_are_unique_without_help) {
    boost::asio::io_context ctx;
    auto src = std::make_shared<test_source>(ctx.get_executor());
    pipeline_options named;
    named.id = "a:public.users:recording:2";  // a generated id keeps out of its way
    auto eng = test_builder()
                   .add_source("a", src)
                   .add_pipeline("a", users, std::make_shared<recording_target>())
                   .add_pipeline("a", users, std::make_shared<recording_target>(), named)
                   .add_pipeline("a", users, std::make_shared<recording_target>())
                   .add_pipeline("a", orders, std::make_shared<recording_target>())
                   .build(ctx.get_executor());
    std::vector<std::string> ids;
    for (const auto& p : eng.pipelines()) ids.push_back(p.id);
    EXPECT_EQ(
        ids, (std::vector<std::string>{"a:public.users:recording", "a:public.users:recording:2",
                                       "a:public.users:recording:3", "a:public.orders:recording"}));
}

TEST(engine_config, one_target_object_in_two_pipelines_is_refused_naming_both) {
    boost::asio::io_context ctx;
    auto src = std::make_shared<test_source>(ctx.get_executor());
    auto shared = std::make_shared<recording_target>();
    pipeline_options first;
    first.id = "first";
    pipeline_options second;
    second.id = "second";
    try {
        (void)test_builder()
            .add_source("a", src)
            .add_pipeline("a", users, shared, first)
            .add_pipeline("a", orders, shared, second)
            .build(ctx.get_executor());
        FAIL() << "accepted one target object in two pipelines";
    } catch (const config_error& e) {
        ASSERT_EQ(e.problems().size(), 1u) << e.what();
        EXPECT_EQ(e.problems()[0],
                  "pipeline[1] \"second\": its target object is already the target of "
                  "pipeline[0] \"first\" (one target object per pipeline)");
    }
}

TEST(engine_config, empty_configuration_is_refused) {
    boost::asio::io_context ctx;
    try {
        (void)test_builder().build(ctx.get_executor());
        FAIL() << "accepted an empty configuration";
    } catch (const config_error& e) {
        ASSERT_EQ(e.problems().size(), 2u);
        EXPECT_EQ(e.problems()[0], "no sources configured");
        EXPECT_EQ(e.problems()[1], "no pipelines configured");
    }
}

TEST(engine_readiness, blocking_wait_and_callback_from_other_threads) {
    boost::asio::io_context ctx;
    auto src = std::make_shared<test_source>(ctx.get_executor());
    src->set_schema(users, user_columns());
    src->add_row(users, user(*src, 1, "ann"));
    auto eng = test_builder()
                   .add_source("test", src)
                   .add_pipeline("test", users, std::make_shared<recording_target>())
                   .build(ctx.get_executor());
    std::atomic<int> callbacks{0};
    eng.on_ready([&] { ++callbacks; });
    EXPECT_FALSE(eng.await_ready(std::chrono::milliseconds(0)));
    auto guard = boost::asio::make_work_guard(ctx);
    std::thread io([&] { ctx.run(); });
    eng.async_start(boost::asio::detached);
    EXPECT_TRUE(eng.await_ready(std::chrono::seconds(10)));
    EXPECT_EQ(callbacks.load(), 1);
    eng.on_ready([&] { ++callbacks; });  // already ready: called at once
    EXPECT_EQ(callbacks.load(), 2);
    std::promise<boost::system::error_code> stopped;
    eng.async_stop([&](boost::system::error_code ec) { stopped.set_value(ec); });
    EXPECT_EQ(stopped.get_future().get(), boost::system::error_code());
    guard.reset();
    io.join();
}

}  // namespace
}  // namespace laredo::testing
