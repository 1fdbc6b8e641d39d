#pragma once

// What the three parts of source_bench share: the knobs, the cluster, the benchmark row shape
// (bench/memory/bench_rows.hpp, here in SQL), and the summary table printed at the end.

#include "pg_cluster.hpp"

#include "laredo/sources/postgres/source_options.hpp"

#include "laredo/pipeline_options.hpp"
#include "laredo/sync_target.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace laredo::bench::postgres {

struct bench_settings {
    std::uint64_t rows = 1'000'000;  // baseline table and the one large transaction
    std::uint64_t reps = 3;
    std::uint64_t small_txns = 100'000;
    std::uint64_t small_rows_per_txn = 10;
    int threads = 2;                     // io_context threads of each engine
    std::uint64_t latency_rate = 5'000;  // transactions per second
    std::uint64_t latency_seconds = 10;
    std::uint64_t latency_writers = 8;  // connections the paced writer spreads commits over
    std::string decoding_work_mem = "64MB";
    // Tuning of the source and the pipeline; 0 keeps the library's default.
    std::uint64_t baseline_batch_rows = 0;
    std::uint64_t change_batch_size = 0;
    std::uint64_t pipeline_buffer = 0;
    std::string phases = "baseline,stream,latency";

    // From the environment (see source_bench.cpp); throws std::runtime_error for bad values.
    static bench_settings from_environment();
    bool runs(const std::string& phase) const;
};

// One line of the summary table.
struct summary_line {
    std::string what;
    std::string laredo;
    std::string reference;
    std::string ratio;
    std::string goal;
};

struct bench_context {
    const laredo::testing::pg_cluster& cluster;
    bench_settings settings;
    std::string dbname = "bench";
    std::vector<summary_line> summary;

    // libpq conninfo of the superuser in the bench database, with laredo's session settings.
    std::string conninfo() const;
    // The pipeline's options (PIPELINE_BUFFER).
    pipeline_options pipeline() const;
    // The same for a postgres_source: `slot` in `mode`, reading `publication` (created and kept
    // by laredo when `create`).
    sources::postgres::source_options source_options(const std::string& slot,
                                                     sources::postgres::slot_mode mode,
                                                     const std::string& publication,
                                                     bool create) const;
    void sql(const std::string& statements) const;
    std::string value(const std::string& query) const;
    // Drops a slot, waiting (up to 30 s) for a walsender that still holds it to exit.
    void drop_slot(const std::string& slot) const;
};

// The benchmark row shape: (id bigint PK, name text, value float8, payload text
// of 100 bytes, updated_at timestamptz); and the SELECT that makes its rows first..last (SQL
// expressions).
std::string bench_table_ddl(const std::string& name);
std::string bench_rows_select(const std::string& first, const std::string& last);

// The target a run measures with: the indexed memory target, or one that applies nothing.
std::shared_ptr<sync_target> make_target(bool indexed);
// Throws std::runtime_error when a target that keeps rows does not hold `rows` of `table`.
void expect_rows(const sync_target& target, const table_identifier& table, std::uint64_t rows);

void run_baseline_phase(bench_context& ctx);
void run_stream_phase(bench_context& ctx);
void run_latency_phase(bench_context& ctx);

}  // namespace laredo::bench::postgres
