// source_bench, part 3: commit-to-target latency. Writer threads commit single-row
// transactions on a fixed schedule (LATENCY_RATE per second, spread over LATENCY_WRITERS
// connections) with synchronous_commit = on (the walsender sends only flushed WAL; with it
// off the WAL writer's delay would dominate). Each row's latency runs from the moment its
// writer's COMMIT returned to the moment the indexed target's listener saw the row.

#include "source_bench.hpp"

#include "source_bench_engine.hpp"
#include "source_bench_support.hpp"
#include "source_bench_targets.hpp"

#include "laredo/targets/memory/indexed_target.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace laredo::bench::postgres {

namespace pg = sources::postgres;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

namespace {

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
        .count();
}

struct writer_result {
    std::string error;
    std::vector<double> late_ms;  // how late each commit started against its schedule
};

// Commits ids first, first + stride, ... up to last, each at start + (id - 1) * period.
void paced_writer(const std::string& conninfo, std::uint64_t first, std::uint64_t stride,
                  std::uint64_t last, clock::time_point start, clock::duration period,
                  std::vector<std::int64_t>& committed_ns, writer_result& out) {
    PGconn* c = PQconnectdb(conninfo.c_str());
    const auto fail = [&](const std::string& what) {
        out.error = what + ": " + PQerrorMessage(c);
        PQfinish(c);
    };
    if (PQstatus(c) != CONNECTION_OK) return fail("writer connect");
    PGresult* r = PQprepare(
        c, "ins", ("INSERT INTO lat " + bench_rows_select("$1::bigint", "$1::bigint")).c_str(), 1,
        nullptr);
    const bool prepared = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!prepared) return fail("writer prepare");
    out.late_ms.reserve((last - first) / stride + 1);
    for (std::uint64_t id = first; id <= last; id += stride) {
        const auto due = start + period * static_cast<std::int64_t>(id - 1);
        std::this_thread::sleep_until(due);
        out.late_ms.push_back(
            std::chrono::duration<double, std::milli>(clock::now() - due).count());
        const std::string text = std::to_string(id);
        const char* values[] = {text.c_str()};
        r = PQexecPrepared(c, "ins", 1, values, nullptr, nullptr, 0);
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) return fail("writer insert " + text);
        committed_ns[id] = now_ns();  // autocommit: COMMIT has returned
    }
    PQfinish(c);
}

}  // namespace

void run_latency_phase(bench_context& ctx) {
    const auto& s = ctx.settings;
    const std::uint64_t total = s.latency_rate * s.latency_seconds;
    ctx.sql("ALTER SYSTEM SET synchronous_commit = on");
    ctx.sql("SELECT pg_reload_conf()");
    ctx.sql("DROP TABLE IF EXISTS lat");
    ctx.sql(bench_table_ddl("lat"));
    metric("latency_synchronous_commit", ctx.value("SHOW synchronous_commit"));

    // Per row id: when its writer saw COMMIT return (steady clock), when the listener saw it
    // in the target (steady and system clock), and its commit record's time (system clock,
    // from the server: the change event's commit_timestamp).
    std::vector<std::int64_t> committed_ns(total + 1, 0);
    std::vector<std::int64_t> shown_ns(total + 1, 0);
    std::vector<std::int64_t> shown_sys_us(total + 1, 0);
    std::vector<std::int64_t> commit_record_us(total + 1, 0);
    std::atomic<std::uint64_t> recorded{0};
    const auto id_of = [total](const row& r) -> std::size_t {
        const auto* id = r[0].get_if<std::int64_t>();
        return id && *id >= 1 && static_cast<std::uint64_t>(*id) <= total
                   ? static_cast<std::size_t>(*id)
                   : 0;
    };
    auto indexed = std::make_shared<targets::memory::indexed_target>();
    // Called on the pipeline's strand once a batch is applied and visible to readers.
    auto subscription = indexed->listen([&](const row*, const row* new_row) {
        if (const auto id = new_row ? id_of(*new_row) : 0) {
            shown_ns[id] = now_ns();
            shown_sys_us[id] = std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        }
    });
    auto target = std::make_shared<measured_target>(indexed, total);
    target->after_changes([&](std::span<const change_event> changes) {
        std::uint64_t n = 0;
        for (const auto& c : changes) {
            const auto id = c.new_values.empty() ? 0 : id_of(c.new_values);
            if (!id || !c.commit_timestamp) continue;
            commit_record_us[id] = std::chrono::duration_cast<std::chrono::microseconds>(
                                       c.commit_timestamp->time_since_epoch())
                                       .count();
            ++n;
        }
        recorded.fetch_add(n, std::memory_order_release);
    });

    engine_host host(ctx.source_options("lat_slot", pg::slot_mode::ephemeral, "lat_pub", true),
                     s.threads);
    host.add_pipeline(table_identifier("public", "lat"), target, ctx.pipeline());
    host.start();
    host.wait_ready(120s);

    std::cerr << "[source_bench] latency: " << total << " transactions at " << s.latency_rate
              << "/s over " << s.latency_writers << " connections\n";
    const auto period = std::chrono::duration_cast<clock::duration>(
        std::chrono::duration<double>(1.0 / static_cast<double>(s.latency_rate)));
    const auto start = clock::now() + 200ms;
    std::vector<writer_result> results(s.latency_writers);
    std::vector<std::thread> writers;
    for (std::uint64_t w = 0; w < s.latency_writers; ++w) {
        writers.emplace_back(paced_writer, ctx.conninfo(), w + 1, s.latency_writers, total, start,
                             period, std::ref(committed_ns), std::ref(results[w]));
    }
    for (auto& t : writers) t.join();
    for (const auto& r : results)
        if (!r.error.empty()) throw std::runtime_error(r.error);
    const auto deadline = clock::now() + 60s;
    while (recorded.load(std::memory_order_acquire) < total && clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    const auto seen = recorded.load(std::memory_order_acquire);
    host.stop();

    std::vector<double> from_client_ms;  // COMMIT returned to the writer -> shown
    std::vector<double> from_record_ms;  // the commit record's time -> shown
    std::uint64_t early = 0;             // shown before the writer saw its COMMIT return
    std::int64_t first_commit = committed_ns[1];
    std::int64_t last_commit = committed_ns[1];
    for (std::uint64_t id = 1; id <= total; ++id) {
        first_commit = std::min(first_commit, committed_ns[id]);
        last_commit = std::max(last_commit, committed_ns[id]);
        if (!shown_ns[id] || !commit_record_us[id]) continue;
        const auto d = shown_ns[id] - committed_ns[id];
        if (d < 0) ++early;
        from_client_ms.push_back(static_cast<double>(std::max<std::int64_t>(d, 0)) / 1e6);
        from_record_ms.push_back(static_cast<double>(shown_sys_us[id] - commit_record_us[id]) /
                                 1e3);
    }
    std::vector<double> late_ms;
    for (const auto& r : results) late_ms.insert(late_ms.end(), r.late_ms.begin(), r.late_ms.end());
    const double commit_rate =
        static_cast<double>(total - 1) / (static_cast<double>(last_commit - first_commit) / 1e9);
    const double p50 = quantile(from_client_ms, 0.50);
    const double p99 = quantile(from_client_ms, 0.99);
    const double record_p50 = quantile(from_record_ms, 0.50);
    const double record_p99 = quantile(from_record_ms, 0.99);
    metric("latency_transactions", std::to_string(total));
    metric("latency_writer_connections", std::to_string(s.latency_writers));
    metric("latency_commits_per_sec_achieved", fixed(commit_rate, 0));
    metric("latency_writer_start_late_p99_ms", fixed(quantile(late_ms, 0.99), 3));
    metric("latency_rows_missing", std::to_string(total - seen));
    metric("latency_rows_shown_before_commit_returned", std::to_string(early));
    metric("latency_p50_ms", fixed(p50, 3));
    metric("latency_p90_ms", fixed(quantile(from_client_ms, 0.90), 3));
    metric("latency_p99_ms", fixed(p99, 3));
    metric("latency_p999_ms", fixed(quantile(from_client_ms, 0.999), 3));
    metric("latency_max_ms", fixed(quantile(from_client_ms, 1.0), 3));
    metric("latency_from_commit_record_p50_ms", fixed(record_p50, 3));
    metric("latency_from_commit_record_p99_ms", fixed(record_p99, 3));
    metric("latency_from_commit_record_max_ms", fixed(quantile(from_record_ms, 1.0), 3));
    metric("latency_goal_met", seen == total && p99 < 10.0 ? "yes" : "no");
    ctx.summary.push_back({"commit-to-target latency, " + fixed(commit_rate, 0) +
                               " tx/s achieved (" + std::to_string(total) +
                               " txns, synchronous_commit=on)",
                           "p50 " + fixed(p50, 2) + " ms, p99 " + fixed(p99, 2) + " ms",
                           "from the commit record's time: p50 " + fixed(record_p50, 2) +
                               " ms, p99 " + fixed(record_p99, 2) + " ms",
                           "", "p99 < 10 ms"});
    if (seen != total)
        throw std::runtime_error(std::to_string(total - seen) + " rows never reached the target");
    ctx.sql("ALTER SYSTEM RESET synchronous_commit");
    ctx.sql("SELECT pg_reload_conf()");
    ctx.sql("DROP TABLE lat");
}

}  // namespace laredo::bench::postgres
