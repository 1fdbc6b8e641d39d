// TTL (baseline, insert, update, scanner), validation (after baseline, at an interval, with
// the warn and rebaseline actions), and the error-policy paths around them.
#include "engine_test_support.hpp"
#include "recording_observer.hpp"

#include <algorithm>

namespace laredo::testing {
namespace {

using namespace std::chrono_literals;

const table_identifier sessions{"public", "sessions"};

std::vector<column_definition> session_columns() {
    return {
        {.name = "id",
         .type = "int8",
         .nullable = false,
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 1},
        {.name = "expires_at", .type = "timestamptz", .ordinal_position = 2},
    };
}

timestamptz_value at(std::chrono::system_clock::time_point t) {
    return {std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count()};
}

row session(const test_source& src, std::int64_t id,
            std::chrono::system_clock::time_point expires) {
    return src.make_row(sessions, {{"id", value(id)}, {"expires_at", value(at(expires))}});
}

bool holds(const recording_target& t, std::int64_t id) { return t.get(key(id)).has_value(); }

class engine_operations : public engine_test {};

TEST_P(engine_operations, ttl_skips_expired_rows_at_baseline_and_insert) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(sessions, session_columns());
        const auto now = std::chrono::system_clock::now();
        src->add_row(sessions, session(*src, 1, now - 1h));  // expired
        src->add_row(sessions, session(*src, 2, now + 1h));
        auto target = std::make_shared<recording_target>();
        pipeline_options options;
        options.ttl_field = "expires_at";
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", sessions, target, options)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_FALSE(holds(*target, 1));
        EXPECT_TRUE(holds(*target, 2));
        src->insert(sessions, session(*src, 3, now - 1min));  // expired on arrival
        const auto last = src->insert(sessions, session(*src, 4, now + 1h));
        EXPECT_TRUE(co_await until(eng, [&] { return holds(*target, 4); }));
        EXPECT_TRUE(co_await src->wait_delivered(last));
        EXPECT_FALSE(holds(*target, 3));
        EXPECT_EQ(target->count(), 2u);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_operations, ttl_update_to_an_expired_time_deletes_the_row) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(sessions, session_columns());
        const auto now = std::chrono::system_clock::now();
        src->add_row(sessions, session(*src, 1, now + 1h));
        src->add_row(sessions, session(*src, 2, now + 1h));
        auto target = std::make_shared<recording_target>();
        pipeline_options options;
        // The function form: the same column, read by hand.
        options.ttl_function =
            [](const row& r) -> std::optional<std::chrono::system_clock::time_point> {
            const auto* v = r.find("expires_at");
            if (!v || !v->get_if<timestamptz_value>()) return std::nullopt;
            return std::chrono::system_clock::time_point(
                std::chrono::microseconds(v->get<timestamptz_value>().micros));
        };
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", sessions, target, options)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_EQ(target->count(), 2u);
        src->update(sessions, session(*src, 1, now - 1s));
        const auto last = src->update(sessions, session(*src, 2, now + 2h));
        EXPECT_TRUE(co_await src->wait_delivered(last));
        EXPECT_TRUE(co_await until(eng, [&] { return !holds(*target, 1); }));
        EXPECT_TRUE(holds(*target, 2));
        const auto changes = target->changes();
        const bool deleted_1 =
            std::any_of(changes.begin(), changes.end(), [](const change_event& c) {
                return c.action == change_action::delete_ && c.identity().key() == key(1);
            });
        EXPECT_TRUE(deleted_1) << "the expiring update reaches the target as a delete";
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_operations, ttl_scanner_removes_rows_as_they_expire_and_reports_each) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(sessions, session_columns());
        const auto now = std::chrono::system_clock::now();
        // Far enough ahead that a slow (sanitized) run still stores them before they expire.
        src->add_row(sessions, session(*src, 1, now + 400ms));
        src->add_row(sessions, session(*src, 2, now + 1h));
        auto target = std::make_shared<recording_target>();
        auto observer = std::make_shared<recording_observer>();
        pipeline_options options;
        options.ttl_field = "expires_at";
        options.ttl_scan_interval = 20ms;
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", sessions, target, options)
                       .with_observer(observer)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        src->insert(sessions, session(*src, 3, std::chrono::system_clock::now() + 400ms));
        // Each removal is reported after the target applied it: wait for the reports.
        EXPECT_TRUE(co_await until(
            eng, [&] { return observer->expired().size() == 2u; }, 10s));
        EXPECT_EQ(target->count(), 1u);
        EXPECT_TRUE(holds(*target, 2));
        auto expired = observer->expired();
        std::sort(expired.begin(), expired.end());
        EXPECT_EQ(expired, (std::vector<std::string>{"1", "3"}));
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_operations, ttl_field_reads_rfc3339_text_and_ignores_other_values) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        // The status column doubles as the expiry: RFC 3339 text expires, anything else not.
        src->add_row(users, user(*src, 1, "a", "2001-02-03T04:05:06Z"));
        src->add_row(users, user(*src, 2, "b", "2999-02-03T04:05:06.5+02:00"));
        src->add_row(users, user(*src, 3, "c", "active"));
        auto target = std::make_shared<recording_target>();
        pipeline_options options;
        options.ttl_field = "status";
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        EXPECT_FALSE(holds(*target, 1));
        EXPECT_TRUE(holds(*target, 2));
        EXPECT_TRUE(holds(*target, 3));
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_operations, validation_after_baseline_counts_rows_after_filters) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        for (int i = 1; i <= 10; ++i)
            src->add_row(users, user(*src, i, "u", i % 2 ? "active" : "gone"));
        auto target = std::make_shared<recording_target>();
        auto observer = std::make_shared<recording_observer>();
        pipeline_options options;
        options.filters.push_back(filters::field_equals("status", value("active")));
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .with_observer(observer)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        const auto results = observer->validations();
        CO_ASSERT_TRUE(results.size() == 1u);
        EXPECT_EQ(results[0].expected, 5u);
        EXPECT_EQ(results[0].actual, 5u);
        EXPECT_TRUE(results[0].match);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_operations, validation_at_interval_follows_inserts_and_deletes_and_reports_drift) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        for (int i = 1; i <= 5; ++i) src->add_row(users, user(*src, i, "u"));
        auto target = std::make_shared<recording_target>();
        auto observer = std::make_shared<recording_observer>();
        pipeline_options options;
        options.validation_interval = 10ms;
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .with_observer(observer)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        for (int i = 6; i <= 8; ++i) src->insert(users, user(*src, i, "u"));
        src->remove(users, user_key(*src, 1));
        const auto last = src->remove(users, user_key(*src, 2));
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        auto matched = [&](std::uint64_t n) {
            for (const auto& v : observer->validations())
                if (v.match && v.expected == n && v.actual == n) return true;
            return false;
        };
        EXPECT_TRUE(co_await until(eng, [&] { return matched(6); }));
        // The target loses a row behind the engine's back: the next check reports drift.
        target->lose_row(key(3));
        auto drift = [&] {
            for (const auto& v : observer->validations())
                if (!v.match && v.expected == 6 && v.actual == 5) return true;
            return false;
        };
        EXPECT_TRUE(co_await until(eng, drift));
        EXPECT_EQ(eng.pipelines()[0].state, pipeline_state::streaming);  // warn only
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_operations, validation_rebaseline_action_reloads_the_drifted_table) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        for (int i = 1; i <= 5; ++i) src->add_row(users, user(*src, i, "u"));
        auto target = std::make_shared<recording_target>();
        auto observer = std::make_shared<recording_observer>();
        pipeline_options options;
        options.validation_interval = 10ms;
        options.on_validation_mismatch = validation_action::rebaseline;
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .with_observer(observer)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        target->lose_row(key(3));
        EXPECT_TRUE(co_await until(
            eng, [&] { return holds(*target, 3); }, 5s));
        EXPECT_GE(target->rebuilds(), 1u);
        EXPECT_FALSE(observer->rebaselines().empty());
        EXPECT_EQ(target->count(), 5u);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_operations, reload_brings_an_isolated_pipeline_back_to_the_source_state) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "a"));
        auto failing = std::make_shared<recording_target>("failing");
        auto healthy = std::make_shared<recording_target>("healthy");
        pipeline_options no_retries;
        no_retries.retry.attempts = 0;
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, healthy)
                       .add_pipeline("test", users, failing, no_retries)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        failing->fail_next(1, errc::target_failed);
        src->insert(users, user(*src, 2, "b"));
        EXPECT_TRUE(
            co_await until(eng, [&] { return eng.pipelines()[1].state == pipeline_state::error; }));
        EXPECT_FALSE(eng.pipelines()[1].last_error.empty());
        src->insert(users, user(*src, 3, "c"));  // missed by the failed pipeline
        co_await eng.async_reload("test", users, use_awaitable);
        EXPECT_EQ(eng.pipelines()[1].state, pipeline_state::streaming);
        EXPECT_TRUE(eng.pipelines()[1].last_error.empty());
        EXPECT_EQ(failing->count(), 3u);
        const auto last = src->insert(users, user(*src, 4, "d"));
        // Both pipelines (separate strands) have applied the last change before comparing.
        EXPECT_TRUE(co_await until(
            eng, [&] { return failing->applied() == last && healthy->applied() == last; }));
        EXPECT_EQ(failing->rows(), healthy->rows());
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_operations, isolated_pipeline_recovers_by_itself_after_the_backoff) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "a"));
        auto target = std::make_shared<recording_target>();
        auto observer = std::make_shared<recording_observer>();
        pipeline_options options;
        options.retry.attempts = 0;
        options.recover_after = 20ms;
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .with_observer(observer)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        target->fail_next(1, errc::target_failed);
        src->insert(users, user(*src, 2, "b"));  // fails: the pipeline goes to ERROR
        EXPECT_TRUE(
            co_await until(eng, [&] { return eng.pipelines()[0].state == pipeline_state::error; }));
        src->insert(users, user(*src, 3, "c"));  // missed while in ERROR
        // After the backoff the table is reloaded and the pipeline streams again.
        EXPECT_TRUE(co_await until(eng, [&] { return target->count() == 3u; }));
        EXPECT_TRUE(co_await until(
            eng, [&] { return eng.pipelines()[0].state == pipeline_state::streaming; }));
        const auto last = src->insert(users, user(*src, 4, "d"));
        EXPECT_TRUE(co_await until(eng, [&] { return target->applied() == last; }));
        EXPECT_GE(target->rebuilds(), 1u);
        const auto reasons = observer->rebaselines();
        CO_ASSERT_TRUE(!reasons.empty());
        EXPECT_NE(reasons[0].find("automatic recovery"), std::string::npos) << reasons[0];
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_operations, stop_all_policy_fails_every_pipeline_of_every_source) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto a = std::make_shared<test_source>(ctx.get_executor());
        auto b = std::make_shared<test_source>(ctx.get_executor());
        a->set_schema(users, user_columns());
        b->set_schema(orders, order_columns());
        auto ta = std::make_shared<recording_target>();
        auto tb = std::make_shared<recording_target>();
        pipeline_options stop_all;
        stop_all.retry.attempts = 0;
        stop_all.on_error = error_policy::stop_all;
        auto eng = test_builder()
                       .add_source("a", a)
                       .add_source("b", b)
                       .add_pipeline("a", users, ta, stop_all)
                       .add_pipeline("b", orders, tb)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        ta->fail_next(1, errc::target_failed);
        a->insert(users, user(*a, 1, "ann"));
        EXPECT_TRUE(co_await until(eng, [&] {
            const auto ps = eng.pipelines();
            return ps[0].state == pipeline_state::error && ps[1].state == pipeline_state::error;
        }));
        // A source stopped by its policy cannot be reloaded back.
        std::string refused;
        try {
            co_await eng.async_reload("a", users);
        } catch (const error& e) {
            refused = e.what();
        }
        EXPECT_NE(refused.find("error policy"), std::string::npos) << refused;
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_operations, changed_columns_rebaseline_the_table_by_default) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        src->add_row(users, user(*src, 1, "ann"));
        auto target = std::make_shared<recording_target>();  // default answer: re-baseline
        auto observer = std::make_shared<recording_observer>();
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target)
                       .with_observer(observer)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        auto columns = user_columns();
        columns.push_back({.name = "email", .type = "text", .ordinal_position = 4});
        // An added column with a default: existing rows get it without any row change.
        const auto altered = src->alter_schema(users, columns);
        src->add_row(users, src->make_row(users, {{"id", value(1)},
                                                  {"name", value("ann")},
                                                  {"status", value("active")},
                                                  {"email", value("ann@example.com")}}));
        src->insert(users, src->make_row(users, {{"id", value(2)},
                                                 {"name", value("bob")},
                                                 {"email", value("bob@example.com")}}));
        EXPECT_TRUE(co_await until(eng, [&] {
            const auto r = target->get(key(1));
            return r && r->find("email") && *r->find("email") == value("ann@example.com");
        }));
        EXPECT_TRUE(co_await until(eng, [&] { return target->get(key(2)).has_value(); }));
        EXPECT_GE(target->rebuilds(), 1u);
        const auto changes = observer->schema_changes();
        CO_ASSERT_TRUE(!changes.empty());
        EXPECT_NE(changes[0].find("3 -> 4 columns"), std::string::npos) << changes[0];
        EXPECT_EQ(eng.table_schema("test", users)->size(), 4u);
        // The new copy's rows can be visible a moment before the pipeline says it streams.
        EXPECT_TRUE(co_await until(
            eng, [&] { return eng.pipelines()[0].state == pipeline_state::streaming; }));
        EXPECT_GE(observer->lag_updates(), 1);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST(engine_operations_config, refuses_ttl_and_validation_options_it_cannot_honour) {
    boost::asio::io_context ctx;
    auto src = std::make_shared<test_source>(ctx.get_executor());
    class no_rows_target : public recording_target {
      public:
        bool keeps_rows() const override { return false; }
    };
    pipeline_options scan_without_ttl;
    scan_without_ttl.ttl_scan_interval = std::chrono::seconds(1);
    pipeline_options on_rowless;
    on_rowless.ttl_field = "expires_at";
    on_rowless.ttl_scan_interval = std::chrono::seconds(1);
    on_rowless.validation_interval = std::chrono::seconds(1);
    engine_options snapshots_without_store;
    snapshots_without_store.snapshot_on_shutdown = true;
    try {
        test_builder()
            .add_source("test", src)
            .add_pipeline("test", users, std::make_shared<recording_target>(), scan_without_ttl)
            .add_pipeline("test", orders, std::make_shared<no_rows_target>(), on_rowless)
            .with_options(snapshots_without_store)
            .build(ctx.get_executor());
        FAIL() << "expected config_error";
    } catch (const config_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("pipeline[0]: ttl_scan_interval is set but neither"), std::string::npos)
            << what;
        EXPECT_NE(what.find("pipeline[1]: ttl_scan_interval needs a target that keeps rows"),
                  std::string::npos)
            << what;
        EXPECT_NE(what.find("pipeline[1]: validation_interval needs a target that keeps rows"),
                  std::string::npos)
            << what;
        EXPECT_NE(what.find("snapshot_on_shutdown is set but no snapshot store"), std::string::npos)
            << what;
    }
}

INSTANTIATE_TEST_SUITE_P(threads, engine_operations, ::testing::Values(1, 4), thread_suffix);

}  // namespace
}  // namespace laredo::testing
