// Snapshots through the engine: create, restore at start instead of a baseline, the fallbacks
// to a baseline, shutdown and scheduled snapshots, retention, and the ACK cap.
#include "engine_test_support.hpp"
#include "recording_observer.hpp"
#include "temp_dir.hpp"

#include "laredo/snapshot/local_store.hpp"

#include <boost/asio/as_tuple.hpp>

#include <filesystem>
#include <fstream>

namespace laredo::testing {
namespace {

using namespace std::chrono_literals;

struct restart_fixture {
    test_source_options options;
    std::shared_ptr<test_source> first;

    explicit restart_fixture(boost::asio::io_context& ctx) {
        options.supports_resume = true;
        first = std::make_shared<test_source>(ctx.get_executor(), options);
        first->set_schema(users, user_columns());
        for (int i = 1; i <= 3; ++i) first->add_row(users, user(*first, i, "v1"));
    }
    // The same upstream, as a restarted process sees it.
    std::shared_ptr<test_source> restarted(boost::asio::io_context& ctx) {
        auto o = options;
        o.database = first->database();
        return std::make_shared<test_source>(ctx.get_executor(), o);
    }
};

engine build_engine(boost::asio::io_context& ctx, const std::string& source_id,
                    std::shared_ptr<test_source> src, std::shared_ptr<recording_target> target,
                    engine_options options) {
    return test_builder()
        .add_source(source_id, std::move(src))
        .add_pipeline(source_id, users, std::move(target))
        .with_options(std::move(options))
        .build(ctx.get_executor());
}

class engine_snapshots : public engine_test {};

TEST_P(engine_snapshots, restore_replaces_the_baseline_and_later_changes_apply) {
    temp_dir dir("laredo-snapshots");
    run([&dir](boost::asio::io_context& ctx) -> awaitable<void> {
        restart_fixture f(ctx);
        auto store = std::make_shared<snapshots::local_store>(dir.path());
        engine_options options;
        options.snapshots = store;
        auto observer = std::make_shared<recording_observer>();
        options.observer = observer;
        snapshot_descriptor taken;
        {
            auto target = std::make_shared<recording_target>();
            auto eng = build_engine(ctx, "test", f.first, target, options);
            co_await eng.async_start(use_awaitable);
            co_await eng.async_await_ready(use_awaitable);
            const auto last = f.first->update(users, user(*f.first, 2, "v2"));
            EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
            std::map<std::string, std::string> labels{{"reason", "test"}};
            // Labels, diagnostics, then the token (always last).
            diagnostics diag;
            auto [ec, descriptor] = co_await eng.async_create_snapshot(
                labels, diag, boost::asio::as_tuple(use_awaitable));
            EXPECT_FALSE(ec) << diag.message();
            taken = descriptor;
            EXPECT_EQ(taken.labels.at("reason"), "test");
            EXPECT_EQ(taken.source_positions.at("test"), f.first->position_to_string(last));
            EXPECT_EQ(taken.row_count, 3u);
            EXPECT_EQ(eng.list_snapshots().size(), 1u);
            EXPECT_EQ(eng.describe_snapshot(taken.id).id, taken.id);
            co_await eng.async_stop(use_awaitable);
        }
        // While no engine runs: a change streams on restart; a row only a baseline would
        // bring (no history) proves there is no baseline.
        auto second = f.restarted(ctx);
        second->insert(users, user(*second, 4, "while-down"));
        second->add_row(users, user(*second, 99, "baseline-only"));
        auto target = std::make_shared<recording_target>();  // a fresh in-memory target
        auto eng = build_engine(ctx, "test", second, target, options);
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        const auto last = second->insert(users, user(*second, 5, "after"));
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        EXPECT_EQ(second->calls(step::baseline), 0u);
        EXPECT_EQ(target->restores(), 1u);
        EXPECT_EQ(target->get(key(2))->at("name"), value("v2"));
        EXPECT_TRUE(target->get(key(4)).has_value());
        EXPECT_FALSE(target->get(key(99)).has_value());
        EXPECT_EQ(target->count(), 5u);
        // Reported once every target is restored, which may be just after readiness.
        EXPECT_TRUE(co_await until(eng, [&] {
            return !observer->snapshot_event("restore completed " + taken.id).empty();
        }));
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_snapshots, pipeline_missing_from_the_snapshot_is_baselined_alone) {
    temp_dir dir("laredo-snapshots");
    run([&dir](boost::asio::io_context& ctx) -> awaitable<void> {
        restart_fixture f(ctx);
        engine_options options;
        options.snapshots = std::make_shared<snapshots::local_store>(dir.path());
        pipeline_options no_retries;
        no_retries.retry.attempts = 0;
        auto build = [&](std::shared_ptr<test_source> src, std::shared_ptr<recording_target> a,
                         std::shared_ptr<recording_target> b) {
            return test_builder()
                .add_source("test", std::move(src))
                .add_pipeline("test", users, std::move(a))
                .add_pipeline("test", users, std::move(b), no_retries)
                .with_options(options)
                .build(ctx.get_executor());
        };
        {
            auto b = std::make_shared<recording_target>("b");
            auto eng = build(f.first, std::make_shared<recording_target>("a"), b);
            co_await eng.async_start(use_awaitable);
            co_await eng.async_await_ready(use_awaitable);
            b->fail_next(1, errc::target_failed);
            f.first->insert(users, user(*f.first, 4, "new"));
            EXPECT_TRUE(co_await until(
                eng, [&] { return eng.pipelines()[1].state == pipeline_state::error; }));
            const auto taken = co_await eng.async_create_snapshot();  // default token
            EXPECT_EQ(taken.tables.size(), 1u);  // the failed pipeline's table is not in it
            EXPECT_EQ(taken.source_positions.count("test"), 1u);
            co_await eng.async_stop(use_awaitable);
        }
        auto second = f.restarted(ctx);
        auto a = std::make_shared<recording_target>("a");
        auto b = std::make_shared<recording_target>("b");
        auto eng = build(second, a, b);
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_EQ(a->restores(), 1u);
        EXPECT_EQ(a->baselines_completed(), 0u);
        EXPECT_EQ(b->baselines_completed(), 1u);
        EXPECT_EQ(b->rows(), a->rows());
        EXPECT_EQ(a->count(), 4u);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_snapshots, snapshot_without_a_position_for_the_source_falls_back_to_a_baseline) {
    temp_dir dir("laredo-snapshots");
    run([&dir](boost::asio::io_context& ctx) -> awaitable<void> {
        restart_fixture f(ctx);
        engine_options options;
        options.snapshots = std::make_shared<snapshots::local_store>(dir.path());
        {
            auto eng =
                build_engine(ctx, "test", f.first, std::make_shared<recording_target>(), options);
            co_await eng.async_start(use_awaitable);
            co_await eng.async_await_ready(use_awaitable);
            co_await eng.async_create_snapshot({}, use_awaitable);
            co_await eng.async_stop(use_awaitable);
        }
        auto observer = std::make_shared<recording_observer>();
        options.observer = observer;
        auto target = std::make_shared<recording_target>();
        // The same upstream under another source id: the snapshot has nothing for it.
        auto eng = build_engine(ctx, "renamed", f.restarted(ctx), target, options);
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_EQ(target->baselines_completed(), 1u);
        EXPECT_EQ(target->restores(), 0u);
        EXPECT_EQ(target->count(), 3u);
        EXPECT_NE(observer->snapshot_event("failed").find("has no position for source renamed"),
                  std::string::npos);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_snapshots, corrupted_snapshot_is_rejected_with_a_clear_error_and_baselines) {
    temp_dir dir("laredo-snapshots");
    run([&dir](boost::asio::io_context& ctx) -> awaitable<void> {
        restart_fixture f(ctx);
        engine_options options;
        options.snapshots = std::make_shared<snapshots::local_store>(dir.path());
        snapshot_descriptor taken;
        {
            auto eng =
                build_engine(ctx, "test", f.first, std::make_shared<recording_target>(), options);
            co_await eng.async_start(use_awaitable);
            co_await eng.async_await_ready(use_awaitable);
            taken = co_await eng.async_create_snapshot({}, use_awaitable);
            co_await eng.async_stop(use_awaitable);
        }
        // Truncate every table file of the snapshot (metadata.json stays whole).
        for (const auto& entry : std::filesystem::directory_iterator(dir.path() / taken.id)) {
            if (entry.path().filename() == "metadata.json") continue;
            std::filesystem::resize_file(entry.path(), entry.file_size() / 2);
        }
        auto observer = std::make_shared<recording_observer>();
        options.observer = observer;
        auto target = std::make_shared<recording_target>();
        auto eng = build_engine(ctx, "test", f.restarted(ctx), target, options);
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_EQ(target->baselines_completed(), 1u);
        EXPECT_EQ(target->restores(), 0u);
        EXPECT_EQ(target->count(), 3u);
        const auto failed = observer->snapshot_event("failed " + taken.id);
        EXPECT_NE(failed.find("cannot restore from snapshot " + taken.id), std::string::npos)
            << failed;
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_snapshots, shutdown_snapshot_is_taken_after_the_drain) {
    temp_dir dir("laredo-snapshots");
    run([&dir](boost::asio::io_context& ctx) -> awaitable<void> {
        restart_fixture f(ctx);
        auto store = std::make_shared<snapshots::local_store>(dir.path());
        engine_options options;
        options.snapshots = store;
        options.snapshot_on_shutdown = true;
        auto target = std::make_shared<recording_target>();
        auto eng = build_engine(ctx, "test", f.first, target, options);
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        target->hold(true);  // changes wait in the buffer until the drain
        position last;
        for (int i = 10; i < 20; ++i) last = f.first->insert(users, user(*f.first, i, "late"));
        EXPECT_TRUE(co_await f.first->wait_delivered(last));
        target->hold(false);
        co_await eng.async_stop(use_awaitable);
        const auto all = store->list();
        CO_ASSERT_TRUE(all.size() == 1u);
        EXPECT_EQ(all[0].labels.at("trigger"), "shutdown");
        EXPECT_EQ(all[0].row_count, 13u);
        EXPECT_EQ(all[0].source_positions.at("test"), f.first->position_to_string(last));
    });
}

TEST_P(engine_snapshots, scheduled_snapshots_respect_retention) {
    temp_dir dir("laredo-snapshots");
    run([&dir](boost::asio::io_context& ctx) -> awaitable<void> {
        restart_fixture f(ctx);
        auto store = std::make_shared<snapshots::local_store>(dir.path());
        engine_options options;
        options.snapshots = store;
        options.snapshot_interval = 20ms;
        options.snapshot_retention = 2;
        auto observer = std::make_shared<recording_observer>();
        options.observer = observer;
        auto eng =
            build_engine(ctx, "test", f.first, std::make_shared<recording_target>(), options);
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        auto completed = [&] {
            std::size_t n = 0;
            for (const auto& e : observer->snapshot_events()) n += e.rfind("completed", 0) == 0;
            return n;
        };
        EXPECT_TRUE(co_await until(
            eng, [&] { return completed() >= 4; }, 10s));
        co_await eng.async_stop(use_awaitable);
        const auto all = store->list();
        EXPECT_EQ(all.size(), 2u);
        for (const auto& d : all) EXPECT_EQ(d.labels.at("trigger"), "scheduled");
        // A manual delete goes through the store.
        eng.delete_snapshot(all.back().id);
        EXPECT_EQ(store->list().size(), 1u);
    });
}

TEST_P(engine_snapshots, ack_never_passes_the_newest_snapshot_after_a_restore) {
    temp_dir dir("laredo-snapshots");
    run([&dir](boost::asio::io_context& ctx) -> awaitable<void> {
        restart_fixture f(ctx);
        engine_options options;
        options.snapshots = std::make_shared<snapshots::local_store>(dir.path());
        position snapped;
        {
            auto eng =
                build_engine(ctx, "test", f.first, std::make_shared<recording_target>(), options);
            co_await eng.async_start(use_awaitable);
            co_await eng.async_await_ready(use_awaitable);
            snapped = f.first->insert(users, user(*f.first, 4, "x"));
            EXPECT_TRUE(co_await until(eng, [&] { return f.first->last_acked() == snapped; }));
            co_await eng.async_create_snapshot({}, use_awaitable);
            co_await eng.async_stop(use_awaitable);
        }
        auto second = f.restarted(ctx);
        auto target = std::make_shared<recording_target>();
        auto eng = build_engine(ctx, "test", second, target, options);
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        const auto later = second->insert(users, user(*second, 5, "y"));
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == later; }));
        co_await sleep_for(30ms);
        // Applied, but the restored state lives only in memory and in the snapshot.
        EXPECT_EQ(second->last_acked(), snapped);
        co_await eng.async_create_snapshot({}, use_awaitable);
        EXPECT_TRUE(co_await until(eng, [&] { return second->last_acked() == later; }));
        co_await eng.async_stop(use_awaitable);
    });
}

INSTANTIATE_TEST_SUITE_P(threads, engine_snapshots, ::testing::Values(1, 4), thread_suffix);

}  // namespace
}  // namespace laredo::testing
