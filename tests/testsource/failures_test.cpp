// Failures injected at every step, and what the source records of the engine's calls.
#include "fixture.hpp"

namespace laredo::testing {
namespace {

class failures : public threaded {};
LAREDO_THREADED_SUITE(failures);

// Calls one step of the contract the way the engine would.
awaitable<void> call_step(ts::test_source& src, ts::step s, change_handler& handler,
                          baseline_sink& sink) {
    switch (s) {
        case ts::step::init:
            co_await on_source(src, src.init(config_of(just_users)));
            break;
        case ts::step::validate_tables:
            co_await on_source(src, src.validate_tables(just_users));
            break;
        case ts::step::baseline:
            co_await on_source(src, src.baseline(just_users, sink));
            break;
        case ts::step::stream: {
            stream_runner run(src, src.head(), handler);
            co_await run.wait_done(std::chrono::milliseconds(50));
            if (run.done()) {
                if (run.failure()) std::rethrow_exception(run.failure());
            } else {
                co_await run.cancel();
            }
            break;
        }
        case ts::step::ack:
            co_await on_source(src, src.ack(src.head()));
            break;
        case ts::step::pause:
            co_await on_source(src, src.pause());
            break;
        case ts::step::resume:
            co_await on_source(src, src.resume());
            break;
        case ts::step::close:
            co_await on_source(src, src.close());
            break;
        case ts::step::last_acked_position:
            co_await on_source(src, src.last_acked_position());
            break;
        case ts::step::can_resume_from:
            co_await on_source(src, src.can_resume_from(src.head()));
            break;
    }
}

TEST_P(failures, every_step_throws_the_injected_code_as_often_as_asked) {
    run([&](io_context& ctx) -> awaitable<void> {
        for (std::size_t i = 0; i < ts::step_count; ++i) {
            const auto s = static_cast<ts::step>(i);
            ts::test_source src(ctx.get_executor());
            add_users(src);
            recording_handler handler(src.get_executor());
            src.fail_next(s, errc::transient, 2);
            for (int attempt = 0; attempt < 2; ++attempt) {
                const auto f = co_await failure_of(call_step(src, s, handler, handler));
                EXPECT_EQ(f.code, errc::transient) << "step " << i << " attempt " << attempt;
                EXPECT_NE(f.message.find("injected failure"), std::string::npos) << f.message;
            }
            const auto ok = co_await failure_of(call_step(src, s, handler, handler));
            EXPECT_FALSE(ok.code) << "step " << i << ": " << ok.message;
            EXPECT_EQ(src.calls(s), 3u) << "step " << i;
        }
    });
}

TEST_P(failures, a_failed_init_reports_error_when_fatal_and_reconnecting_when_transient) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        src.fail_next(ts::step::init, errc::source_failed);
        EXPECT_EQ((co_await failure_of(on_source(src, src.init(config_of(just_users))))).code,
                  errc::source_failed);
        EXPECT_EQ(src.state(), source_state::error);
        src.fail_next(ts::step::init, errc::transient);
        EXPECT_EQ((co_await failure_of(on_source(src, src.init(config_of(just_users))))).code,
                  errc::transient);
        EXPECT_EQ(src.state(), source_state::reconnecting);
        co_await on_source(src, src.init(config_of(just_users)));
        EXPECT_EQ(src.state(), source_state::connected);
    });
}

TEST_P(failures, a_stream_failure_injected_while_running_ends_it_with_that_code) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        recording_handler handler(src.get_executor());
        stream_runner run(src, src.head(), handler);
        const auto p = src.insert(users, user(src, 1, "u"));
        EXPECT_TRUE(co_await src.wait_delivered(p));
        src.fail_next(ts::step::stream, errc::transient);
        EXPECT_TRUE(co_await run.wait_done());
        EXPECT_EQ(failure_of(run.failure()).code, errc::transient);
        EXPECT_EQ(src.state(), source_state::reconnecting);

        stream_runner fatal(src, p, handler);
        std::function<bool()> streaming = [&] { return src.state() == source_state::streaming; };
        EXPECT_TRUE(co_await eventually(streaming));
        src.fail_next(ts::step::stream, errc::source_failed);
        EXPECT_TRUE(co_await fatal.wait_done());
        EXPECT_EQ(failure_of(fatal.failure()).code, errc::source_failed);
        EXPECT_EQ(src.state(), source_state::error);
    });
}

TEST_P(failures, a_stream_failure_ends_a_paused_stream_too) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        recording_handler handler(src.get_executor());
        co_await on_source(src, src.pause());
        stream_runner run(src, src.head(), handler);
        std::function<bool()> paused = [&] { return src.state() == source_state::paused; };
        EXPECT_TRUE(co_await eventually(paused));
        src.fail_next(ts::step::stream, errc::transient);
        EXPECT_TRUE(co_await run.wait_done());
        EXPECT_EQ(failure_of(run.failure()).code, errc::transient);
    });
}

TEST_P(failures, a_handler_failure_propagates_out_of_stream) {
    run([&](io_context& ctx) -> awaitable<void> {
        struct refusing_handler : recording_handler {
            using recording_handler::recording_handler;
            awaitable<void> on_changes(std::vector<change_event>) override {
                throw laredo::error(errc::buffer_overflow, "pipeline buffer full");
                co_return;
            }
        };
        ts::test_source src(ctx.get_executor());
        add_users(src);
        refusing_handler handler(src.get_executor());
        stream_runner run(src, src.head(), handler);
        src.insert(users, user(src, 1, "u"));
        EXPECT_TRUE(co_await run.wait_done());
        EXPECT_EQ(failure_of(run.failure()).code, errc::buffer_overflow);
        EXPECT_EQ(src.state(), source_state::error);
        EXPECT_TRUE(src.delivered_position() == position::from_sequence(0));
    });
}

TEST_P(failures, acks_beyond_the_newest_change_or_of_the_other_mode_are_refused) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        src.insert(users, user(src, 1, "u"));
        EXPECT_EQ((co_await failure_of(on_source(src, src.ack(position::from_sequence(2))))).code,
                  errc::invalid_argument);
        EXPECT_EQ((co_await failure_of(on_source(src, src.ack(position::from_pair(1, 1))))).code,
                  errc::invalid_position);
        EXPECT_EQ((co_await failure_of(on_source(src, src.ack(position{})))).code,
                  errc::invalid_position);
        EXPECT_TRUE(src.acked_positions().empty());
    });
}

TEST_P(failures, records_what_the_engine_did) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        src.set_schema(orders, ts::test_source::text_columns({"id"}));
        for (int id = 1; id <= 3; ++id) src.insert(users, user(src, id, "u"));
        recording_handler sink(src.get_executor());
        co_await on_source(src, src.baseline(users_and_orders, sink));
        co_await on_source(src, src.baseline(just_orders, sink));
        co_await on_source(src, src.ack(position::from_sequence(1)));
        co_await on_source(src, src.ack(position::from_sequence(3)));
        EXPECT_EQ(src.acked_positions(),
                  (std::vector<position>{position::from_sequence(1), position::from_sequence(3)}));
        EXPECT_EQ(src.last_acked(), position::from_sequence(3));
        EXPECT_EQ(src.calls(ts::step::baseline), 2u);
        EXPECT_EQ(src.calls(ts::step::ack), 2u);
        EXPECT_EQ(src.calls(ts::step::pause), 0u);
        EXPECT_EQ(src.baseline_requests(),
                  (std::vector<std::vector<table_identifier>>{{users, orders}, {orders}}));
    });
}

TEST_P(failures, bad_injections_are_refused_with_their_code) {
    run([&](io_context& ctx) -> awaitable<void> {
        ts::test_source src(ctx.get_executor());
        add_users(src);
        src.set_schema(orders, ts::test_source::text_columns({"id"}));
        const auto order = src.make_row(orders, {{"id", 1}});
        const auto code_of = [](auto&& f) {
            try {
                f();
            } catch (const laredo::error& e) {
                return e.code();
            }
            return boost::system::error_code{};
        };
        EXPECT_EQ(code_of([&] { src.insert(users, order); }), errc::schema_mismatch);
        EXPECT_EQ(code_of([&] { src.add_row(users, order); }), errc::schema_mismatch);
        EXPECT_EQ(code_of([&] { src.insert(users, row{}); }), errc::invalid_argument);
        EXPECT_EQ(code_of([&] { src.remove(users, row{}); }), errc::invalid_argument);
        EXPECT_EQ(code_of([&] { src.truncate({"no", "such"}); }), errc::unknown_table);
        EXPECT_EQ(code_of([&] { src.schema_of({"no", "such"}); }), errc::unknown_table);
        EXPECT_EQ(code_of([&] { src.fail_next(ts::step::ack, errc::transient, 0); }),
                  errc::invalid_argument);
        EXPECT_EQ(src.head(), position::from_sequence(0));
        co_return;
    });
}

}  // namespace
}  // namespace laredo::testing
