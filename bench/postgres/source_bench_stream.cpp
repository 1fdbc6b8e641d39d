// source_bench, part 2: streaming. Every consumer of a workload reads the same WAL from a slot
// of its own, made before the WAL was written: pg_recvlogical, and the engine resuming from
// the slot's position into a target that applies nothing and into the indexed target.

#include "source_bench.hpp"

#include "source_bench_engine.hpp"
#include "source_bench_support.hpp"
#include "source_bench_targets.hpp"

#include <chrono>
#include <future>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace laredo::bench::postgres {

namespace pg = sources::postgres;
using namespace std::chrono_literals;

namespace {

enum class consumer { recvlogical, counting, indexed };
constexpr consumer consumers[] = {consumer::recvlogical, consumer::counting, consumer::indexed};

const char* name_of(consumer c) {
    switch (c) {
        case consumer::recvlogical:
            return "pg_recvlogical";
        case consumer::counting:
            return "engine_counting";
        case consumer::indexed:
            return "engine_indexed";
    }
    return "";
}

struct workload {
    std::string name;  // big | small
    std::string generate_sql;
    std::uint64_t rows = 0;
    std::string table() const { return "s_" + name; }
    std::string publication() const { return "pub_" + name; }
    std::string slot(consumer c, std::uint64_t rep) const {
        return name + "_" + std::to_string(static_cast<int>(c)) + "_" + std::to_string(rep);
    }
};

run_figures engine_stream(bench_context& ctx, const workload& w, const std::string& slot,
                          const std::string& slot_lsn, bool indexed) {
    const table_identifier table("public", w.table());
    engine_host host(ctx.source_options(slot, pg::slot_mode::stateful, w.publication(), false),
                     ctx.settings.threads);
    const auto inner = make_target(indexed);
    // The target claims the slot's own position: the engine resumes from the slot, no baseline.
    auto target = std::make_shared<measured_target>(inner, w.rows,
                                                    host.source().position_from_string(slot_lsn));
    auto done = target->done();
    host.add_pipeline(table, target, ctx.pipeline());
    const double t0 = now_s();
    const double c0 = process_cpu_s();
    host.start();
    if (done.wait_for(600s) != std::future_status::ready) {
        throw std::runtime_error("engine stream on slot " + slot + ": " +
                                 std::to_string(target->applied()) + " of " +
                                 std::to_string(w.rows) + " rows after 600 s");
    }
    const auto finish = done.get();
    run_figures f;
    f.seconds = finish.at_s - t0;
    f.cpu_seconds = finish.cpu_s - c0;
    f.rows = target->applied();
    if (host.observer().baseline_started())
        throw std::runtime_error("engine stream on slot " + slot + " took a baseline");
    expect_rows(*inner, table, w.rows);
    host.stop();
    return f;
}

void run_workload(bench_context& ctx, const workload& w) {
    const auto reps = ctx.settings.reps;
    ctx.sql("DROP TABLE IF EXISTS " + w.table() + "; " + bench_table_ddl(w.table()));
    ctx.sql("DROP PUBLICATION IF EXISTS " + w.publication() + "; CREATE PUBLICATION " +
            w.publication() + " FOR TABLE " + w.table());
    // One slot per consumer and repetition, all made before the WAL is written.
    std::map<std::string, std::string> slot_lsn;
    for (std::uint64_t rep = 0; rep < reps; ++rep) {
        for (const auto c : consumers) {
            const auto slot = w.slot(c, rep);
            slot_lsn[slot] = ctx.value("SELECT lsn FROM pg_create_logical_replication_slot('" +
                                       slot + "', 'pgoutput')");
        }
    }
    const auto start_lsn = ctx.value("SELECT pg_current_wal_insert_lsn()");
    std::cerr << "[source_bench] stream: generating " << w.rows << " rows for workload '" << w.name
              << "'\n";
    const double g0 = now_s();
    ctx.sql(w.generate_sql);
    metric("stream_" + w.name + "_generate_seconds", fixed(now_s() - g0, 3));
    // The insert position, not the write position: with synchronous_commit = off the latter
    // can lag behind the last commit.
    const auto end_lsn = ctx.value("SELECT pg_current_wal_insert_lsn()");
    metric("stream_" + w.name + "_wal_bytes",
           ctx.value("SELECT pg_wal_lsn_diff('" + end_lsn + "', '" + start_lsn + "')"));
    metric("stream_" + w.name + "_txns",
           ctx.value("SELECT count(DISTINCT xmin::text) FROM " + w.table()));
    if (ctx.value("SELECT count(*) FROM " + w.table()) != std::to_string(w.rows))
        throw std::runtime_error("workload " + w.name + ": wrong row count");
    // Everything flushed, and WAL past the end, so pg_recvlogical sees a position past -E.
    ctx.value("SELECT pg_switch_wal()");

    std::map<consumer, series> figures;
    for (std::uint64_t rep = 0; rep < reps; ++rep) {
        std::string line;
        for (std::uint64_t k = 0; k < 3; ++k) {
            const auto c = consumers[(rep + k) % 3];
            const auto slot = w.slot(c, rep);
            run_figures f;
            if (c == consumer::recvlogical) {
                f = run_pg_recvlogical({ctx.cluster.host(), ctx.cluster.port(), "postgres",
                                        ctx.dbname, slot, w.publication(), end_lsn});
                // It stops at the first message at or past the end: it saw the last commit
                // when its slot confirms at least as far as that commit's start.
                const auto confirmed =
                    ctx.value("SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '" + start_lsn +
                              "') > 0 FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
                if (confirmed != "t")
                    throw std::runtime_error("pg_recvlogical on " + slot + " confirmed nothing");
            } else {
                f = engine_stream(ctx, w, slot, slot_lsn.at(slot), c == consumer::indexed);
            }
            figures[c].add(f);
            ctx.drop_slot(slot);
            line += std::string(" ") + name_of(c) + " " + fixed(f.seconds, 2) + " s";
        }
        std::cerr << "[source_bench] stream " << w.name << " rep " << rep + 1 << ":" << line
                  << "\n";
    }

    const auto& ref = figures.at(consumer::recvlogical);
    for (const auto c : consumers) {
        const auto& s = figures.at(c);
        const std::string prefix = "stream_" + w.name + "_" + name_of(c);
        metric(prefix + "_seconds_median", fixed(median(s.seconds), 3));
        metric(prefix + "_rows_per_sec_median", fixed(s.rows_per_sec(w.rows), 0));
        metric(prefix + "_cpu_us_per_row_median", fixed(s.cpu_us_per_row(w.rows), 2));
        if (c == consumer::recvlogical) continue;
        const double ratio = s.rows_per_sec(w.rows) / ref.rows_per_sec(w.rows);
        const double cpu_ratio = s.cpu_us_per_row(w.rows) / ref.cpu_us_per_row(w.rows);
        metric(prefix + "_vs_pg_recvlogical_ratio", fixed(ratio, 3));
        metric(prefix + "_cpu_per_row_vs_pg_recvlogical", fixed(cpu_ratio, 2));
        metric(prefix + "_goal_met", ratio >= 0.9 && cpu_ratio <= 1.0 ? "yes" : "no");
        const std::string what =
            (w.name == "big" ? "1 txn x " + std::to_string(w.rows) + " rows"
                             : std::to_string(ctx.settings.small_txns) + " txns x " +
                                   std::to_string(ctx.settings.small_rows_per_txn) + " rows") +
            (c == consumer::counting ? " -> counting target" : " -> indexed target");
        ctx.summary.push_back(
            {"stream " + what,
             fixed(s.rows_per_sec(w.rows) / 1e3, 0) + " k rows/s, " +
                 fixed(s.cpu_us_per_row(w.rows), 2) + " us CPU/row",
             "pg_recvlogical " + fixed(ref.rows_per_sec(w.rows) / 1e3, 0) + " k rows/s, " +
                 fixed(ref.cpu_us_per_row(w.rows), 2) + " us CPU/row",
             fixed(ratio, 2) + " (CPU " + fixed(cpu_ratio, 2) + "x)", ">= 0.9, CPU <= 1x"});
    }
    ctx.sql("DROP PUBLICATION " + w.publication() + "; DROP TABLE " + w.table());
}

}  // namespace

void run_stream_phase(bench_context& ctx) {
    const auto& s = ctx.settings;
    const workload big{"big", "INSERT INTO s_big " + bench_rows_select("1", std::to_string(s.rows)),
                       s.rows};
    // One session, one statement: a DO block that commits after every SMALL_ROWS_PER_TXN rows.
    const auto per = std::to_string(s.small_rows_per_txn);
    const workload small{"small",
                         "DO $$ BEGIN FOR i IN 0.." + std::to_string(s.small_txns - 1) +
                             " LOOP INSERT INTO s_small " +
                             bench_rows_select("i * " + per + " + 1", "(i + 1) * " + per) +
                             "; COMMIT; END LOOP; END $$",
                         s.small_txns * s.small_rows_per_txn};
    run_workload(ctx, big);
    run_workload(ctx, small);
}

}  // namespace laredo::bench::postgres
