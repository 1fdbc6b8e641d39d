#include "source_test_support.hpp"

#include <boost/asio/use_future.hpp>

#include <libpq-fe.h>

#include <sstream>
#include <stdexcept>

namespace laredo::sources::postgres::testing {

namespace asio = boost::asio;

connection_params superuser_connection() {
    const auto& c = shared_pg_cluster();
    connection_params p;
    p.host = c.host();
    p.port = c.port();
    p.user = "postgres";
    p.dbname = "postgres";
    p.sslmode = "disable";
    p.connect_timeout = 20s;
    return p;
}

source_options options_for(const std::string& slot, slot_mode mode) {
    source_options o;
    o.connection = superuser_connection();
    o.slot_name = slot;
    o.mode = mode;
    o.publication.name = slot + "_pub";
    o.status_interval = 1s;
    o.health_interval = 500ms;
    o.slot_creation_timeout = 20s;
    return o;
}

namespace {

struct pg_conn {
    PGconn* conn;
    explicit pg_conn(const laredo::testing::pg_cluster& cluster)
        : conn(PQconnectdb(cluster.conninfo().c_str())) {
        if (PQstatus(conn) != CONNECTION_OK) {
            const std::string why = PQerrorMessage(conn);
            PQfinish(conn);
            throw std::runtime_error("connect: " + why);
        }
    }
    ~pg_conn() { PQfinish(conn); }
};

}  // namespace

void sql(const std::string& statements) {
    // Without the NOTICEs of DROP ... IF EXISTS in the test log (ALTER SYSTEM must run alone).
    if (statements.rfind("ALTER SYSTEM", 0) == 0) {
        shared_pg_cluster().exec(statements);
    } else {
        shared_pg_cluster().exec("SET client_min_messages = warning; " + statements);
    }
}

sql_rows sql_query(const std::string& query, const laredo::testing::pg_cluster& cluster) {
    pg_conn c(cluster);
    PGresult* r = PQexec(c.conn, query.c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const std::string why = PQresultErrorMessage(r);
        PQclear(r);
        throw std::runtime_error(query + ": " + why);
    }
    sql_rows out;
    const int columns = PQnfields(r);
    for (int c2 = 0; c2 < columns; ++c2) out.types.push_back(PQftype(r, c2));
    for (int i = 0; i < PQntuples(r); ++i) {
        std::vector<std::optional<std::string>> row;
        for (int c2 = 0; c2 < columns; ++c2) {
            if (PQgetisnull(r, i, c2)) {
                row.emplace_back();
            } else {
                row.emplace_back(std::string(PQgetvalue(r, i, c2),
                                             static_cast<std::size_t>(PQgetlength(r, i, c2))));
            }
        }
        out.rows.push_back(std::move(row));
    }
    PQclear(r);
    return out;
}

std::string sql_value(const std::string& query) { return shared_pg_cluster().query_value(query); }

void drop_slot_and_publication(const std::string& slot) {
    sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" +
        slot + "' AND NOT active");
    sql("DROP PUBLICATION IF EXISTS " + slot + "_pub");
}

void counting_observer::on_baseline_started(const std::string&, const table_identifier& table) {
    ++baselines_started;
    std::lock_guard lock(mutex);
    baseline_tables.push_back(table.to_string());
}
void counting_observer::on_baseline_completed(const std::string&, const table_identifier&,
                                              std::uint64_t, duration) {
    ++baselines_completed;
}
void counting_observer::on_rebaseline_triggered(const std::string&, const std::string& reason) {
    std::lock_guard lock(mutex);
    rebaseline_reasons.push_back(reason);
    ++rebaselines;
}
void counting_observer::on_source_disconnected(const std::string&, const std::string& reason) {
    ++disconnects;
    std::lock_guard lock(mutex);
    disconnect_reasons.push_back(reason);
}
void counting_observer::on_schema_change(const std::string&, const table_identifier&,
                                         const std::string&) {
    ++schema_changes;
}
std::vector<std::string> counting_observer::reasons() const {
    std::lock_guard lock(mutex);
    return disconnect_reasons;
}

engine_run::engine_run(source_options options, std::vector<pipeline> pipelines, int threads,
                       engine_options engine_opts)
    : observer_(std::make_shared<counting_observer>()) {
    work_.emplace(ctx_.get_executor());
    source_ = std::make_shared<postgres_source>(ctx_.get_executor(), std::move(options));
    engine_opts.observer = observer_;
    engine_opts.shutdown_timeout = 20s;
    auto b = laredo::engine::builder();
    b.add_source("pg", source_);
    for (auto& p : pipelines) b.add_pipeline("pg", p.table, p.target);
    b.with_options(std::move(engine_opts));
    engine_.emplace(b.build(ctx_.get_executor()));
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { ctx_.run(); });
}

engine_run::~engine_run() {
    try {
        stop();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "engine stop: " << e.what();
    }
    work_.reset();
    for (auto& t : threads_) t.join();
}

void engine_run::start() {
    engine_->async_start(asio::use_future).get();
    started_ = true;
}

bool engine_run::ready(std::chrono::milliseconds timeout) { return engine_->await_ready(timeout); }

void engine_run::stop() {
    if (!started_ || stopped_) return;
    stopped_ = true;
    engine_->async_stop(asio::use_future).get();
}

contents table_contents(const table_identifier& table, const schema_ptr& schema,
                        const laredo::testing::pg_cluster& cluster) {
    std::string columns;
    for (const auto& c : schema->columns())
        columns += (columns.empty() ? "\"" : ", \"") + c.name + "\"";
    const auto result = sql_query(
        "SELECT " + columns + " FROM \"" + table.schema + "\".\"" + table.table + "\"", cluster);
    return rows_contents(schema, result.types, result.rows);
}

void expect_target_matches_table(const indexed_target& target, const table_identifier& table,
                                 std::chrono::milliseconds timeout,
                                 const laredo::testing::pg_cluster& cluster) {
    contents have;
    contents want;
    const bool same = wait_until(
        [&] {
            have = target_contents(target);
            const auto schema = target.schema();
            if (!schema) return false;
            want = table_contents(table, schema, cluster);
            return have == want;
        },
        timeout);
    if (same) return;
    std::ostringstream diff;
    int shown = 0;
    for (const auto& [k, v] : want) {
        const auto it = have.find(k);
        if (it == have.end()) {
            if (shown++ < 5) diff << "\n  missing in target: " << v;
        } else if (it->second != v) {
            if (shown++ < 5)
                diff << "\n  differs: table " << v << "\n           target " << it->second;
        }
    }
    for (const auto& [k, v] : have)
        if (!want.contains(k) && shown++ < 10) diff << "\n  stale in target: " << v;
    ADD_FAILURE() << table.to_string() << ": target has " << have.size() << " rows, table "
                  << want.size() << diff.str();
}

}  // namespace laredo::sources::postgres::testing
