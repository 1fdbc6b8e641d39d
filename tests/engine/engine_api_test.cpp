// The engine's public operations in Asio's conventions: every completion style, the
// diagnostics, cancellation of each kind of wait, and what a cancelled caller leaves behind.
#include "engine_test_support.hpp"
#include "scripted_source.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <future>
#include <thread>

namespace laredo::testing {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using boost::system::error_code;

class engine_api : public engine_test {};

// A source with one table whose baseline takes `rows` x 20 ms: long enough to act before ready.
std::shared_ptr<test_source> slow_source(asio::io_context& ctx, int rows) {
    test_source_options options;
    options.baseline_row_delay = std::chrono::milliseconds(20);
    auto src = std::make_shared<test_source>(ctx.get_executor(), options);
    src->set_schema(users, user_columns());
    for (int i = 1; i <= rows; ++i) src->add_row(users, user(*src, i, "u"));
    return src;
}

engine one_pipeline(asio::io_context& ctx, std::shared_ptr<test_source> src,
                    std::shared_ptr<sync_target> target = std::make_shared<recording_target>()) {
    return test_builder()
        .add_source("test", std::move(src))
        .add_pipeline("test", users, std::move(target))
        .build(ctx.get_executor());
}

TEST_P(engine_api, default_token_throws_the_code_with_its_message) {
    run([](asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto eng = one_pipeline(ctx, src);
        EXPECT_EQ(eng.get_executor(), asio::any_io_executor(ctx.get_executor()));
        co_await eng.async_start();
        std::string what;
        error_code code;
        try {
            co_await eng.async_pause("nope");
        } catch (const error& e) {
            what = e.what();
            code = e.code();
        }
        EXPECT_EQ(code, errc::unknown_source);
        EXPECT_NE(what.find("unknown source: nope"), std::string::npos) << what;
        co_await eng.async_await_ready();
        co_await eng.async_stop();
    });
}

TEST_P(engine_api, every_completion_style_gets_the_code) {
    run([](asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto eng = one_pipeline(ctx, src);
        co_await eng.async_start(use_awaitable);

        // [guide:completion-styles]
        // as_tuple: the code as a value.
        auto [ec1] = co_await eng.async_reload("nope", users, asio::as_tuple(use_awaitable));
        EXPECT_EQ(ec1, errc::unknown_source);
        // redirect_error: into a variable.
        error_code ec2;
        co_await eng.async_resume("nope", asio::redirect_error(use_awaitable, ec2));
        EXPECT_EQ(ec2, errc::unknown_source);
        // use_awaitable: a system_error with the code.
        error_code ec3;
        try {
            co_await eng.async_pause("nope", use_awaitable);
        } catch (const boost::system::system_error& e) {
            ec3 = e.code();
        }
        EXPECT_EQ(ec3, errc::unknown_source);
        // with_diagnostics: a laredo::error with code and message, from any token.
        std::string what;
        try {
            co_await eng.async_pause("nope", with_diagnostics(use_awaitable));
        } catch (const error& e) {
            what = e.what();
        }
        EXPECT_NE(what.find("unknown source: nope"), std::string::npos) << what;
        // A diagnostics object: the message beside the code, with any token.
        diagnostics diag;
        auto [ec4] = co_await eng.async_pause("nope", diag, asio::as_tuple(use_awaitable));
        EXPECT_EQ(ec4, errc::unknown_source);
        EXPECT_EQ(diag.message(), "unknown source: nope");
        auto [ec5] = co_await eng.async_await_ready(diag, asio::as_tuple(use_awaitable));
        EXPECT_FALSE(ec5);
        EXPECT_EQ(diag.message(), "");  // cleared on success

        // [/guide:completion-styles]
        // A callback: runs on the context, never inside the initiating call. Another thread
        // of the context may run it while the call is still returning, so the check is for
        // this thread inside the call, through atomics.
        std::promise<error_code> called;
        std::atomic<bool> initiating{true};
        const auto initiator = std::this_thread::get_id();
        auto on_paused = [&](error_code ec) {
            EXPECT_FALSE(initiating.load() && std::this_thread::get_id() == initiator);
            called.set_value(ec);
            events_of(eng).notify();
        };
        eng.async_pause("nope", diag, on_paused);
        initiating = false;
        auto callback_result = called.get_future();
        EXPECT_TRUE(co_await until(eng, [&] {
            return callback_result.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        }));
        EXPECT_EQ(callback_result.get(), errc::unknown_source);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST(engine_api_future, use_future_from_a_thread_that_does_not_run_the_context) {
    asio::io_context ctx;
    auto src = std::make_shared<test_source>(ctx.get_executor());
    src->set_schema(users, user_columns());
    auto eng = one_pipeline(ctx, src);
    auto guard = asio::make_work_guard(ctx);
    std::thread io([&] { ctx.run(); });
    eng.async_start(asio::use_future).get();
    eng.async_await_ready(asio::use_future).get();
    // The io thread releases its reference to a failed future's exception when the handler
    // is destroyed; libstdc++ counts those references where ThreadSanitizer cannot see it, so
    // each failure is read once the io thread has moved on.
    auto settled = [&ctx](std::future<void>& f) {
        f.wait();
        std::promise<void> later;
        asio::post(ctx, [&later] { later.set_value(); });
        later.get_future().wait();
    };
    auto unknown = eng.async_pause("nope", asio::use_future);
    settled(unknown);
    try {
        unknown.get();
        ADD_FAILURE() << "pausing an unknown source succeeded";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::unknown_source);
    }
    // with_diagnostics keeps the message in the future's exception.
    auto named = eng.async_pause("nope", with_diagnostics(asio::use_future));
    settled(named);
    try {
        named.get();
        ADD_FAILURE() << "pausing an unknown source succeeded";
    } catch (const error& e) {
        EXPECT_NE(std::string(e.what()).find("unknown source: nope"), std::string::npos);
    }
    eng.async_stop(asio::use_future).get();
    guard.reset();
    io.join();
}

TEST_P(engine_api, await_ready_honours_its_cancellation_slot) {
    run([](asio::io_context& ctx) -> awaitable<void> {
        auto src = slow_source(ctx, 10);
        auto eng = one_pipeline(ctx, src);
        co_await eng.async_start(use_awaitable);
        // Awaitable operators: the timer wins, the wait is cancelled (terminal).
        asio::steady_timer timer(ctx, std::chrono::milliseconds(10));
        auto first =
            co_await (eng.async_await_ready(use_awaitable) || timer.async_wait(use_awaitable));
        EXPECT_EQ(first.index(), 1u);
        // An explicit slot, total cancellation: the wait ends with operation_aborted.
        asio::cancellation_signal cancel;
        std::promise<error_code> result;
        eng.async_await_ready(asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec) {
            result.set_value(ec);
            events_of(eng).notify();
        }));
        cancel.emit(asio::cancellation_type::total);
        auto done = result.get_future();
        EXPECT_TRUE(co_await until(eng, [&] {
            return done.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        }));
        EXPECT_EQ(done.get(), asio::error::operation_aborted);
        EXPECT_FALSE(eng.is_ready());
        // The engine went on: it becomes ready, and a new wait completes.
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_TRUE(eng.is_ready());
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_api, await_ready_fails_naming_a_pipeline_that_went_to_error) {
    run([](asio::io_context& ctx) -> awaitable<void> {
        auto src = slow_source(ctx, 3);
        src->set_schema(orders, order_columns());
        pipeline_options keyless;  // refused before any row: the orders pipeline fails alone
        keyless.transforms.push_back(transforms::drop_fields({"id"}));
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, std::make_shared<recording_target>())
                       .add_pipeline("test", orders, std::make_shared<recording_target>(), keyless)
                       .build(ctx.get_executor());
        // [guide:ready-failure]
        diagnostics diag;
        // Waiting before the start: the failure reaches a waiter that is already there.
        auto waiting = eng.async_await_ready(diag, asio::as_tuple(use_awaitable));
        co_await eng.async_start(use_awaitable);
        auto [ec] = co_await std::move(waiting);
        EXPECT_EQ(ec, errc::pipeline_failed);
        EXPECT_NE(diag.message().find("pipeline test:public.orders:recording"), std::string::npos)
            << diag.message();
        EXPECT_NE(diag.message().find("removes key column id"), std::string::npos);
        EXPECT_NE(diag.message().find("before the engine was ready"), std::string::npos);
        // [/guide:ready-failure]
        // A wait that starts now fails at once, and so does the blocking one.
        auto [again] = co_await eng.async_await_ready(asio::as_tuple(use_awaitable));
        EXPECT_EQ(again, errc::pipeline_failed);
        EXPECT_FALSE(eng.await_ready(std::chrono::seconds(10)));
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_api, cancelled_stop_wait_leaves_the_stop_running_to_its_end) {
    run([](asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto target = std::make_shared<recording_target>();
        auto eng = one_pipeline(ctx, src, target);
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        target->hold(true);  // the stop's drain waits for this change
        const auto last = src->insert(users, user(*src, 1, "ann"));
        EXPECT_TRUE(co_await src->wait_delivered(last));
        asio::steady_timer timer(ctx, std::chrono::milliseconds(20));
        auto first = co_await (eng.async_stop(use_awaitable) || timer.async_wait(use_awaitable));
        EXPECT_EQ(first.index(), 1u);  // the caller stopped waiting
        EXPECT_EQ(src->calls(step::close), 0u);
        target->hold(false);
        // A second stop joins the one running, and completes when it has finished.
        co_await eng.async_stop(use_awaitable);
        EXPECT_EQ(src->calls(step::close), 1u);
        EXPECT_EQ(target->count(), 1u);  // drained before the close
        EXPECT_EQ(src->last_acked(), last);
        EXPECT_EQ(eng.pipelines()[0].state, pipeline_state::stopped);
        auto [ec] = co_await eng.async_stop(asio::as_tuple(use_awaitable));
        EXPECT_EQ(ec, errc::stopped);
    });
}

TEST_P(engine_api, cancelled_start_wait_leaves_the_engine_started) {
    run([](asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto eng = one_pipeline(ctx, src);
        asio::cancellation_signal cancel;
        std::promise<error_code> result;
        eng.async_start(asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec) {
            result.set_value(ec);
            events_of(eng).notify();
        }));
        cancel.emit(asio::cancellation_type::terminal);
        auto started = result.get_future();
        EXPECT_TRUE(co_await until(eng, [&] {
            return started.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        }));
        const auto ec = started.get();
        EXPECT_TRUE(ec == asio::error::operation_aborted || !ec) << ec.message();
        // Whether the caller saw the end or not, the start happened.
        co_await eng.async_await_ready(use_awaitable);
        auto [again] = co_await eng.async_start(asio::as_tuple(use_awaitable));
        EXPECT_EQ(again, errc::already_started);
        co_await eng.async_stop(use_awaitable);
        EXPECT_EQ(src->calls(step::close), 1u);
    });
}

TEST_P(engine_api, cancelled_coroutine_caller_leaves_the_reload_to_finish) {
    run([](asio::io_context& ctx) -> awaitable<void> {
        auto src = slow_source(ctx, 5);
        auto target = std::make_shared<recording_target>();
        auto eng = one_pipeline(ctx, src, target);
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        // [guide:cancelled-caller]
        // A co_spawn'ed caller of async_reload, cancelled (terminal) while it waits.
        asio::cancellation_signal cancel;
        std::promise<std::exception_ptr> caller;
        auto reload = [](engine e) -> awaitable<void> {
            co_await e.async_reload("test", users, use_awaitable);
        };
        asio::co_spawn(ctx, reload(eng),
                       asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                           caller.set_value(e);
                           events_of(eng).notify();
                       }));
        co_await sleep_for(std::chrono::milliseconds(30));
        cancel.emit(asio::cancellation_type::terminal);
        auto ended = caller.get_future();
        EXPECT_TRUE(co_await until(eng, [&] {
            return ended.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
        }));
        EXPECT_NE(ended.get(), nullptr);  // the caller was cancelled...
        // ...and the reload ran to its end: a second baseline completed, the pipeline streams
        // again (it reports that after the target completed), the table is whole.
        EXPECT_TRUE(co_await until(eng, [&] {
            return target->baselines_completed() == 2 &&
                   eng.pipelines()[0].state == pipeline_state::streaming;
        }));
        EXPECT_EQ(target->count(), 5u);
        // [/guide:cancelled-caller]
        co_await eng.async_stop(use_awaitable);
    });
}

TEST(engine_api_config, a_source_whose_executor_is_not_a_strand_is_refused) {
    asio::io_context ctx;
    table_schemas schemas{{users, user_columns()}};
    auto src = std::make_shared<scripted_source>(ctx.get_executor(), schemas,
                                                 std::vector<scripted_source::call>{},
                                                 scripted_source::executor_kind::plain);
    try {
        (void)test_builder()
            .add_source("plain", src)
            .add_pipeline("plain", users, std::make_shared<recording_target>())
            .build(ctx.get_executor());
        FAIL() << "accepted a source without a strand";
    } catch (const config_error& e) {
        ASSERT_EQ(e.problems().size(), 1u) << e.what();
        EXPECT_NE(e.problems()[0].find("source \"plain\": get_executor() must return a strand"),
                  std::string::npos)
            << e.problems()[0];
    }
}

INSTANTIATE_TEST_SUITE_P(threads, engine_api, ::testing::Values(1, 4), thread_suffix);

}  // namespace
}  // namespace laredo::testing
