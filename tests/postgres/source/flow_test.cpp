// Flow control: a target slower than wal_sender_timeout keeps the connection (the status
// writer speaks while the reader waits), and a 1,000,000-row transaction streams in bounded
// batches and memory. ACKs reach the server only for what the engine applied.

#include "source_test_support.hpp"

#include "laredo/change_handler.hpp"
#include "laredo/testing/async.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

namespace laredo::sources::postgres::testing {
namespace {

namespace asio = boost::asio;

std::size_t rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    }
    return 0;
}

TEST(pg_source_flow, a_target_slower_than_wal_sender_timeout_keeps_the_connection) {
    drop_slot_and_publication("flow_slow");
    sql("ALTER SYSTEM SET wal_sender_timeout = '5s'");
    sql("SELECT pg_reload_conf()");
    sql("DROP TABLE IF EXISTS flow_slow; CREATE TABLE flow_slow (id int PRIMARY KEY, v text)");
    const table_identifier t("public", "flow_slow");
    auto target = std::make_shared<indexed_target>();
    engine_run run(options_for("flow_slow"), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    const auto walsender =
        sql_value("SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'flow_slow'");
    ASSERT_FALSE(walsender.empty());

    // Paused, the pipeline applies nothing; its buffer fills and the source's reader waits in
    // the handler, for longer than the server's timeout.
    run.engine().async_pause("pg", asio::use_future).get();
    for (int i = 0; i < 20; ++i) {
        sql("INSERT INTO flow_slow SELECT g, repeat('p', 200) FROM generate_series(" +
            std::to_string(i * 1000) + ", " + std::to_string(i * 1000 + 999) + ") g");
    }
    std::this_thread::sleep_for(8s);
    run.engine().async_resume("pg", asio::use_future).get();
    expect_target_matches_table(*target, t, 60s);
    EXPECT_EQ(sql_value("SELECT active_pid FROM pg_replication_slots WHERE slot_name = "
                        "'flow_slow'"),
              walsender)
        << "the walsender changed: the connection was lost";
    EXPECT_EQ(run.observer()->disconnects.load(), 0)
        << ::testing::PrintToString(run.observer()->reasons());
    run.stop();
    sql("ALTER SYSTEM RESET wal_sender_timeout");
    sql("SELECT pg_reload_conf()");
}

// Counts what arrives; keeps nothing.
struct counting_handler : change_handler {
    std::size_t events = 0;
    std::size_t batches = 0;
    std::size_t largest = 0;
    std::size_t ends = 0;
    asio::awaitable<void> on_changes(std::vector<change_event> batch) override {
        events += batch.size();
        ++batches;
        largest = std::max(largest, batch.size());
        for (const auto& e : batch) ends += e.ends_transaction ? 1 : 0;
        co_return;
    }
    asio::awaitable<void> on_heartbeat(position) override { co_return; }
    asio::awaitable<void> on_rewind(position) override { co_return; }
};

struct null_sink : baseline_sink {
    asio::awaitable<void> on_rows(const table_identifier&, std::vector<row>) override { co_return; }
};

TEST(pg_source_flow, a_million_row_transaction_streams_in_bounded_batches_and_memory) {
    drop_slot_and_publication("flow_big");
    sql("DROP TABLE IF EXISTS flow_big; CREATE TABLE flow_big (id bigint PRIMARY KEY, name text, "
        "value float8, payload text, updated_at timestamptz)");
    const table_identifier t("public", "flow_big");
    constexpr std::size_t rows = 1'000'000;
    counting_handler handler;
    std::size_t before = 0;
    std::atomic<std::size_t> peak{0};
    std::atomic<bool> sampling{true};
    std::thread sampler;

    laredo::testing::run_async(1, 300s, [&](asio::io_context& ctx) -> asio::awaitable<void> {
        auto options = options_for("flow_big");
        options.change_batch_size = 1024;
        auto source = std::make_shared<postgres_source>(ctx.get_executor(), options);
        const auto ex = source->get_executor();
        const std::vector<table_identifier> tables{t};
        const source_config config{tables};
        co_await asio::co_spawn(ex, source->init(config), asio::use_awaitable);
        null_sink sink;
        const auto at =
            co_await asio::co_spawn(ex, source->baseline(tables, sink), asio::use_awaitable);
        sql("INSERT INTO flow_big SELECT g, 'name-' || g, g * 0.5, repeat('x', 100), now() FROM "
            "generate_series(1, " +
            std::to_string(rows) + ") g");
        before = rss_bytes();
        sampler = std::thread([&] {
            while (sampling) {
                peak = std::max(peak.load(), rss_bytes());
                std::this_thread::sleep_for(20ms);
            }
        });
        asio::cancellation_signal stop;
        auto watcher = [&]() -> asio::awaitable<void> {
            co_await laredo::testing::eventually([&] { return handler.ends > 0; }, 280s);
            stop.emit(asio::cancellation_type::terminal);
        };
        asio::co_spawn(ex, watcher(), asio::detached);
        co_await asio::co_spawn(ex, source->stream(at, handler),
                                asio::bind_cancellation_slot(stop.slot(), asio::use_awaitable));
        co_await asio::co_spawn(ex, source->close(), asio::use_awaitable);
    });
    sampling = false;
    if (sampler.joinable()) sampler.join();

    EXPECT_EQ(handler.events, rows);
    EXPECT_EQ(handler.ends, 1u) << "one transaction, one end";
    EXPECT_LE(handler.largest, 1024u);
    EXPECT_GE(handler.batches, rows / 1024);
    const double growth_mb = (static_cast<double>(peak.load()) - static_cast<double>(before)) / 1e6;
    std::printf("1,000,000-row transaction: peak RSS growth %.1f MB (%zu batches)\n", growth_mb,
                handler.batches);
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer keeps freed memory in quarantine (256 MB by default): only an unbounded
    // buffer (the whole transaction, over 400 MB of events) would pass this.
    EXPECT_LT(growth_mb, 400.0);
#else
    EXPECT_LT(growth_mb, 100.0);
#endif
}

TEST(pg_source_flow, the_server_is_told_only_what_the_engine_acknowledged) {
    drop_slot_and_publication("flow_ack");
    sql("DROP TABLE IF EXISTS flow_ack; CREATE TABLE flow_ack (id int PRIMARY KEY)");
    const table_identifier t("public", "flow_ack");
    std::string confirmed_before;
    std::string confirmed_after;
    std::string commit_lsn;
    laredo::testing::run_async(1, 60s, [&](asio::io_context& ctx) -> asio::awaitable<void> {
        auto source =
            std::make_shared<postgres_source>(ctx.get_executor(), options_for("flow_ack"));
        const auto ex = source->get_executor();
        const std::vector<table_identifier> tables{t};
        const source_config config{tables};
        co_await asio::co_spawn(ex, source->init(config), asio::use_awaitable);
        null_sink sink;
        const auto at =
            co_await asio::co_spawn(ex, source->baseline(tables, sink), asio::use_awaitable);
        counting_handler handler;
        asio::cancellation_signal stop;
        auto watcher = [&]() -> asio::awaitable<void> {
            sql("INSERT INTO flow_ack VALUES (1)");
            co_await laredo::testing::eventually([&] { return handler.ends > 0; }, 30s);
            // Received, not acknowledged: the slot must not move past the baseline's point
            // however long we wait (several status intervals).
            co_await laredo::testing::sleep_for(2500ms);
            confirmed_before = sql_value(
                "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = "
                "'flow_ack'");
            commit_lsn = sql_value("SELECT pg_current_wal_lsn()");
            co_await asio::co_spawn(ex, source->ack(source->position_from_string(commit_lsn)),
                                    asio::use_awaitable);
            co_await laredo::testing::eventually(
                [&] {
                    confirmed_after = sql_value(
                        "SELECT confirmed_flush_lsn FROM "
                        "pg_replication_slots WHERE slot_name = 'flow_ack'");
                    return confirmed_after == commit_lsn;
                },
                10s);
            stop.emit(asio::cancellation_type::terminal);
        };
        asio::co_spawn(ex, watcher(), asio::detached);
        co_await asio::co_spawn(ex, source->stream(at, handler),
                                asio::bind_cancellation_slot(stop.slot(), asio::use_awaitable));
        EXPECT_EQ(source->position_to_string(at),
                  source->position_to_string(source->position_from_string(confirmed_before)))
            << "the slot confirmed what was only received";
        co_await asio::co_spawn(ex, source->close(), asio::use_awaitable);
    });
    EXPECT_EQ(confirmed_after, commit_lsn);
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
