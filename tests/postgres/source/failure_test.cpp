// The source under failure: a terminated walsender and a restarted server (reconnect from the
// last ACK), an ephemeral slot gone with its connection, a slot invalidated by
// max_slot_wal_keep_size or dropped by an operator (a new slot and a new baseline, or a named
// failure), another server behind the same address (a failover: a new baseline from it). Every
// case ends comparing the target with its table in full.

#include "source_test_support.hpp"
#include "tcp_relay.hpp"

#include "laredo/change_handler.hpp"
#include "laredo/error.hpp"
#include "laredo/testing/async.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace laredo::sources::postgres::testing {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;

void terminate_walsender(const std::string& slot) {
    sql("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" +
        slot + "' AND active");
}

source_options quick_reconnects(const std::string& slot, slot_mode mode) {
    auto o = options_for(slot, mode);
    o.reconnect.initial_backoff = 100ms;
    o.reconnect.max_backoff = 1s;
    return o;
}

void create_table(const std::string& name, int rows) {
    sql("DROP TABLE IF EXISTS " + name + "; CREATE TABLE " + name +
        " (id int PRIMARY KEY, v text); INSERT INTO " + name +
        " SELECT g, 'v' || g FROM "
        "generate_series(1, " +
        std::to_string(rows) + ") g");
}

TEST(pg_source_failure, a_terminated_walsender_reconnects_from_the_last_ack_and_loses_nothing) {
    drop_slot_and_publication("fail_kill");
    create_table("fail_kill", 100);
    const table_identifier t("public", "fail_kill");
    auto target = std::make_shared<indexed_target>();
    engine_run run(quick_reconnects("fail_kill", slot_mode::stateful), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    sql("INSERT INTO fail_kill VALUES (101, 'before')");
    expect_target_matches_table(*target, t);
    for (int round = 0; round < 3; ++round) {
        terminate_walsender("fail_kill");
        sql("INSERT INTO fail_kill VALUES (" + std::to_string(200 + round) +
            ", 'after'); UPDATE fail_kill SET v = 'u' WHERE id = " + std::to_string(round + 1));
        expect_target_matches_table(*target, t);
    }
    EXPECT_GE(run.source()->health().reconnects, 3u);
    EXPECT_THAT(run.source()->health().last_disconnect, HasSubstr("57P01"));
    // The source reconnected by itself: the engine saw no failure and took no new baseline.
    EXPECT_EQ(run.observer()->disconnects.load(), 0);
    EXPECT_EQ(run.observer()->baselines_started.load(), 1);
}

TEST(pg_source_failure, a_server_restart_reconnects_and_loses_nothing) {
    drop_slot_and_publication("fail_restart");
    create_table("fail_restart", 50);
    const table_identifier t("public", "fail_restart");
    auto target = std::make_shared<indexed_target>();
    engine_run run(quick_reconnects("fail_restart", slot_mode::stateful), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    sql("INSERT INTO fail_restart VALUES (51, 'before')");
    expect_target_matches_table(*target, t);
    shared_pg_cluster().restart();
    sql("INSERT INTO fail_restart VALUES (52, 'after'); DELETE FROM fail_restart WHERE id = 1");
    expect_target_matches_table(*target, t, 60s);
    EXPECT_GE(run.source()->health().reconnects, 1u);
    EXPECT_EQ(run.observer()->baselines_started.load(), 1);
}

TEST(pg_source_failure, an_ephemeral_source_takes_a_new_slot_and_baseline_after_a_lost_connection) {
    drop_slot_and_publication("fail_eph");
    create_table("fail_eph", 30);
    const table_identifier t("public", "fail_eph");
    auto target = std::make_shared<indexed_target>();
    engine_run run(quick_reconnects("fail_eph", slot_mode::ephemeral), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    terminate_walsender("fail_eph");
    // Changes while no slot exists reach the target through the new baseline.
    sql("INSERT INTO fail_eph VALUES (31, 'while down'); DELETE FROM fail_eph WHERE id = 2");
    ASSERT_TRUE(wait_until([&] { return run.observer()->baselines_started.load() >= 2; }));
    sql("INSERT INTO fail_eph VALUES (32, 'after')");
    expect_target_matches_table(*target, t);
    EXPECT_GE(run.observer()->rebaselines.load(), 1);
    // One temporary slot again, not a leaked one per attempt.
    EXPECT_EQ(sql_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'fail_eph'"),
              "1");
}

// Holds the engine back (paused) while more WAL than max_slot_wal_keep_size is written, then
// checkpoints: the server invalidates the slot (and terminates its walsender).
void invalidate_slot(engine_run& run, const std::string& slot, const std::string& table) {
    run.engine().async_pause("pg", asio::use_future).get();
    sql("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'");
    sql("SELECT pg_reload_conf()");
    for (int i = 0; i < 4 && sql_value("SELECT wal_status FROM pg_replication_slots WHERE "
                                       "slot_name = '" +
                                       slot + "'") != "lost";
         ++i) {
        sql("INSERT INTO " + table + " SELECT g, repeat('w', 200) FROM generate_series(" +
            std::to_string(100000 + i * 20000) + ", " + std::to_string(100000 + i * 20000 + 19999) +
            ") g");
        sql("SELECT pg_switch_wal()");
        sql("CHECKPOINT");
    }
    EXPECT_EQ(
        sql_value("SELECT wal_status FROM pg_replication_slots WHERE slot_name = '" + slot + "'"),
        "lost");
    sql("ALTER SYSTEM RESET max_slot_wal_keep_size");
    sql("SELECT pg_reload_conf()");
    run.engine().async_resume("pg", asio::use_future).get();
}

TEST(pg_source_failure, an_invalidated_slot_is_made_again_and_the_table_rebaselined) {
    drop_slot_and_publication("fail_lost");
    create_table("fail_lost", 50);
    const table_identifier t("public", "fail_lost");
    auto target = std::make_shared<indexed_target>();
    engine_run run(quick_reconnects("fail_lost", slot_mode::stateful), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    invalidate_slot(run, "fail_lost", "fail_lost");
    ASSERT_TRUE(wait_until([&] { return run.observer()->baselines_started.load() >= 2; }, 60s))
        << ::testing::PrintToString(run.observer()->reasons());
    sql("INSERT INTO fail_lost VALUES (51, 'after')");
    expect_target_matches_table(*target, t, 60s);
    EXPECT_EQ(sql_value("SELECT wal_status <> 'lost' FROM pg_replication_slots WHERE slot_name = "
                        "'fail_lost'"),
              "t");
    run.stop();
    drop_slot_and_publication("fail_lost");
}

TEST(pg_source_failure, with_on_slot_invalidated_fail_a_lost_slot_stops_the_source_naming_it) {
    drop_slot_and_publication("fail_strict");
    create_table("fail_strict", 20);
    const table_identifier t("public", "fail_strict");
    auto target = std::make_shared<indexed_target>();
    auto options = quick_reconnects("fail_strict", slot_mode::stateful);
    options.on_slot_invalidated = slot_loss_policy::fail;
    engine_run run(options, {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    invalidate_slot(run, "fail_strict", "fail_strict");
    ASSERT_TRUE(wait_until(
        [&] {
            for (const auto& p : run.engine().pipelines())
                if (p.state == pipeline_state::error) return true;
            return false;
        },
        60s));
    const auto reasons = run.observer()->reasons();
    ASSERT_FALSE(reasons.empty());
    EXPECT_THAT(reasons.back(), HasSubstr("replication slot fail_strict"));
    EXPECT_THAT(reasons.back(), HasSubstr("on_slot_invalidated = fail"));
    EXPECT_EQ(run.observer()->baselines_started.load(), 1);
    run.stop();
    drop_slot_and_publication("fail_strict");
}

TEST(pg_source_failure, a_slot_dropped_by_an_operator_is_made_again_and_the_table_rebaselined) {
    drop_slot_and_publication("fail_drop");
    create_table("fail_drop", 40);
    const table_identifier t("public", "fail_drop");
    auto target = std::make_shared<indexed_target>();
    engine_run run(quick_reconnects("fail_drop", slot_mode::stateful), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    // The operator stops the walsender and drops the slot before the source reconnects.
    run.engine().async_pause("pg", asio::use_future).get();
    ASSERT_TRUE(wait_until(
        [&] {
            terminate_walsender("fail_drop");
            sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
                "slot_name = 'fail_drop' AND NOT active");
            return sql_value(
                       "SELECT count(*) FROM pg_replication_slots WHERE slot_name = "
                       "'fail_drop'") == "0";
        },
        10s));
    sql("DELETE FROM fail_drop WHERE id <= 5; INSERT INTO fail_drop VALUES (41, 'x')");
    run.engine().async_resume("pg", asio::use_future).get();
    ASSERT_TRUE(wait_until([&] { return run.observer()->baselines_started.load() >= 2; }, 60s))
        << ::testing::PrintToString(run.observer()->reasons());
    expect_target_matches_table(*target, t);
    run.stop();
    drop_slot_and_publication("fail_drop");
}

// Keeps nothing; a baseline and a stream need somewhere to go.
struct discard : baseline_sink, change_handler {
    asio::awaitable<void> on_rows(const table_identifier&, std::vector<row>) override { co_return; }
    asio::awaitable<void> on_changes(std::vector<change_event>) override { co_return; }
    asio::awaitable<void> on_heartbeat(position) override { co_return; }
    asio::awaitable<void> on_rewind(position) override { co_return; }
};

// An inactive slot falls behind max_slot_wal_keep_size and is invalidated at a checkpoint.
void lose_idle_slot(const std::string& slot) {
    sql("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'");
    sql("SELECT pg_reload_conf()");
    for (int i = 0; i < 4 && sql_value("SELECT wal_status FROM pg_replication_slots WHERE "
                                       "slot_name = '" +
                                       slot + "'") != "lost";
         ++i) {
        sql("CREATE TABLE IF NOT EXISTS fail_wal_filler (v text); INSERT INTO fail_wal_filler "
            "SELECT repeat('w', 200) FROM generate_series(1, 20000)");
        sql("SELECT pg_switch_wal()");
        sql("CHECKPOINT");
    }
    sql("ALTER SYSTEM RESET max_slot_wal_keep_size");
    sql("SELECT pg_reload_conf()");
}

TEST(pg_source_failure, a_slot_lost_again_during_its_rebaseline_stops_naming_the_setting) {
    drop_slot_and_publication("fail_again");
    create_table("fail_again", 10);
    const table_identifier t("public", "fail_again");
    std::string first_loss;
    std::string second_loss;
    bool second_fatal = false;
    laredo::testing::run_async(1, 120s, [&](asio::io_context& ctx) -> asio::awaitable<void> {
        auto source = std::make_shared<postgres_source>(
            ctx.get_executor(), quick_reconnects("fail_again", slot_mode::stateful));
        const auto ex = source->get_executor();
        const std::vector<table_identifier> tables{t};
        const source_config config{tables};
        discard sink;
        co_await asio::co_spawn(ex, source->init(config), asio::use_awaitable);
        auto at = co_await asio::co_spawn(ex, source->baseline(tables, sink), asio::use_awaitable);
        lose_idle_slot("fail_again");
        try {
            co_await asio::co_spawn(ex, source->stream(at, sink), asio::use_awaitable);
        } catch (const error& e) {
            EXPECT_EQ(e.code(), errc::rebaseline_required) << e.what();
            first_loss = e.what();
        }
        // The re-baseline makes a new slot; it is lost too before the stream starts.
        at = co_await asio::co_spawn(ex, source->baseline(tables, sink), asio::use_awaitable);
        lose_idle_slot("fail_again");
        try {
            co_await asio::co_spawn(ex, source->stream(at, sink), asio::use_awaitable);
        } catch (const error& e) {
            second_fatal = laredo::is_fatal(e.code()) && e.code() != errc::rebaseline_required;
            second_loss = e.what();
        }
        co_await asio::co_spawn(ex, source->close(), asio::use_awaitable);
    });
    EXPECT_THAT(first_loss, HasSubstr("a new slot and a new baseline follow"));
    EXPECT_TRUE(second_fatal) << second_loss;
    EXPECT_THAT(second_loss, HasSubstr("max_slot_wal_keep_size"));
    EXPECT_THAT(second_loss, HasSubstr("again"));
    drop_slot_and_publication("fail_again");
}

TEST(pg_source_failure, another_server_behind_the_address_is_a_failover_and_rebaselines_from_it) {
    // The address the source connects to moves to another server (another system identifier),
    // which has the table and the publication as a promoted standby or a restored dump would,
    // but not our slot, and other rows: positions of the old server mean nothing there.
    laredo::testing::pg_cluster_options o;
    o.name = "failover";
    laredo::testing::pg_cluster other(o);
    other.exec(
        "CREATE TABLE fail_over (id int PRIMARY KEY, v text); INSERT INTO fail_over SELECT g, "
        "'other ' || g FROM generate_series(1, 30) g; CREATE PUBLICATION fail_over_pub FOR "
        "TABLE fail_over");
    drop_slot_and_publication("fail_over");
    create_table("fail_over", 20);
    const table_identifier t("public", "fail_over");

    tcp_relay relay(shared_pg_cluster().port());
    auto options = quick_reconnects("fail_over", slot_mode::stateful);
    options.connection.port = relay.port();
    auto target = std::make_shared<indexed_target>();
    {
        engine_run run(options, {{t, target}});
        run.start();
        ASSERT_TRUE(run.ready());
        sql("INSERT INTO fail_over VALUES (21, 'before')");
        expect_target_matches_table(*target, t);

        relay.redirect(other.port());
        other.exec(
            "INSERT INTO fail_over VALUES (31, 'after'); DELETE FROM fail_over WHERE id = 1");
        expect_target_matches_table(*target, t, 60s, other);
        EXPECT_GE(run.observer()->baselines_started.load(), 2);
        {
            std::lock_guard lock(run.observer()->mutex);
            ASSERT_FALSE(run.observer()->rebaseline_reasons.empty());
            EXPECT_THAT(run.observer()->rebaseline_reasons.front(),
                        HasSubstr("failover or restore"));
        }
        // Streaming goes on from the new server's own slot.
        other.exec("UPDATE fail_over SET v = 'streamed' WHERE id = 2");
        expect_target_matches_table(*target, t, 30s, other);
        EXPECT_EQ(other.query_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = "
                                    "'fail_over'"),
                  "1");
    }
    drop_slot_and_publication("fail_over");
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
