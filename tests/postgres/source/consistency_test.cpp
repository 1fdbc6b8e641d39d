// The hand-off from baseline to stream: every change exactly once around the slot's creation
// and the snapshot, and a target equal to its table after writers ran during the baseline.

#include "source_test_support.hpp"

#include "laredo/change_handler.hpp"
#include "laredo/error.hpp"
#include "laredo/sources/postgres/lsn.hpp"
#include "laredo/testing/async.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <libpq-fe.h>

#include <map>
#include <thread>

namespace laredo::sources::postgres::testing {
namespace {

namespace asio = boost::asio;

// Records what a source delivers, keyed by the `id` column, counting inserts per id.
struct recorder : baseline_sink, change_handler {
    std::function<void()> on_first_rows;
    std::map<std::int64_t, int> baseline_ids;
    std::map<std::int64_t, int> inserted_ids;
    std::vector<change_event> events;
    int heartbeats = 0;
    bool first = true;

    static std::int64_t id_of(const row& r) { return r.at("id").get<std::int64_t>(); }

    asio::awaitable<void> on_rows(const table_identifier&, std::vector<row> rows) override {
        if (first && on_first_rows) on_first_rows();
        first = false;
        for (const auto& r : rows) ++baseline_ids[id_of(r)];
        co_return;
    }
    asio::awaitable<void> on_changes(std::vector<change_event> batch) override {
        for (auto& e : batch) {
            if (e.action == change_action::insert) ++inserted_ids[id_of(e.new_values)];
            events.push_back(std::move(e));
        }
        co_return;
    }
    asio::awaitable<void> on_heartbeat(position) override {
        ++heartbeats;
        co_return;
    }
    asio::awaitable<void> on_rewind(position) override { co_return; }
};

// An open transaction holding an xid on its own connection (blocking libpq).
struct open_transaction {
    PGconn* conn = PQconnectdb(shared_pg_cluster().conninfo().c_str());
    explicit open_transaction(const std::string& first_statement) {
        exec("BEGIN");
        exec(first_statement);
    }
    void exec(const std::string& s) {
        PGresult* r = PQexec(conn, s.c_str());
        const auto status = PQresultStatus(r);
        PQclear(r);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
            throw std::runtime_error(s + ": " + PQerrorMessage(conn));
    }
    ~open_transaction() { PQfinish(conn); }
};

TEST(pg_source_consistency, changes_around_the_slot_creation_arrive_exactly_once) {
    drop_slot_and_publication("cons_a");
    sql("DROP TABLE IF EXISTS cons_a; CREATE TABLE cons_a (id bigint PRIMARY KEY, v text); "
        "INSERT INTO cons_a SELECT g, 'base' FROM generate_series(1, 100) g");
    const table_identifier t("public", "cons_a");

    // T1 holds an xid while the slot is created: creation waits for it, so T1 commits during
    // the creation (before the consistent point: in the snapshot, not in the stream).
    open_transaction t1("INSERT INTO cons_a VALUES (1001, 't1')");
    recorder rec;
    std::unique_ptr<open_transaction> t2;
    // T2 starts after the snapshot was imported (the first rows arrive) and commits while the
    // baseline still reads: in the stream, not in the snapshot.
    rec.on_first_rows = [&] {
        t2 = std::make_unique<open_transaction>("INSERT INTO cons_a VALUES (1002, 't2')");
        t2->exec("COMMIT");
    };
    std::thread committer([&] {
        std::this_thread::sleep_for(1500ms);
        t1.exec("COMMIT");
    });

    laredo::testing::run_async(1, 90s, [&](asio::io_context& ctx) -> asio::awaitable<void> {
        auto options = options_for("cons_a");
        options.baseline_batch_rows = 10;
        auto source = std::make_shared<postgres_source>(ctx.get_executor(), options);
        const auto ex = source->get_executor();
        const std::vector<table_identifier> tables{t};
        const source_config config{tables};
        co_await asio::co_spawn(ex, source->init(config), asio::use_awaitable);
        const auto at =
            co_await asio::co_spawn(ex, source->baseline(tables, rec), asio::use_awaitable);
        EXPECT_FALSE(at.empty());
        sql("INSERT INTO cons_a VALUES (1003, 'after')");
        asio::cancellation_signal stop;
        auto watcher = [&]() -> asio::awaitable<void> {
            const bool seen = co_await laredo::testing::eventually(
                [&] { return rec.inserted_ids.contains(1003); }, 30s);
            EXPECT_TRUE(seen) << "the insert after the baseline never arrived";
            stop.emit(asio::cancellation_type::terminal);
        };
        asio::co_spawn(ex, watcher(), asio::detached);
        co_await asio::co_spawn(ex, source->stream(at, rec),
                                asio::bind_cancellation_slot(stop.slot(), asio::use_awaitable));
        co_await asio::co_spawn(ex, source->close(), asio::use_awaitable);
    });
    committer.join();

    EXPECT_EQ(rec.baseline_ids.size(), 101u);  // 1..100 and T1's row
    EXPECT_EQ(rec.baseline_ids.count(1001), 1u);
    EXPECT_EQ(rec.baseline_ids.count(1002), 0u);
    EXPECT_EQ(rec.inserted_ids.count(1001), 0u) << "T1 came twice: in the snapshot and the stream";
    EXPECT_EQ(rec.inserted_ids[1002], 1) << "T2 must come exactly once, by the stream";
    EXPECT_EQ(rec.inserted_ids[1003], 1);
    for (const auto& [id, n] : rec.baseline_ids) EXPECT_EQ(n, 1) << "row " << id;
    // Events carry their transaction: xid, commit time, positions strictly increasing.
    for (std::size_t i = 1; i < rec.events.size(); ++i) {
        EXPECT_LT(compare_positions(rec.events[i - 1].pos, rec.events[i].pos), 0);
        EXPECT_NE(rec.events[i].transaction_id, 0u);
    }
    ASSERT_FALSE(rec.events.empty());
    EXPECT_TRUE(rec.events.back().ends_transaction);
}

TEST(pg_source_consistency, writers_during_the_baseline_leave_the_target_equal_to_the_table) {
    drop_slot_and_publication("cons_b");
    sql("DROP TABLE IF EXISTS cons_b; CREATE TABLE cons_b (id bigint PRIMARY KEY, writer int, "
        "n int, payload text); INSERT INTO cons_b SELECT g, 0, 0, repeat('x', 100) FROM "
        "generate_series(1, 20000) g");
    const table_identifier t("public", "cons_b");
    auto target = std::make_shared<indexed_target>();
    auto options = options_for("cons_b");
    options.baseline_batch_rows = 200;
    engine_run run(options, {{t, target}});

    // Four writers, 2,500 rows each: inserts of new rows, updates and deletes of old ones,
    // while the baseline runs and after.
    std::atomic<bool> go{false};
    std::vector<std::thread> writers;
    for (int w = 1; w <= 4; ++w) {
        writers.emplace_back([w, &go] {
            while (!go) std::this_thread::sleep_for(1ms);
            for (int i = 0; i < 250; ++i) {
                const int base = 100000 * w + i * 10;
                std::string s = "BEGIN; INSERT INTO cons_b SELECT g, " + std::to_string(w) +
                                ", 0, 'new' FROM generate_series(" + std::to_string(base) + ", " +
                                std::to_string(base + 9) +
                                ") g; UPDATE cons_b SET n = n + 1 "
                                "WHERE id = " +
                                std::to_string(w * 4000 + i) +
                                "; DELETE FROM "
                                "cons_b WHERE id = " +
                                std::to_string(w * 4000 + 1000 + i) + "; COMMIT";
                sql(s);
            }
        });
    }
    go = true;
    run.start();
    ASSERT_TRUE(run.ready(120s));
    for (auto& w : writers) w.join();
    expect_target_matches_table(*target, t, 60s);
    EXPECT_EQ(target->count(), 20000u + 10000u - 1000u);
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
