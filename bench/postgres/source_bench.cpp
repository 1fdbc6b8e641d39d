// source_bench: the PostgreSQL source through the engine, beside what the machine's raw
// clients do with the same cluster and data, in one run, interleaved, medians of REPS:
//
//  1. baseline: ROWS rows read by the source (COPY in an exported snapshot) into the indexed
//     memory target, and into a target that applies nothing, beside a bare libpq text COPY
//     of the same table to nothing (goal: indexed >= 0.8x the COPY);
//  2. stream: one transaction of ROWS rows, and SMALL_TXNS transactions of SMALL_ROWS_PER_TXN
//     rows, consumed from slots made before the WAL was written, by the engine (into both
//     targets) and by pg_recvlogical (pgoutput, proto_version 1) to /dev/null (goal: >= 0.9x
//     its rows/s, and no more CPU per row than it);
//  3. latency: LATENCY_RATE single-row transactions per second for LATENCY_SECONDS, with
//     synchronous_commit = on, from commit (the writer's clock when COMMIT returned; also
//     the commit record's own time) to the row showing in the indexed target (its listener)
//     (goal: p99 < 10 ms).
//
// It starts its own cluster (tests/common/pg_cluster.hpp) with settings that speed up loading
// the data without changing what is decoded: shared_buffers = 512MB, fsync = off, autovacuum = off,
// synchronous_commit = off for the throughput parts (on for the latency part),
// logical_decoding_work_mem = DECODING_WORK_MEM. Output: `metric: value` lines, then a summary
// table.
//
// Knobs (environment): ROWS=1000000 REPS=3 SMALL_TXNS=100000 SMALL_ROWS_PER_TXN=10 THREADS=2
// LATENCY_RATE=5000 LATENCY_SECONDS=10 LATENCY_WRITERS=8 DECODING_WORK_MEM=64MB
// PHASES=baseline,stream,latency PGBIN=/usr/lib/postgresql/15/bin; and, to try other settings
// than the library's defaults, BASELINE_BATCH_ROWS, CHANGE_BATCH_SIZE (source_options) and
// PIPELINE_BUFFER (pipeline_options::buffer_size).

#include "source_bench.hpp"

#include "source_bench_engine.hpp"
#include "source_bench_support.hpp"
#include "source_bench_targets.hpp"

#include "laredo/targets/memory/indexed_target.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace laredo::bench::postgres {

namespace pg = sources::postgres;
using namespace std::chrono_literals;

bench_settings bench_settings::from_environment() {
    bench_settings s;
    s.rows = env_u64("ROWS", s.rows);
    s.reps = std::max<std::uint64_t>(1, env_u64("REPS", s.reps));
    s.small_txns = env_u64("SMALL_TXNS", s.small_txns);
    s.small_rows_per_txn = env_u64("SMALL_ROWS_PER_TXN", s.small_rows_per_txn);
    s.threads = static_cast<int>(std::max<std::uint64_t>(1, env_u64("THREADS", 2)));
    s.latency_rate = env_u64("LATENCY_RATE", s.latency_rate);
    s.latency_seconds = env_u64("LATENCY_SECONDS", s.latency_seconds);
    s.latency_writers = std::max<std::uint64_t>(1, env_u64("LATENCY_WRITERS", s.latency_writers));
    s.decoding_work_mem = env_text("DECODING_WORK_MEM", s.decoding_work_mem);
    s.phases = env_text("PHASES", s.phases);
    s.baseline_batch_rows = env_u64("BASELINE_BATCH_ROWS", 0);
    s.change_batch_size = env_u64("CHANGE_BATCH_SIZE", 0);
    s.pipeline_buffer = env_u64("PIPELINE_BUFFER", 0);
    if (s.rows == 0 || s.small_txns == 0 || s.small_rows_per_txn == 0 || s.latency_rate == 0 ||
        s.latency_seconds == 0) {
        throw std::runtime_error(
            "ROWS, SMALL_TXNS, SMALL_ROWS_PER_TXN, LATENCY_RATE and LATENCY_SECONDS must be at "
            "least 1");
    }
    std::istringstream list(s.phases);
    for (std::string phase; std::getline(list, phase, ',');) {
        if (phase != "baseline" && phase != "stream" && phase != "latency")
            throw std::runtime_error("PHASES: unknown phase '" + phase +
                                     "' (baseline, stream, latency)");
    }
    return s;
}

bool bench_settings::runs(const std::string& phase) const {
    std::istringstream list(phases);
    for (std::string p; std::getline(list, p, ',');)
        if (p == phase) return true;
    return false;
}

std::string bench_context::conninfo() const {
    return cluster.conninfo(dbname) + " sslmode=disable client_encoding=UTF8 options='" +
           session_options + "'";
}

pg::source_options bench_context::source_options(const std::string& slot, pg::slot_mode mode,
                                                 const std::string& publication,
                                                 bool create) const {
    pg::source_options o;
    o.connection.host = cluster.host();
    o.connection.port = cluster.port();
    o.connection.user = "postgres";
    o.connection.dbname = dbname;
    o.connection.sslmode = "disable";
    o.slot_name = slot;
    o.mode = mode;
    o.publication.name = publication;
    o.publication.create = create;
    if (settings.baseline_batch_rows) o.baseline_batch_rows = settings.baseline_batch_rows;
    if (settings.change_batch_size) o.change_batch_size = settings.change_batch_size;
    return o;
}

pipeline_options bench_context::pipeline() const {
    pipeline_options p;
    if (settings.pipeline_buffer) p.buffer_size = settings.pipeline_buffer;
    return p;
}

void bench_context::sql(const std::string& statements) const { cluster.exec(statements, dbname); }

std::string bench_context::value(const std::string& query) const {
    return cluster.query_value(query, dbname);
}

void bench_context::drop_slot(const std::string& slot) const {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
        const auto state =
            value("SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
        if (state.empty()) return;  // gone (a temporary slot goes with its connection)
        if (state == "f") {
            try {
                sql("SELECT pg_drop_replication_slot('" + slot + "')");
                return;
            } catch (const std::runtime_error&) {
                // Taken again in between, or dropped by its walsender: look again.
            }
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("replication slot " + slot + " stays active");
        std::this_thread::sleep_for(50ms);
    }
}

std::shared_ptr<sync_target> make_target(bool indexed) {
    if (indexed) return std::make_shared<targets::memory::indexed_target>();
    return std::make_shared<counting_target>();
}

void expect_rows(const sync_target& target, const table_identifier& table, std::uint64_t rows) {
    if (!target.keeps_rows()) return;
    const auto kept = target.row_count(table);
    if (!kept || *kept != rows) {
        throw std::runtime_error(target.type_name() + " holds " + std::to_string(kept.value_or(0)) +
                                 " rows of " + table.to_string() + ", not " + std::to_string(rows));
    }
}

std::string bench_table_ddl(const std::string& name) {
    return "CREATE TABLE " + name +
           " (id bigint PRIMARY KEY, name text NOT NULL, value double precision, payload text, "
           "updated_at timestamptz NOT NULL)";
}

std::string bench_rows_select(const std::string& first, const std::string& last) {
    return "SELECT g, 'name-' || g, g * 1.25, rpad(md5(g::text), 100, md5((g + 7)::text)), "
           "now() - g * interval '1 second' FROM generate_series(" +
           first + ", " + last + ") g";
}

namespace {

// ------------------------------------------------------------------------- baseline phase

struct baseline_run {
    run_figures copy;            // the source's COPY, conversion and the target's apply
    double start_to_done_s = 0;  // + init, publication and slot creation
    double to_first_rows_s = 0;  // from the baseline's start to its first batch applied
};

baseline_run engine_baseline(bench_context& ctx, const std::string& slot, bool indexed) {
    const table_identifier table("public", "t");
    const auto rows = ctx.settings.rows;
    engine_host host(ctx.source_options(slot, pg::slot_mode::ephemeral, "bench_t_pub", true),
                     ctx.settings.threads);
    const auto inner = make_target(indexed);
    auto target = std::make_shared<measured_target>(inner, rows);
    host.add_pipeline(table, target, ctx.pipeline());
    const auto threads_before = thread_cpu_s();
    const double t0 = now_s();
    host.start();
    host.wait_ready(600s);
    const auto started = host.observer().baseline_started();
    const auto completed = host.observer().baseline_completed();
    if (!started || !completed) throw std::runtime_error("the baseline was not reported");
    baseline_run r;
    r.copy.seconds = completed->at_s - started->at_s;
    r.copy.cpu_seconds = completed->cpu_s - started->cpu_s;
    r.copy.rows = host.observer().baseline_rows();
    r.start_to_done_s = completed->at_s - t0;
    if (const auto first = host.observer().baseline_first_rows())
        r.to_first_rows_s = first->at_s - started->at_s;
    // Where the CPU went: the server backend that ran the COPY (its whole life: connection,
    // catalog queries, estimates, COPY) and each thread of this process.
    const auto backend = ctx.value(
        "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND "
        "application_name = 'laredo:" +
        slot + "'");
    if (!backend.empty()) r.copy.server_cpu_seconds = process_cpu_s(std::stoi(backend));
    std::string threads;
    for (const auto& [tid, cpu] : thread_cpu_s()) {
        double before = 0;
        for (const auto& [t, c] : threads_before)
            if (t == tid) before = c;
        if (cpu - before < 0.01) continue;
        threads += ' ';
        threads += fixed(cpu - before, 2);
    }
    std::cerr << "[source_bench]   " << (indexed ? "indexed" : "counting") << ": "
              << fixed(r.copy.seconds, 3) << " s, first batch after " << fixed(r.to_first_rows_s, 3)
              << " s, server backend CPU " << fixed(r.copy.server_cpu_seconds, 2)
              << " s, CPU per thread of ours:" << threads << " s, in the target "
              << fixed(target->apply_seconds(), 3) << " s\n";
    if (target->applied() != rows || r.copy.rows != rows) {
        throw std::runtime_error("engine baseline: " + std::to_string(target->applied()) +
                                 " rows applied, " + std::to_string(r.copy.rows) + " read, " +
                                 std::to_string(rows) + " expected");
    }
    expect_rows(*inner, table, rows);
    host.stop();
    return r;
}

void report_series(const std::string& prefix, const series& s, std::uint64_t rows) {
    metric(prefix + "_seconds_median", fixed(median(s.seconds), 3));
    metric(prefix + "_seconds_best",
           fixed(*std::min_element(s.seconds.begin(), s.seconds.end()), 3));
    metric(prefix + "_rows_per_sec_median", fixed(s.rows_per_sec(rows), 0));
    metric(prefix + "_client_cpu_pct_median", fixed(s.cpu_pct(), 0));
}

std::string rate_text(double rows_per_sec) {
    return rows_per_sec >= 1e6 ? fixed(rows_per_sec / 1e6, 2) + " M/s"
                               : fixed(rows_per_sec / 1e3, 0) + " k/s";
}

}  // namespace

void run_baseline_phase(bench_context& ctx) {
    const auto rows = ctx.settings.rows;
    std::cerr << "[source_bench] baseline: loading " << rows << " rows into t\n";
    ctx.sql("DROP TABLE IF EXISTS t; " + bench_table_ddl("t"));
    ctx.sql("INSERT INTO t " + bench_rows_select("1", std::to_string(rows)));
    ctx.sql("VACUUM (ANALYZE) t");
    metric("table_t_bytes", ctx.value("SELECT pg_table_size('t')"));
    const std::string select = "SELECT * FROM t";
    raw_libpq_copy(ctx.conninfo(), select);  // warm the cache

    series raw;
    series counting;
    series indexed;
    series indexed_total;
    std::vector<double> first_batch_s;
    for (std::uint64_t rep = 0; rep < ctx.settings.reps; ++rep) {
        // Rotate the order so that no client always follows the same one.
        for (std::uint64_t k = 0; k < 3; ++k) {
            const auto which = (rep + k) % 3;
            const auto slot = "bl_" + std::to_string(rep) + "_" + std::to_string(which);
            if (which == 0) {
                const auto f = raw_libpq_copy(ctx.conninfo(), select);
                if (f.rows != rows)
                    throw std::runtime_error("raw COPY read " + std::to_string(f.rows) + " rows");
                raw.add(f);
                std::cerr << "[source_bench]   libpq COPY: " << fixed(f.seconds, 3)
                          << " s, server backend CPU " << fixed(f.server_cpu_seconds, 2)
                          << " s, client CPU " << fixed(f.cpu_seconds, 2) << " s\n";
            } else if (which == 1) {
                counting.add(engine_baseline(ctx, slot, false).copy);
            } else {
                const auto r = engine_baseline(ctx, slot, true);
                indexed.add(r.copy);
                indexed_total.seconds.push_back(r.start_to_done_s);
                first_batch_s.push_back(r.to_first_rows_s);
            }
        }
        std::cerr << "[source_bench] baseline rep " << rep + 1 << ": libpq COPY "
                  << fixed(raw.seconds.back(), 3) << " s, engine->counting "
                  << fixed(counting.seconds.back(), 3) << " s, engine->indexed "
                  << fixed(indexed.seconds.back(), 3) << " s\n";
    }
    report_series("baseline_libpq_copy", raw, rows);
    report_series("baseline_engine_counting", counting, rows);
    report_series("baseline_engine_indexed", indexed, rows);
    metric("baseline_engine_indexed_with_init_seconds_median",
           fixed(median(indexed_total.seconds), 3));
    // Estimates, slot creation with an exported snapshot, its import, the COPY's first batch.
    metric("baseline_engine_indexed_first_batch_after_seconds_median",
           fixed(median(first_batch_s), 3));
    const double ratio_indexed = indexed.rows_per_sec(rows) / raw.rows_per_sec(rows);
    const double ratio_counting = counting.rows_per_sec(rows) / raw.rows_per_sec(rows);
    metric("baseline_indexed_vs_libpq_copy_ratio", fixed(ratio_indexed, 3));
    metric("baseline_counting_vs_libpq_copy_ratio", fixed(ratio_counting, 3));
    metric("baseline_goal_met", ratio_indexed >= 0.8 ? "yes" : "no");
    ctx.summary.push_back({"baseline " + std::to_string(rows) + " rows -> indexed target",
                           rate_text(indexed.rows_per_sec(rows)),
                           "libpq COPY " + rate_text(raw.rows_per_sec(rows)),
                           fixed(ratio_indexed, 2), ">= 0.8"});
    ctx.summary.push_back({"baseline -> counting target", rate_text(counting.rows_per_sec(rows)),
                           "libpq COPY " + rate_text(raw.rows_per_sec(rows)),
                           fixed(ratio_counting, 2), ""});
    ctx.sql("DROP TABLE t");
}

}  // namespace laredo::bench::postgres

namespace {

using namespace laredo::bench::postgres;

// The value of the first line of a /proc file that starts with `key` ("unknown" if none).
std::string proc_field(const char* file, const std::string& key) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(key, 0) != 0) continue;
        const auto value = line.find_first_not_of(" \t", line.find(':') + 1);
        return value == std::string::npos ? std::string() : line.substr(value);
    }
    return "unknown";
}

void print_summary(const bench_context& ctx) {
    std::cout << "\n| measured (medians of " << ctx.settings.reps
              << ") | laredo | reference | ratio | goal |\n|---|---|---|---|---|\n";
    for (const auto& l : ctx.summary)
        std::cout << "| " << l.what << " | " << l.laredo << " | " << l.reference << " | " << l.ratio
                  << " | " << l.goal << " |\n";
    std::cout << std::flush;
}

}  // namespace

int main() {
    try {
        const auto settings = bench_settings::from_environment();
        laredo::testing::pg_cluster_options options;
        options.name = "source_bench";
        options.settings = {"shared_buffers = 512MB",
                            "max_wal_size = 16GB",
                            "checkpoint_timeout = 1h",
                            "synchronous_commit = off",
                            "logical_decoding_work_mem = " + settings.decoding_work_mem,
                            "wal_sender_timeout = 60s",
                            "max_wal_senders = 20",
                            "max_replication_slots = " + std::to_string(20 + 3 * settings.reps)};
        std::cerr << "[source_bench] starting the cluster\n";
        laredo::testing::pg_cluster cluster(options);
        cluster.create_database("bench");
        bench_context ctx{cluster, settings};

        const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
        char date[32];
        std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
        metric("date", date);
        metric("host_cpus", std::to_string(std::thread::hardware_concurrency()));
        metric("host_cpu_model", proc_field("/proc/cpuinfo", "model name"));
        metric("host_mem_total", proc_field("/proc/meminfo", "MemTotal"));
        metric("pg_version", ctx.value("SHOW server_version"));
        metric("logical_decoding_work_mem", ctx.value("SHOW logical_decoding_work_mem"));
        metric("rows", std::to_string(settings.rows));
        metric("reps", std::to_string(settings.reps));
        metric("small_txns", std::to_string(settings.small_txns));
        metric("small_rows_per_txn", std::to_string(settings.small_rows_per_txn));
        metric("engine_threads", std::to_string(settings.threads));
        const auto defaults = ctx.source_options(
            "defaults", laredo::sources::postgres::slot_mode::ephemeral, "defaults", true);
        metric("baseline_batch_rows", std::to_string(defaults.baseline_batch_rows));
        metric("change_batch_size", std::to_string(defaults.change_batch_size));
        metric("pipeline_buffer", std::to_string(ctx.pipeline().buffer_size));

        if (settings.runs("baseline")) run_baseline_phase(ctx);
        if (settings.runs("stream")) run_stream_phase(ctx);
        if (settings.runs("latency")) run_latency_phase(ctx);
        print_summary(ctx);
    } catch (const std::exception& e) {
        std::cerr << "source_bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
