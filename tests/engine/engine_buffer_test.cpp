#include "engine_test_support.hpp"

namespace laredo::testing {
namespace {

class engine_buffer : public engine_test {};

// Builds a source with a users table and two pipelines: a healthy one and one whose target
// is held (stalled) with a tiny buffer of the given policy.
struct two_pipelines {
    std::shared_ptr<test_source> src;
    std::shared_ptr<recording_target> healthy = std::make_shared<recording_target>("healthy");
    std::shared_ptr<recording_target> stalled = std::make_shared<recording_target>("stalled");
    engine eng;

    two_pipelines(boost::asio::io_context& ctx, buffer_policy policy)
        : src(make_source(ctx)), eng(make_engine(ctx, policy)) {}

    std::shared_ptr<test_source> make_source(boost::asio::io_context& ctx) {
        test_source_options options;
        options.batch_size = 1;
        auto s = std::make_shared<test_source>(ctx.get_executor(), options);
        s->set_schema(users, user_columns());
        return s;
    }
    engine make_engine(boost::asio::io_context& ctx, buffer_policy policy) {
        pipeline_options small;
        small.buffer_size = 2;
        small.buffer = policy;
        return test_builder()
            .add_source("test", src)
            .add_pipeline("test", users, healthy)
            .add_pipeline("test", users, stalled, small)
            .build(ctx.get_executor());
    }
};

TEST_P(engine_buffer, block_policy_backpressures_the_source) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        two_pipelines t(ctx, buffer_policy::block);
        co_await t.eng.async_start(use_awaitable);
        co_await t.eng.async_await_ready(use_awaitable);
        t.stalled->hold(true);
        position last;
        for (int i = 1; i <= 20; ++i) last = t.src->insert(users, user(*t.src, i, "u"));
        co_await sleep_for(std::chrono::milliseconds(30));
        // The source waits for room: it has not delivered everything.
        EXPECT_LT(t.src->compare_positions(t.src->delivered_position(), last), 0);
        EXPECT_LE(t.eng.pipelines()[1].buffer_depth, 2u);
        t.stalled->hold(false);
        EXPECT_TRUE(co_await until(t.eng, [&] { return t.stalled->applied() == last; }));
        EXPECT_EQ(t.stalled->count(), 20u);
        EXPECT_FALSE(t.eng.pipelines()[1].stale);
        EXPECT_TRUE(co_await until(t.eng, [&] { return t.src->last_acked() == last; }));
        co_await t.eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_buffer, drop_oldest_policy_drops_marks_stale_and_leaves_the_ack) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        two_pipelines t(ctx, buffer_policy::drop_oldest);
        co_await t.eng.async_start(use_awaitable);
        co_await t.eng.async_await_ready(use_awaitable);
        t.stalled->hold(true);
        position last;
        for (int i = 1; i <= 20; ++i) last = t.src->insert(users, user(*t.src, i, "u"));
        // The source is never held back, and the healthy pipeline's progress is acked.
        EXPECT_TRUE(co_await t.src->wait_delivered(last));
        EXPECT_TRUE(co_await until(t.eng, [&] { return t.src->last_acked() == last; }));
        EXPECT_TRUE(t.eng.pipelines()[1].stale);
        t.stalled->hold(false);
        EXPECT_TRUE(co_await until(t.eng, [&] { return t.stalled->applied() == last; }));
        EXPECT_LT(t.stalled->count(), 20u);  // some were dropped
        EXPECT_EQ(t.healthy->count(), 20u);
        // A reload brings the stale pipeline back.
        co_await t.eng.async_reload("test", users, use_awaitable);
        EXPECT_EQ(t.stalled->count(), 20u);
        EXPECT_FALSE(t.eng.pipelines()[1].stale);
        co_await t.eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_buffer, error_policy_isolates_the_pipeline) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        two_pipelines t(ctx, buffer_policy::error);
        co_await t.eng.async_start(use_awaitable);
        co_await t.eng.async_await_ready(use_awaitable);
        t.stalled->hold(true);
        position last;
        for (int i = 1; i <= 20; ++i) last = t.src->insert(users, user(*t.src, i, "u"));
        EXPECT_TRUE(co_await t.src->wait_delivered(last));
        EXPECT_TRUE(co_await until(
            t.eng, [&] { return t.eng.pipelines()[1].state == pipeline_state::error; }));
        EXPECT_TRUE(co_await until(t.eng, [&] { return t.healthy->applied() == last; }));
        EXPECT_TRUE(co_await until(t.eng, [&] { return t.src->last_acked() == last; }));
        EXPECT_EQ(t.eng.pipelines()[0].state, pipeline_state::streaming);
        t.stalled->hold(false);
        co_await t.eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_buffer, failing_target_is_retried_then_applies) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto target = std::make_shared<recording_target>();
        pipeline_options options;
        options.retry.initial = std::chrono::milliseconds(1);
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        target->fail_next(2);
        const auto last = src->insert(users, user(*src, 1, "ann"));
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        EXPECT_EQ(eng.pipelines()[0].state, pipeline_state::streaming);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_buffer, stop_source_policy_fails_every_pipeline_of_the_source) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto a = std::make_shared<recording_target>("a");
        auto b = std::make_shared<recording_target>("b");
        pipeline_options stop_source;
        stop_source.retry.attempts = 0;
        stop_source.on_error = error_policy::stop_source;
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, a)
                       .add_pipeline("test", users, b, stop_source)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        b->fail_next(1, errc::target_failed);
        src->insert(users, user(*src, 1, "ann"));
        EXPECT_TRUE(co_await until(eng, [&] {
            const auto ps = eng.pipelines();
            return ps[0].state == pipeline_state::error && ps[1].state == pipeline_state::error;
        }));
        co_await eng.async_stop(use_awaitable);
    });
}

INSTANTIATE_TEST_SUITE_P(threads, engine_buffer, ::testing::Values(1, 4), thread_suffix);

}  // namespace
}  // namespace laredo::testing
