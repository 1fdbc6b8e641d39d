// copy_bench: bare COPY ... TO STDOUT through laredo's async connection next to a raw,
// synchronous libpq COPY (the fastest a plain C client reads the table), on the same cluster in
// the same run, interleaved. The goal is 95 % of the raw rate or more.
//
// It starts the test cluster (tests/common/pg_cluster.hpp), loads ROWS rows of the benchmark
// row shape (bench/memory/bench_rows.hpp: id bigint PK, name text, value float8, payload text
// of 100 bytes, updated_at timestamptz), warms the cache, then runs REPS rounds of both
// clients, alternating which goes first. Both count rows by newlines; only the COPY is timed
// (connecting is not). Output: "metric: value" lines, like source_bench.
//
//   copy_bench [ROWS [REPS]]        (environment ROWS / REPS work too; 1000000 / 5)
//
// CONNINFO=<libpq conninfo> uses an existing database that already has table t of that shape
// instead (e.g. CONNINFO="host=127.0.0.1 port=55432 user=postgres dbname=bench"); ROWS is then
// read from the table.

#include "pg_cluster.hpp"

#include "laredo/sources/postgres/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <libpq-fe.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace pg = laredo::sources::postgres;

// The session settings laredo's connection applies, given to the raw client as well so both
// receive byte-identical text.
constexpr const char* session_options =
    "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 "
    "-c bytea_output=hex";
constexpr const char* copy_sql = "COPY (SELECT * FROM t) TO STDOUT";

struct run_result {
    double seconds = 0;
    double cpu_seconds = 0;  // this process: user + system
    std::uint64_t rows = 0;
    std::uint64_t bytes = 0;
};

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double cpu_s() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::uint64_t count_newlines(const char* p, std::size_t n) {
    return static_cast<std::uint64_t>(std::count(p, p + n, '\n'));
}

// The raw client: blocking libpq, one PQgetCopyData per row.
run_result raw_libpq_copy(const std::string& conninfo) {
    PGconn* c = PQconnectdb(conninfo.c_str());
    if (PQstatus(c) != CONNECTION_OK)
        throw std::runtime_error(std::string("raw connect: ") + PQerrorMessage(c));
    run_result r;
    const double t0 = now_s();
    const double c0 = cpu_s();
    PGresult* res = PQexec(c, copy_sql);
    if (PQresultStatus(res) != PGRES_COPY_OUT)
        throw std::runtime_error(std::string("raw COPY start: ") + PQerrorMessage(c));
    PQclear(res);
    char* buf = nullptr;
    int n = 0;
    while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
        r.bytes += static_cast<std::uint64_t>(n);
        r.rows += count_newlines(buf, static_cast<std::size_t>(n));
        PQfreemem(buf);
    }
    if (n == -2) throw std::runtime_error(std::string("raw COPY read: ") + PQerrorMessage(c));
    res = PQgetResult(c);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        throw std::runtime_error(std::string("raw COPY end: ") + PQerrorMessage(c));
    PQclear(res);
    r.seconds = now_s() - t0;
    r.cpu_seconds = cpu_s() - c0;
    PQfinish(c);
    return r;
}

// laredo: connection::copy_out on an io_context, the handler counting newlines per chunk.
run_result laredo_copy(const pg::connection_params& params) {
    asio::io_context ctx;
    run_result r;
    std::exception_ptr failure;
    auto body = [&]() -> asio::awaitable<void> {
        pg::connection c(ctx.get_executor());
        co_await c.connect(params);
        pg::connection::chunk_handler handler =
            [&r](pg::copy_chunk chunk) -> asio::awaitable<void> {
            r.bytes += chunk.data.size();
            r.rows += count_newlines(chunk.data.data(), chunk.data.size());
            co_return;
        };
        const double t0 = now_s();
        const double c0 = cpu_s();
        co_await c.copy_out(copy_sql, handler);
        r.seconds = now_s() - t0;
        r.cpu_seconds = cpu_s() - c0;
    };
    asio::co_spawn(ctx, body(), [&failure](std::exception_ptr e) { failure = e; });
    ctx.run();
    if (failure) std::rethrow_exception(failure);
    return r;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void metric(const std::string& key, const std::string& value) {
    std::cout << key << ": " << value << "\n";
}

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

void report(const std::string& prefix, const std::vector<run_result>& runs, std::uint64_t rows) {
    std::vector<double> secs;
    std::vector<double> cpu_pct;
    for (const auto& r : runs) {
        secs.push_back(r.seconds);
        cpu_pct.push_back(r.seconds > 0 ? r.cpu_seconds / r.seconds * 100 : 0);
    }
    const double best = *std::min_element(secs.begin(), secs.end());
    const double med = median(secs);
    const double mib = static_cast<double>(runs.front().bytes) / 1048576.0;
    metric(prefix + "_seconds_best", fixed(best, 3));
    metric(prefix + "_seconds_median", fixed(med, 3));
    metric(prefix + "_rows_per_sec_best", fixed(static_cast<double>(rows) / best, 0));
    metric(prefix + "_rows_per_sec_median", fixed(static_cast<double>(rows) / med, 0));
    metric(prefix + "_mib_per_sec_best", fixed(mib / best, 1));
    metric(prefix + "_mib_per_sec_median", fixed(mib / med, 1));
    metric(prefix + "_client_cpu_pct_median", fixed(median(cpu_pct), 0));
    metric(prefix + "_bytes", std::to_string(runs.front().bytes));
}

std::uint64_t arg_or_env(int argc, char** argv, int index, const char* env, std::uint64_t dflt) {
    if (argc > index) return std::strtoull(argv[index], nullptr, 10);
    if (const char* v = std::getenv(env)) return std::strtoull(v, nullptr, 10);
    return dflt;
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t rows = arg_or_env(argc, argv, 1, "ROWS", 1000000);
    const std::uint64_t reps = std::max<std::uint64_t>(1, arg_or_env(argc, argv, 2, "REPS", 5));
    try {
        std::unique_ptr<laredo::testing::pg_cluster> cluster;
        std::string base_conninfo;
        if (const char* given = std::getenv("CONNINFO"); given && *given) {
            base_conninfo = given;
        } else {
            laredo::testing::pg_cluster_options options;
            options.name = "copy_bench";
            // source_bench's settings (they speed up loading, not the COPY itself).
            options.settings = {"shared_buffers = 512MB", "max_wal_size = 16GB",
                                "checkpoint_timeout = 1h", "synchronous_commit = off"};
            std::cerr << "[copy_bench] starting the cluster\n";
            cluster = std::make_unique<laredo::testing::pg_cluster>(options);
            cluster->create_database("bench");
            std::cerr << "[copy_bench] loading " << rows << " rows\n";
            cluster->exec(
                "CREATE TABLE t (id bigint PRIMARY KEY, name text NOT NULL, value double "
                "precision, payload text, updated_at timestamptz NOT NULL)",
                "bench");
            cluster->exec(
                "INSERT INTO t SELECT g, 'name-' || g, g * 1.25, rpad(md5(g::text), 100, "
                "md5((g + 7)::text)), now() - g * interval '1 second' FROM "
                "generate_series(1, " +
                    std::to_string(rows) + ") g",
                "bench");
            cluster->exec("VACUUM (ANALYZE) t", "bench");
            base_conninfo = "host=" + cluster->host() + " port=" + std::to_string(cluster->port()) +
                            " user=postgres dbname=bench sslmode=disable";
        }
        const auto params = pg::connection_params::from_conninfo(base_conninfo);
        const std::string conninfo =
            base_conninfo + " client_encoding=UTF8 options='" + session_options + "'";
        auto scalar = [&conninfo](const char* sql) {
            PGconn* c = PQconnectdb(conninfo.c_str());
            PGresult* r = PQexec(c, sql);
            std::string out = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0
                                  ? PQgetvalue(r, 0, 0)
                                  : std::string(PQerrorMessage(c));
            PQclear(r);
            PQfinish(c);
            return out;
        };
        if (!cluster) rows = std::strtoull(scalar("SELECT count(*) FROM t").c_str(), nullptr, 10);

        metric("pg_version", scalar("SHOW server_version"));
        metric("rows", std::to_string(rows));
        metric("reps", std::to_string(reps));
        metric("table_t_bytes", scalar("SELECT pg_table_size('t')"));

        std::cerr << "[copy_bench] warming up\n";
        raw_libpq_copy(conninfo);
        laredo_copy(params);

        std::vector<run_result> raw;
        std::vector<run_result> ours;
        for (std::uint64_t i = 0; i < reps; ++i) {
            // Alternate the order so neither always runs on a cache the other just warmed.
            if (i % 2 == 0) {
                raw.push_back(raw_libpq_copy(conninfo));
                ours.push_back(laredo_copy(params));
            } else {
                ours.push_back(laredo_copy(params));
                raw.push_back(raw_libpq_copy(conninfo));
            }
            std::cerr << "[copy_bench] rep " << i + 1 << ": libpq " << fixed(raw.back().seconds, 3)
                      << " s, laredo " << fixed(ours.back().seconds, 3) << " s\n";
            if (raw.back().rows != rows || ours.back().rows != rows)
                throw std::runtime_error(
                    "row count mismatch: libpq " + std::to_string(raw.back().rows) + ", laredo " +
                    std::to_string(ours.back().rows) + ", expected " + std::to_string(rows));
            if (raw.back().bytes != ours.back().bytes)
                throw std::runtime_error("byte count mismatch between the two clients");
        }
        report("libpq_copy", raw, rows);
        report("laredo_copy", ours, rows);
        std::vector<double> raw_s;
        std::vector<double> our_s;
        for (const auto& r : raw) raw_s.push_back(r.seconds);
        for (const auto& r : ours) our_s.push_back(r.seconds);
        // rows/s ratio = inverse ratio of times
        const double ratio_median = median(raw_s) / median(our_s);
        const double ratio_best = *std::min_element(raw_s.begin(), raw_s.end()) /
                                  *std::min_element(our_s.begin(), our_s.end());
        metric("laredo_vs_libpq_rows_per_sec_ratio_median", fixed(ratio_median, 3));
        metric("laredo_vs_libpq_rows_per_sec_ratio_best", fixed(ratio_best, 3));
        metric("goal_ratio", "0.95");
        metric("goal_met", ratio_median >= 0.95 ? "yes" : "no");
    } catch (const std::exception& e) {
        std::cerr << "copy_bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
