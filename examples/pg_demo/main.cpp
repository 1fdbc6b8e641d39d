// laredo-pg-demo: the main job on a real PostgreSQL, as the README's first command runs it.
//
//   laredo-pg-demo CONNINFO [--rows N] [--seconds S]
//
// It creates a demo schema (demo.accounts with N rows, 1,000,000 by default, and
// demo.transfers), starts the engine with the PostgreSQL source into indexed memory targets,
// shows the baseline's progress, then runs a write workload for S seconds (transfers that
// update two accounts and insert a transfer in one transaction, new accounts, closed accounts)
// while it reads the targets, and finally checks that every target equals its table. Exit
// status 0 when they do.

#include "laredo/engine.hpp"
#include "laredo/sources/postgres/postgres_source.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <fmt/format.h>

#include <libpq-fe.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace laredo;
using namespace std::chrono_literals;
namespace pg = sources::postgres;
using targets::memory::indexed_target;
using clock_type = std::chrono::steady_clock;

const table_identifier accounts{"demo", "accounts"};
const table_identifier transfers{"demo", "transfers"};

std::mutex print_mutex;
template <class... Args>
void say(fmt::format_string<Args...> format, Args&&... args) {
    std::lock_guard lock(print_mutex);
    std::fputs((fmt::format(format, std::forward<Args>(args)...) + "\n").c_str(), stdout);
    std::fflush(stdout);
}

double seconds_since(clock_type::time_point t) {
    return std::chrono::duration<double>(clock_type::now() - t).count();
}

// A blocking libpq connection for set-up, the workload and the final check.
class sql_session {
  public:
    explicit sql_session(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
        if (PQstatus(conn_) != CONNECTION_OK)
            throw std::runtime_error(std::string("cannot connect: ") + PQerrorMessage(conn_));
        exec("SET client_min_messages = warning");
    }
    ~sql_session() { PQfinish(conn_); }
    sql_session(const sql_session&) = delete;
    sql_session& operator=(const sql_session&) = delete;

    void exec(const std::string& sql) {
        PGresult* r = PQexec(conn_, sql.c_str());
        const auto status = PQresultStatus(r);
        const std::string why = PQresultErrorMessage(r);
        PQclear(r);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
            throw std::runtime_error(sql.substr(0, 80) + ": " + why);
    }
    std::string value(const std::string& sql) {
        PGresult* r = PQexec(conn_, sql.c_str());
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            const std::string why = PQresultErrorMessage(r);
            PQclear(r);
            throw std::runtime_error(sql.substr(0, 80) + ": " + why);
        }
        std::string out = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
        PQclear(r);
        return out;
    }

  private:
    PGconn* conn_;
};

// Progress of the baseline and what goes wrong, as the engine reports it.
class demo_observer final : public engine_observer {
  public:
    void on_source_connected(const std::string& id, const std::string& type) override {
        say("source {} connected ({})", id, type);
    }
    void on_source_disconnected(const std::string& id, const std::string& reason) override {
        say("source {}: {}", id, reason);
    }
    void on_baseline_estimate(const std::string&, const table_identifier& table,
                              std::uint64_t rows) override {
        say("baseline of {}: about {} rows", table.to_string(), rows);
        if (table == accounts) estimate_ = rows;
    }
    void on_baseline_row_loaded(const std::string&, const table_identifier& table,
                                std::uint64_t rows) override {
        if (table != accounts || estimate_ == 0) return;
        const auto tenth = rows * 10 / estimate_;
        if (tenth > shown_ && tenth <= 10) {
            shown_ = tenth;
            say("  {:>3}%  {} rows", tenth * 10, rows);
        }
    }
    void on_baseline_completed(const std::string&, const table_identifier& table,
                               std::uint64_t rows, duration elapsed) override {
        const double s = std::chrono::duration<double>(elapsed).count();
        say("baseline of {} done: {} rows in {:.2f} s ({:.0f} rows/s)", table.to_string(), rows, s,
            s > 0 ? rows / s : 0.0);
    }
    void on_change_error(const std::string& pipeline, const table_identifier&, change_action,
                         const std::string& message) override {
        say("pipeline {}: {}", pipeline, message);
    }

  private:
    std::atomic<std::uint64_t> estimate_{0};
    std::atomic<std::uint64_t> shown_{0};
};

// "123.45" -> 12345 (the demo's amounts have two decimals).
std::int64_t cents(std::string_view text) {
    std::int64_t whole = 0;
    std::int64_t frac = 0;
    const bool negative = !text.empty() && text.front() == '-';
    if (negative) text.remove_prefix(1);
    const auto dot = text.find('.');
    std::from_chars(text.data(), text.data() + std::min(dot, text.size()), whole);
    if (dot != std::string_view::npos) {
        auto f = text.substr(dot + 1, 2);
        std::from_chars(f.data(), f.data() + f.size(), frac);
        if (f.size() == 1) frac *= 10;
    }
    return (negative ? -1 : 1) * (whole * 100 + frac);
}

struct totals {
    std::uint64_t rows = 0;
    std::int64_t sum_cents = 0;
    friend bool operator==(const totals&, const totals&) = default;
};

totals target_totals(const indexed_target& target, const char* amount_column) {
    totals t;
    target.for_each([&](const row& r) {
        ++t.rows;
        if (const auto* v = r.find(amount_column); v && !v->is_null())
            t.sum_cents += cents(v->to_string());
    });
    return t;
}

totals table_totals(sql_session& db, const std::string& table, const char* amount_column) {
    totals t;
    t.rows = std::stoull(db.value("SELECT count(*) FROM " + table));
    t.sum_cents =
        cents(db.value(fmt::format("SELECT coalesce(sum({}), 0) FROM {}", amount_column, table)));
    return t;
}

struct arguments {
    std::string conninfo;
    long rows = 1'000'000;
    int seconds = 10;
};

arguments parse(int argc, char** argv) {
    arguments a;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "--rows" || arg == "--seconds") && i + 1 < argc) {
            if (arg == "--rows") {
                a.rows = std::stol(argv[++i]);
            } else {
                a.seconds = std::stoi(argv[++i]);
            }
        } else if (a.conninfo.empty() && arg.rfind("--", 0) != 0) {
            a.conninfo = arg;
        } else {
            throw std::invalid_argument("unknown argument " + arg);
        }
    }
    if (a.conninfo.empty() || a.rows < 10 || a.seconds < 1)
        throw std::invalid_argument(
            "usage: laredo-pg-demo CONNINFO [--rows N>=10] [--seconds S>=1]");
    return a;
}

void create_schema(sql_session& db, long rows) {
    const auto started = clock_type::now();
    db.exec("DROP SCHEMA IF EXISTS demo CASCADE");
    db.exec("CREATE SCHEMA demo");
    db.exec(
        "CREATE TABLE demo.accounts (id bigint PRIMARY KEY, owner text NOT NULL, balance "
        "numeric(14,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())");
    db.exec(
        "CREATE TABLE demo.transfers (id bigserial PRIMARY KEY, from_id bigint NOT NULL, "
        "to_id bigint NOT NULL, amount numeric(14,2) NOT NULL, at timestamptz NOT NULL "
        "DEFAULT now())");
    db.exec(
        fmt::format("INSERT INTO demo.accounts (id, owner, balance) SELECT g, 'owner-' || "
                    "(g % 1000), 1000.00 FROM generate_series(1, {}) g",
                    rows));
    db.exec("ANALYZE demo.accounts");
    say("created demo.accounts ({} rows) and demo.transfers in {:.1f} s", rows,
        seconds_since(started));
}

// Transfers (two accounts and a transfer in one transaction), new and closed accounts.
void run_workload(const std::string& conninfo, long rows, int seconds,
                  std::atomic<long>& transactions) {
    sql_session db(conninfo);
    std::mt19937_64 random(42);
    std::uniform_int_distribution<long> account(1, rows);
    std::uniform_int_distribution<int> amount(1, 5000);
    const auto end = clock_type::now() + std::chrono::seconds(seconds);
    long next_id = rows + 1;
    for (long i = 0; clock_type::now() < end; ++i) {
        const auto from = account(random);
        const auto to = account(random);
        const auto value = fmt::format("{}.{:02}", amount(random) / 100, amount(random) % 100);
        std::string tx = fmt::format(
            "BEGIN; UPDATE demo.accounts SET balance = balance - {0}, updated_at = now() WHERE "
            "id = {1}; UPDATE demo.accounts SET balance = balance + {0}, updated_at = now() WHERE "
            "id = {2}; INSERT INTO demo.transfers (from_id, to_id, amount) VALUES ({1}, {2}, "
            "{0}); ",
            value, from, to);
        if (i % 20 == 0)
            tx += fmt::format(
                "INSERT INTO demo.accounts (id, owner, balance) VALUES ({}, 'new', "
                "50.00); ",
                next_id++);
        if (i % 50 == 25) tx += fmt::format("DELETE FROM demo.accounts WHERE id = {}; ", to);
        db.exec(tx + "COMMIT");
        ++transactions;
        std::this_thread::sleep_for(2ms);
    }
}

}  // namespace

int main(int argc, char** argv) {
    arguments args;
    try {
        args = parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }
    try {
        sql_session db(args.conninfo);
        create_schema(db, args.rows);

        boost::asio::io_context ctx;
        pg::source_options options;
        options.connection = pg::connection_params::from_conninfo(args.conninfo);
        options.slot_name = "laredo_demo";
        auto source = std::make_shared<pg::postgres_source>(ctx.get_executor(), options);
        targets::memory::indexed_target_options by_owner;
        by_owner.indexes = {{.name = "by_owner", .fields = {"owner"}}};
        auto account_target = std::make_shared<indexed_target>(by_owner);
        auto transfer_target = std::make_shared<indexed_target>();
        engine_options engine_opts;
        engine_opts.observer = std::make_shared<demo_observer>();
        auto engine = engine::builder()
                          .add_source("pg", source)
                          .add_pipeline("pg", accounts, account_target)
                          .add_pipeline("pg", transfers, transfer_target)
                          .with_options(engine_opts)
                          .build(ctx.get_executor());

        std::vector<std::thread> threads;
        auto work = boost::asio::make_work_guard(ctx);
        for (int i = 0; i < 2; ++i) threads.emplace_back([&] { ctx.run(); });

        const auto started = clock_type::now();
        engine.async_start(boost::asio::use_future).get();
        if (!engine.await_ready(300s)) throw std::runtime_error("the engine did not become ready");
        say("ready after {:.1f} s: {} accounts in memory", seconds_since(started),
            account_target->count());

        say("writing for {} s: transfers between accounts (two updates and an insert in one "
            "transaction), new and closed accounts",
            args.seconds);
        std::atomic<long> transactions{0};
        std::thread writer(
            [&] { run_workload(args.conninfo, args.rows, args.seconds, transactions); });
        const auto workload_started = clock_type::now();
        while (seconds_since(workload_started) < args.seconds) {
            std::this_thread::sleep_for(std::chrono::seconds(std::min(2, args.seconds)));
            const auto a1 = account_target->get(std::int64_t{1});
            const auto lag = source->lag();
            say("  {:>5} transactions written | in memory: {} accounts, {} transfers, account 1 "
                "balance {} | lag {} bytes",
                transactions.load(), account_target->count(), transfer_target->count(),
                a1 ? a1->at("balance").to_string() : "(closed)", lag.lag_bytes.value_or(0));
        }
        writer.join();
        say("owners named owner-7 in memory (secondary index): {}",
            account_target->lookup_index("by_owner", {value("owner-7")}).size());

        // Quiet now: the targets must equal the tables.
        bool in_sync = false;
        totals want_accounts;
        totals want_transfers;
        const auto check_started = clock_type::now();
        while (!in_sync && seconds_since(check_started) < 60) {
            want_accounts = table_totals(db, "demo.accounts", "balance");
            want_transfers = table_totals(db, "demo.transfers", "amount");
            in_sync = target_totals(*account_target, "balance") == want_accounts &&
                      target_totals(*transfer_target, "amount") == want_transfers;
            if (!in_sync) std::this_thread::sleep_for(200ms);
        }
        if (in_sync) {
            say("in sync: accounts {} rows (balances {}.{:02}), transfers {} rows ({}.{:02}) in "
                "memory and in PostgreSQL",
                want_accounts.rows, want_accounts.sum_cents / 100, want_accounts.sum_cents % 100,
                want_transfers.rows, want_transfers.sum_cents / 100,
                want_transfers.sum_cents % 100);
        } else {
            say("NOT in sync after 60 s");
        }
        engine.async_stop(boost::asio::use_future).get();
        say("stopped");
        work.reset();
        for (auto& t : threads) t.join();
        return in_sync ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "laredo-pg-demo: %s\n", e.what());
        return 1;
    }
}
