#pragma once

// Shared pieces of the PostgreSQL source's integration tests: options for the harness cluster,
// blocking SQL, an engine running on its own threads, and the full comparison of a target with
// its table.

#include "contents.hpp"
#include "pg_cluster_environment.hpp"

#include "laredo/engine.hpp"
#include "laredo/sources/postgres/connection_params.hpp"
#include "laredo/sources/postgres/postgres_source.hpp"
#include "laredo/targets/memory/indexed_target.hpp"
#include "laredo/testing/async.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace laredo::sources::postgres::testing {

using namespace std::chrono_literals;
using laredo::targets::memory::indexed_target;
using laredo::testing::shared_pg_cluster;

// The superuser over plain TCP.
connection_params superuser_connection();

// Options for a source named after its slot (the publication is `<slot>_pub`), with short
// status and health intervals.
source_options options_for(const std::string& slot, slot_mode mode = slot_mode::ephemeral);

// Runs SQL as the superuser (blocking); throws std::runtime_error with the server's message.
void sql(const std::string& statements);
// Every row of a query, each field as text (std::nullopt for NULL), with the column type OIDs.
struct sql_rows {
    std::vector<std::uint32_t> types;
    std::vector<std::vector<std::optional<std::string>>> rows;
};
sql_rows sql_query(const std::string& query,
                   const laredo::testing::pg_cluster& cluster = shared_pg_cluster());
std::string sql_value(const std::string& query);

// Drops the slot (if any) and the publication (if any) of a test, so reruns start clean.
void drop_slot_and_publication(const std::string& slot);

// Waits (polling, blocking the thread) until a condition holds; returns whether it did.
using laredo::testing::wait_until;

// An observer that counts what the tests look at.
struct counting_observer : engine_observer {
    std::atomic<int> baselines_started{0};
    std::atomic<int> baselines_completed{0};
    std::atomic<int> rebaselines{0};
    std::atomic<int> disconnects{0};
    std::atomic<int> schema_changes{0};
    std::atomic<std::int64_t> estimated_rows{-1};
    mutable std::mutex mutex;
    std::vector<std::string> disconnect_reasons;
    std::vector<std::string> rebaseline_reasons;
    std::vector<std::string> baseline_tables;

    void on_baseline_started(const std::string&, const table_identifier& table) override;
    void on_baseline_completed(const std::string&, const table_identifier&, std::uint64_t,
                               duration) override;
    void on_rebaseline_triggered(const std::string&, const std::string&) override;
    void on_baseline_estimate(const std::string&, const table_identifier&,
                              std::uint64_t rows) override {
        estimated_rows = static_cast<std::int64_t>(rows);
    }
    void on_source_disconnected(const std::string&, const std::string& reason) override;
    void on_schema_change(const std::string&, const table_identifier&, const std::string&) override;
    std::vector<std::string> reasons() const;
};

// One engine with one PostgreSQL source, on an io_context run by `threads` threads.
class engine_run {
  public:
    struct pipeline {
        table_identifier table;
        std::shared_ptr<sync_target> target;
    };
    engine_run(source_options options, std::vector<pipeline> pipelines, int threads = 2,
               engine_options engine_opts = {});
    ~engine_run();

    void start();
    // Waits for every pipeline to stream; false on timeout.
    bool ready(std::chrono::milliseconds timeout = 60s);
    void stop();

    laredo::engine& engine() { return *engine_; }
    const std::shared_ptr<postgres_source>& source() const { return source_; }
    const std::shared_ptr<counting_observer>& observer() const { return observer_; }
    boost::asio::io_context& context() { return ctx_; }

  private:
    boost::asio::io_context ctx_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::vector<std::thread> threads_;
    std::shared_ptr<counting_observer> observer_;
    std::shared_ptr<postgres_source> source_;
    std::optional<laredo::engine> engine_;
    bool started_ = false;
    bool stopped_ = false;
};

// The rows of a table now, in `schema`'s columns (contents.hpp).
contents table_contents(const table_identifier& table, const schema_ptr& schema,
                        const laredo::testing::pg_cluster& cluster = shared_pg_cluster());

// Waits until the target equals its table in `cluster` (compares full contents); on timeout,
// fails with the first differences.
void expect_target_matches_table(const indexed_target& target, const table_identifier& table,
                                 std::chrono::milliseconds timeout = 30s,
                                 const laredo::testing::pg_cluster& cluster = shared_pg_cluster());

}  // namespace laredo::sources::postgres::testing
