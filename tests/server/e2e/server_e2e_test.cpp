// laredo-server end to end: the real binary, started from a TOML file against the harness
// PostgreSQL, driven only over HTTP and WebSocket. One server serves every test of the
// `server_e2e` suite (started once); the last test stops it with SIGTERM.

#include "client.hpp"

#include "laredo/json/values.hpp"
#include "pg_cluster_environment.hpp"
#include "temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

namespace laredo::server::testing {
namespace {

using namespace std::chrono_literals;
using laredo::testing::shared_pg_cluster;
using ::testing::HasSubstr;
namespace json = boost::json;

constexpr const char* admin_token = "e2e-admin-token";
constexpr const char* read_token = "e2e-read-token";

void sql(const std::string& statements) { shared_pg_cluster().exec(statements); }
std::string sql_value(const std::string& q) { return shared_pg_cluster().query_value(q); }

std::string config_text() {
    auto& pg = shared_pg_cluster();
    return R"(
[sources.pg]
type = "postgres"
connection = "host=127.0.0.1 port=)" +
           std::to_string(pg.port()) + R"( user=postgres dbname=postgres"
slot_name = "e2e_slot"
status_interval = "1s"
health_interval = "500ms"

[[tables]]
source = "pg"
schema = "public"
table = "users"
[[tables.targets]]
type = "indexed-memory"
lookup_fields = ["email"]
additional_indexes = [{ name = "by_city", fields = ["city"] }]

[[tables]]
source = "pg"
schema = "public"
table = "orders"
[[tables.targets]]
type = "indexed-memory"
[[tables.targets]]
type = "compiled-memory"
compiler = "json"
fields = ["a", "b", "qty"]

[api]
port = 0
admin_tokens = [")" +
           std::string(admin_token) + R"("]
read_tokens_env = "E2E_READ_TOKEN"
websocket_queue_size = "4MiB"
[api.limits]
max_body_size = "64KiB"
idle_timeout = "2s"
request_timeout = "5s"

[health]
http_port = 0

[server]
threads = 2
drain_grace = "1s"

[observability.logging]
format = "json"
level = "info"
)";
}

class server_e2e : public ::testing::Test {
  public:
    static void SetUpTestSuite() {
        sql("DROP TABLE IF EXISTS users, orders;"
            "CREATE TABLE users (id bigint PRIMARY KEY, name text, email text, city text);"
            "CREATE TABLE orders (a int, b text, qty int, PRIMARY KEY (a, b));"
            "INSERT INTO users SELECT g, 'user' || g, 'u' || g || '@example.com', "
            "  CASE WHEN g % 2 = 0 THEN 'berlin' ELSE 'oslo' END FROM generate_series(1, 20) g;"
            "INSERT INTO orders VALUES (1, 'x', 5), (1, 'y', 6), (2, 'x', 7);");
        dir_ = new laredo::testing::temp_dir("laredo-e2e");
        const auto file = dir_->path() / "laredo.toml";
        std::ofstream(file) << config_text();
        process_ = new server_process(
            {"--config", file.string(), "--conf-dir", (dir_->path() / "conf.d").string()},
            dir_->path(), {{"E2E_READ_TOKEN", read_token}});
        api_ = process_->port_of("api");
        health_ = process_->port_of("health");
        const bool ready =
            eventually([] { return get_health("/health/ready").status == 200; }, 60s);
        ASSERT_TRUE(ready) << process_->log();
    }
    static void TearDownTestSuite() {
        delete process_;
        process_ = nullptr;
        delete dir_;
        dir_ = nullptr;
    }

  protected:
    static http_result get(const std::string& target, const std::string& token = read_token) {
        return http_request(api_, "GET", target, token);
    }
    static http_result post(const std::string& target, const std::string& body = {},
                            const std::string& token = admin_token) {
        return http_request(api_, "POST", target, token, body);
    }
    static http_result get_health(const std::string& target) {
        return http_request(health_, "GET", target);
    }
    // The row of `table` with this key, or nullopt on 404.
    static std::optional<json::object> row(const std::string& table, const std::string& key) {
        const auto r = get("/v1/tables/" + table + "/rows/" + key);
        if (r.status == 404) return std::nullopt;
        EXPECT_EQ(r.status, 200u) << r.body;
        return r.json().as_object().at("row").as_object();
    }

    static inline laredo::testing::temp_dir* dir_ = nullptr;
    static inline server_process* process_ = nullptr;
    static inline std::uint16_t api_ = 0;
    static inline std::uint16_t health_ = 0;
};

TEST_F(server_e2e, health_endpoints_answer) {
    EXPECT_EQ(get_health("/health/live").status, 200u);
    EXPECT_EQ(get_health("/health/startup").status, 200u);
    const auto ready = get_health("/health/ready");
    EXPECT_EQ(ready.status, 200u);
    EXPECT_EQ(ready.json().at("sources").at("pg"), true);
    EXPECT_EQ(get_health("/health/ready?source=pg").status, 200u);
    EXPECT_EQ(get_health("/health/ready?source=nope").status, 404u);
    // Health is on its own listener: the API port does not serve it, nor /v1 on health's.
    EXPECT_EQ(http_request(api_, "GET", "/health/live").status, 404u);
    EXPECT_EQ(http_request(health_, "GET", "/v1/status", read_token).status, 404u);
}

TEST_F(server_e2e, status_shows_sources_and_pipelines) {
    const auto r = get("/v1/status");
    ASSERT_EQ(r.status, 200u) << r.body;
    const auto s = r.json().as_object();
    EXPECT_EQ(s.at("state"), "STREAMING");
    EXPECT_EQ(s.at("ready"), true);
    ASSERT_EQ(s.at("pipelines").as_array().size(), 3u);
    std::set<std::string> ids;
    for (const auto& p : s.at("pipelines").as_array()) {
        ids.insert(std::string(p.at("id").as_string()));
        EXPECT_EQ(p.at("state"), "STREAMING");
        // Positions are strings in the source's form.
        EXPECT_TRUE(p.at("applied_position").is_string()) << json::serialize(p);
        EXPECT_TRUE(p.at("baseline").at("done").as_bool());
    }
    EXPECT_TRUE(ids.count("pg:public.users:memory.indexed"));
    EXPECT_TRUE(ids.count("pg:public.orders:memory.compiled"));
    const auto& src = s.at("sources").as_array().at(0);
    EXPECT_EQ(src.at("id"), "pg");
    EXPECT_EQ(src.at("type"), "postgres");
    EXPECT_EQ(src.at("slot").at("name"), "e2e_slot");
}

TEST_F(server_e2e, query_results_follow_inserts_updates_and_deletes) {
    ASSERT_TRUE(row("public.users", "3"));
    EXPECT_EQ(row("public.users", "3")->at("email"), "u3@example.com");
    sql("INSERT INTO users VALUES (1000, 'new', 'new@example.com', 'rome')");
    ASSERT_TRUE(eventually([] { return row("public.users", "1000").has_value(); }));
    EXPECT_EQ(row("public.users", "1000")->at("city"), "rome");
    sql("UPDATE users SET city = 'paris' WHERE id = 1000");
    ASSERT_TRUE(eventually([] { return row("public.users", "1000")->at("city") == "paris"; }));
    sql("DELETE FROM users WHERE id = 1000");
    ASSERT_TRUE(eventually([] { return !row("public.users", "1000").has_value(); }));
    const auto count = get("/v1/tables/public.users/count").json();
    EXPECT_EQ(std::to_string(count.at("count").to_number<std::int64_t>()),
              sql_value("SELECT count(*) FROM users"));
}

TEST_F(server_e2e, composite_keys_lookups_and_indexes) {
    const auto r = get("/v1/tables/public.orders/rows/1/y");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.json().at("row").at("qty"), 6);
    // The compiled target keeps its own JSON of the configured fields.
    const auto c =
        get("/v1/tables/public.orders/rows/2/x?pipeline=pg:public.orders:memory.compiled");
    ASSERT_EQ(c.status, 200u) << c.body;
    EXPECT_EQ(c.json().at("row").at("qty"), 7);
    EXPECT_EQ(get("/v1/tables/public.orders/rows/1").status, 400u);  // one of two key values
    const auto l = get("/v1/tables/public.users/lookup/u4@example.com");
    ASSERT_EQ(l.status, 200u) << l.body;
    ASSERT_EQ(l.json().at("rows").as_array().size(), 1u);
    EXPECT_EQ(l.json().at("rows").at(0).at("id"), 4);
    const auto i = get("/v1/tables/public.users/indexes/by_city/oslo");
    ASSERT_EQ(i.status, 200u) << i.body;
    EXPECT_EQ(std::to_string(i.json().at("rows").as_array().size()),
              sql_value("SELECT count(*) FROM users WHERE city = 'oslo'"));
    EXPECT_EQ(get("/v1/tables/public.users/indexes/nope/x").status, 404u);
}

TEST_F(server_e2e, list_pages_through_every_row_with_cursors) {
    std::set<std::int64_t> seen;
    std::string target = "/v1/tables/public.users/rows?limit=7";
    int pages = 0;
    while (true) {
        const auto r = get(target);
        ASSERT_EQ(r.status, 200u) << r.body;
        const auto page = r.json().as_object();
        for (const auto& row : page.at("rows").as_array()) {
            EXPECT_TRUE(seen.insert(row.at("id").to_number<std::int64_t>()).second);
        }
        ++pages;
        if (page.at("next_cursor").is_null()) break;
        target = "/v1/tables/public.users/rows?limit=7&cursor=" +
                 std::string(page.at("next_cursor").as_string());
        ASSERT_LT(pages, 100);
    }
    EXPECT_EQ(std::to_string(seen.size()), sql_value("SELECT count(*) FROM users"));
    EXPECT_EQ(get("/v1/tables/public.users/rows?cursor=garbage!").status, 400u);
    EXPECT_EQ(get("/v1/tables/public.users/rows?limit=0").status, 400u);
}

TEST_F(server_e2e, tokens_are_required_and_scoped) {
    EXPECT_EQ(get("/v1/status", "").status, 401u);
    EXPECT_EQ(get("/v1/status", "wrong").status, 401u);
    EXPECT_EQ(get("/v1/status", admin_token).status, 200u);
    const auto forbidden = post("/v1/sources/pg/pause", {}, read_token);
    EXPECT_EQ(forbidden.status, 403u);
    EXPECT_EQ(forbidden.json().at("error").at("code"), "forbidden");
    EXPECT_EQ(get("/v1/tables/public.users/rows/1", "").status, 401u);
}

TEST_F(server_e2e, pause_and_resume_a_source) {
    auto r = post("/v1/sources/pg/pause");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_TRUE(eventually([] { return get("/v1/status").json().at("state") == "PAUSED"; }));
    sql("INSERT INTO users VALUES (2000, 'paused', 'p@example.com', 'lima')");
    r = post("/v1/sources/pg/resume");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_TRUE(eventually([] { return row("public.users", "2000").has_value(); }));
    EXPECT_EQ(get("/v1/status").json().at("state"), "STREAMING");
}

TEST_F(server_e2e, reload_rebaselines_a_table) {
    const auto r = post("/v1/tables/public.orders/reload");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.json().at("reloaded"), true);
    EXPECT_EQ(get("/v1/tables/public.orders/count").json().at("count"), 3);
    EXPECT_EQ(post("/v1/tables/public.nope/reload").status, 404u);
}

TEST_F(server_e2e, bad_requests_get_the_right_errors) {
    const auto unknown = get("/v1/tables/public.nope/rows/1");
    EXPECT_EQ(unknown.status, 404u);
    EXPECT_EQ(unknown.json().at("error").at("code"), "unknown_table");
    const auto bad_key = get("/v1/tables/public.users/rows/abc");
    EXPECT_EQ(bad_key.status, 400u);
    EXPECT_THAT(bad_key.body, HasSubstr("column id"));
    const auto bad_json = post("/v1/tables/public.users/reload", "{not json");
    EXPECT_EQ(bad_json.status, 400u);
    EXPECT_EQ(bad_json.json().at("error").at("code"), "invalid_json");
    EXPECT_EQ(get("/v1/nothing-here").status, 404u);
    const auto method = http_request(api_, "DELETE", "/v1/status", admin_token);
    EXPECT_EQ(method.status, 405u);
    EXPECT_EQ(post("/v1/snapshots").json().at("error").at("code"), "not_configured");
    EXPECT_EQ(post("/v1/sources/pg/reset", "{}").status, 400u);  // needs confirm
    const std::string big(100 * 1024, 'x');
    EXPECT_EQ(post("/v1/tables/public.users/reload", "{\"source\":\"" + big + "\"}").status, 413u);
}

TEST_F(server_e2e, drain_without_shutdown_can_be_undone) {
    ASSERT_EQ(post("/v1/drain", "{\"shutdown\": false}").status, 202u);
    EXPECT_EQ(get_health("/health/ready").status, 503u);
    ASSERT_EQ(http_request(api_, "DELETE", "/v1/drain", admin_token).status, 200u);
    EXPECT_EQ(get_health("/health/ready").status, 200u);
}

TEST_F(server_e2e, metrics_pass_promtool_and_counters_move) {
    auto applied = [] {
        const auto text = get_health("/metrics").body;
        const std::string needle =
            "laredo_changes_applied_total{pipeline=\"pg:public.users:memory.indexed\",source="
            "\"pg\","
            "table=\"public.users\",action=\"INSERT\"} ";
        const auto at = text.find(needle);
        return at == std::string::npos ? -1L : std::stol(text.substr(at + needle.size()));
    };
    const auto before = applied();
    ASSERT_GE(before, 0) << get_health("/metrics").body;
    sql("INSERT INTO users VALUES (4000, 'metrics', 'm@example.com', 'oslo')");
    EXPECT_TRUE(eventually([&] { return applied() > before; }));

    const auto r = get_health("/metrics");
    ASSERT_EQ(r.status, 200u);
    EXPECT_THAT(r.headers.at("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
    for (const char* family :
         {"laredo_pipeline_state{", "laredo_source_lag_bytes{",
          "laredo_postgres_slot_retained_wal_bytes{", "laredo_postgres_slot_wal_status{",
          "laredo_baseline_rows_loaded_total{", "laredo_change_apply_duration_seconds_bucket{",
          "laredo_websocket_queue_bytes ", "process_resident_memory_bytes "})
        EXPECT_THAT(r.body, HasSubstr(family));
    ASSERT_EQ(std::system("command -v promtool > /dev/null"), 0)
        << "promtool is missing (scripts/install-deps.sh installs prometheus)";
    const auto file = dir_->path() / "metrics.txt";
    std::ofstream(file) << r.body;
    const auto out = dir_->path() / "promtool.out";
    const int rc = std::system(
        ("promtool check metrics < " + file.string() + " > " + out.string() + " 2>&1").c_str());
    std::ifstream in(out);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(rc, 0) << text;
}

TEST_F(server_e2e, a_change_in_postgres_arrives_on_the_row_stream) {
    ws_client ws(api_, "/v1/watch/tables/public.users?replay=true&eq=city:berlin", read_token);
    auto first = ws.next();
    ASSERT_TRUE(first);
    EXPECT_EQ(laredo::json::parse(*first).at("type"), "subscribed");
    std::size_t snapshot_rows = 0;
    while (true) {
        auto m = ws.next();
        ASSERT_TRUE(m) << "stream ended: " << ws.close_reason();
        const auto j = laredo::json::parse(*m);
        if (j.at("type") == "snapshot_end") {
            EXPECT_EQ(j.at("rows").to_number<std::size_t>(), snapshot_rows);
            break;
        }
        ASSERT_EQ(j.at("type"), "snapshot");
        EXPECT_EQ(j.at("row").at("city"), "berlin");
        ++snapshot_rows;
    }
    EXPECT_EQ(std::to_string(snapshot_rows),
              sql_value("SELECT count(*) FROM users WHERE city = 'berlin'"));
    sql("INSERT INTO users VALUES (5000, 'elsewhere', 'e@example.com', 'oslo');"
        "INSERT INTO users VALUES (5001, 'streamed', 's@example.com', 'berlin')");
    auto change = ws.next();
    ASSERT_TRUE(change);
    const auto j = laredo::json::parse(*change);
    EXPECT_EQ(j.at("type"), "change");
    EXPECT_EQ(j.at("action"), "INSERT");
    EXPECT_EQ(j.at("new").at("id"), 5001);  // the oslo row was filtered out
    EXPECT_TRUE(j.at("old").is_null());
}

TEST_F(server_e2e, status_stream_reports_state_changes) {
    ws_client ws(api_, "/v1/watch/status?source=pg", read_token);
    ASSERT_TRUE(ws.next());  // subscribed
    ASSERT_EQ(post("/v1/sources/pg/pause").status, 200u);
    ASSERT_EQ(post("/v1/sources/pg/resume").status, 200u);
    bool paused = false;
    bool resumed = false;
    while (!(paused && resumed)) {
        auto m = ws.next();
        ASSERT_TRUE(m);
        const auto j = laredo::json::parse(*m);
        if (j.at("type") != "pipeline_state") continue;
        paused |= j.at("to") == "PAUSED";
        resumed |= paused && j.at("to") == "STREAMING";
    }
    EXPECT_EQ(http_request(api_, "GET", "/v1/watch/status", read_token).status, 426u);
}

TEST_F(server_e2e, a_slow_stream_client_is_closed_with_a_reason_while_others_keep_receiving) {
    // The slow client does not read and has little room in its socket; the fast one reads
    // everything while the rows are written.
    ws_client slow(api_, "/v1/watch/tables/public.users", read_token, 4096);
    ws_client fast(api_, "/v1/watch/tables/public.users", read_token);
    ASSERT_TRUE(fast.next());  // subscribed
    constexpr int transactions = 100;
    constexpr int rows = 100;
    int received = 0;
    std::string closed;
    std::thread fast_reader([&] {
        while (received < transactions * rows) {
            auto m = fast.next(60s);
            if (!m) {
                closed = "closed: " + fast.close_reason();
                return;
            }
            if (laredo::json::parse(*m).at("type") == "change") ++received;
        }
    });
    // Once the server counts the slow client (its queue passed the limit), the client reads
    // again: what its socket held, then the close frame, which the server can only send once
    // the client reads.
    auto counted = [] {
        return get_health("/metrics").body.find("laredo_websocket_slow_clients_total 0\n") ==
               std::string::npos;
    };
    bool slow_counted = false;
    for (int t = 0; t < transactions; ++t) {
        const int from = 10'000 + t * rows;
        sql("INSERT INTO users SELECT g, repeat('x', 2000), 'slow' || g, 'far' FROM "
            "generate_series(" +
            std::to_string(from) + ", " + std::to_string(from + rows - 1) + ") g");
        if (!slow_counted) slow_counted = counted();
    }
    if (!slow_counted) slow_counted = eventually(counted, 60s);
    std::thread slow_reader([&] {
        while (slow.next(30s)) {
        }
    });
    slow_reader.join();
    fast_reader.join();
    EXPECT_TRUE(slow_counted);
    ASSERT_EQ(received, transactions * rows) << "the fast client was " << closed;
    EXPECT_EQ(slow.close_code(), 1008);
    EXPECT_THAT(slow.close_reason(), HasSubstr("client too slow"));
    sql("DELETE FROM users WHERE id >= 10000");
}

TEST_F(server_e2e, hostile_clients_get_4xx_or_are_closed_while_others_are_served) {
    std::atomic<bool> stop{false};
    std::atomic<int> good{0};
    std::atomic<int> bad{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < 8; ++i)
        clients.emplace_back([&, i] {
            while (!stop) {
                try {
                    const auto r = get("/v1/tables/public.users/rows/" + std::to_string(1 + i));
                    (r.status == 200 ? good : bad)++;
                } catch (const std::exception&) {
                    bad++;
                }
            }
        });
    const std::string big_header =
        "GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20'000, 'a') + "\r\n\r\n";
    const std::string big_body = "POST /v1/drain HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                 std::string(admin_token) + "\r\nContent-Length: 10000000\r\n\r\n" +
                                 std::string(1000, '{');
    int answered_4xx = 0;
    int closed = 0;
    for (int round = 0; round < 60; ++round) {
        for (const auto& bytes :
             {std::string("GARBAGE\r\n\r\n"),
              std::string("GET /v1/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
              big_header, big_body,
              "POST /v1/tables/public.users/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                  std::string(admin_token) +
                  "\r\nConnection: close\r\nContent-Length: 5\r\n\r\n{{{{{"}) {
            const auto reply = raw_exchange(api_, bytes, 5s);
            if (reply.rfind("HTTP/1.1 4", 0) == 0)
                ++answered_4xx;
            else if (reply.empty())
                ++closed;
            else
                ADD_FAILURE() << "unexpected reply: " << reply.substr(0, 200);
        }
    }
    // Half-open connections: a request that never ends is closed after the idle timeout.
    const auto half = raw_exchange(api_, "GET /v1/status HTTP/1.1\r\nHost: x\r\n", 20s);
    EXPECT_TRUE(half.empty() || half.rfind("HTTP/1.1 4", 0) == 0) << half;
    stop = true;
    for (auto& t : clients) t.join();
    EXPECT_EQ(answered_4xx + closed, 300);
    EXPECT_GT(answered_4xx, 200);
    EXPECT_GT(good.load(), 0);
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(get("/v1/status").status, 200u);
}

// Last: stops the shared server.
TEST_F(server_e2e, sigterm_drains_and_exits_zero) {
    sql("INSERT INTO users VALUES (3000, 'last', 'l@example.com', 'kyiv')");
    ASSERT_TRUE(eventually([] { return row("public.users", "3000").has_value(); }));
    process_->signal(SIGTERM);
    // drain_grace: readiness reports 503 while the server still answers.
    EXPECT_TRUE(eventually([] {
        try {
            return get_health("/health/ready").status == 503;
        } catch (const std::exception&) {
            return false;
        }
    }));
    EXPECT_EQ(process_->wait(60s), 0) << process_->log();
    EXPECT_THAT(process_->log(), HasSubstr("engine stopped"));
    EXPECT_THAT(process_->log(), ::testing::Not(HasSubstr(admin_token)));
}

// ---- configurations the server refuses (no server runs) ----

class server_config_e2e : public ::testing::Test {
  protected:
    run_result check(const std::string& text, std::vector<std::string> extra = {}) {
        const auto file = dir_.path() / "bad.toml";
        std::ofstream(file) << text;
        std::vector<std::string> args{"--config", file.string(), "--conf-dir",
                                      (dir_.path() / "none").string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_server(args, dir_.path(), {{"E2E_READ_TOKEN", "x"}});
    }
    laredo::testing::temp_dir dir_{"laredo-e2e-config"};
};

TEST_F(server_config_e2e, check_accepts_the_e2e_configuration) {
    const auto file0 = dir_.path() / "no-env.toml";
    std::ofstream(file0) << config_text();
    const auto r = run_server({"--config", file0.string(), "--check"}, dir_.path());
    EXPECT_EQ(r.exit_code, 1) << "E2E_READ_TOKEN is not set here: " << r.err;
    EXPECT_THAT(r.err,
                HasSubstr("api.read_tokens_env: environment variable E2E_READ_TOKEN is not set"));
    const auto file = dir_.path() / "good.toml";
    std::ofstream(file) << config_text();
    const auto ok =
        run_server({"--config", file.string(), "--check"}, dir_.path(), {{"E2E_READ_TOKEN", "x"}});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_THAT(ok.out, HasSubstr("configuration is valid"));
}

TEST_F(server_config_e2e, every_bad_configuration_exits_non_zero_naming_the_key) {
    struct bad_case {
        std::string text;
        std::string expected;
    };
    const std::string base = config_text();
    auto with = [&](const std::string& from, const std::string& to) {
        auto t = base;
        const auto at = t.find(from);
        EXPECT_NE(at, std::string::npos) << from;
        t.replace(at, from.size(), to);
        return t;
    };
    const std::vector<bad_case> cases = {
        {with("slot_name", "slot_nmae"),
         "sources.pg.slot_nmae: unknown key 'slot_nmae'; did you mean 'slot_name'?"},
        {with("type = \"postgres\"", "type = \"mysql\""),
         "sources.pg.type: source type 'mysql' is not available"},
        {with("threads = 2", "threads = 0"), "server.threads: must be between 1 and 256"},
        {with("drain_grace = \"1s\"", "drain_grace = \"1 sec\""), "server.drain_grace:"},
        {with("source = \"pg\"\nschema = \"public\"\ntable = \"users\"",
              "source = \"pgx\"\nschema = \"public\"\ntable = \"users\""),
         "tables[0].source: unknown source 'pgx'; did you mean 'pg'?"},
        {with("type = \"compiled-memory\"", "type = \"kafka\""),
         "tables[1].targets[1].type: target type 'kafka' is not available"},
        {with("type = \"compiled-memory\"", "type = \"http-sync\""),
         "tables[1].targets[1]: an http-sync target needs `base_url`"},
        {with("[api]\n", "[api]\naddress = \"not-an-ip\"\n"),
         "api.address: 'not-an-ip' is not an IP address"},
        {with("idle_timeout = \"2s\"", "idle_timeout = 2"),
         "api.limits.idle_timeout: expected a duration"},
        {base + "\n[snapshot]\nenabled = true\n", "snapshot: snapshots need a directory"},
        {base + "[[tables]]\nsource = \"pg\"\nschema = \"public\"\ntable = "
                "\"t\"\n[[tables.targets]]\ntype = \"indexed-memory\"\n"
                "filters = [{ type = \"field-regex\", field = \"a\", pattern = \"([\" }]\n",
         "tables[2].targets[0].filters[0]:"},
        {"[sources.pg\n", "bad.toml:1: TOML syntax error"},
    };
    for (const auto& c : cases) {
        const auto r = check(c.text);
        EXPECT_EQ(r.exit_code, 1) << c.expected;
        EXPECT_THAT(r.err, HasSubstr(c.expected));
        EXPECT_THAT(r.err, ::testing::Not(HasSubstr(admin_token)));
    }
    // The environment and --set name their keys too.
    std::ofstream(dir_.path() / "bad.toml") << base;
    const auto env =
        run_server({"--config", (dir_.path() / "bad.toml").string(), "--check"}, dir_.path(),
                   {{"LAREDO_SERVER_THREDS", "4"}, {"E2E_READ_TOKEN", "x"}});
    EXPECT_EQ(env.exit_code, 1);
    EXPECT_THAT(env.err, HasSubstr("LAREDO_SERVER_THREDS: does not override any key; did you mean "
                                   "LAREDO_SERVER_THREADS?"));
    const auto set = check(base, {"--check", "--set", "server.threads=many"});
    EXPECT_EQ(set.exit_code, 1);
    EXPECT_THAT(set.err, HasSubstr("--set: server.threads: expected an integer"));
    EXPECT_EQ(check(base, {"--bogus"}).exit_code, 2);
}

TEST_F(server_config_e2e, print_config_masks_secrets) {
    const auto file = dir_.path() / "p.toml";
    std::ofstream(file) << config_text();
    const auto r = run_server({"--config", file.string(), "--print-config"}, dir_.path(),
                              {{"E2E_READ_TOKEN", "x"}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("***"));
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr(admin_token)));
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("user=postgres")));
}

TEST_F(server_config_e2e, the_installed_example_configuration_is_valid) {
    const char* example = std::getenv("LAREDO_SERVER_EXAMPLE");
    ASSERT_NE(example, nullptr);
    const auto r =
        run_server({"--config", example, "--conf-dir", (dir_.path() / "none").string(), "--check",
                    "--set", "snapshot.store_config.path=" + (dir_.path() / "snapshots").string(),
                    "--set", "dead_letters.path=" + (dir_.path() / "dead-letters").string()},
                   dir_.path(),
                   {{"PGPASSWORD", "pw"}, {"LAREDO_ADMIN_TOKEN", "a"}, {"LAREDO_READ_TOKEN", "r"}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

// A test source (no PostgreSQL needed) served over HTTPS with the certificate and key given.
std::string tls_config_text(const std::filesystem::path& cert, const std::filesystem::path& key) {
    return R"(
[sources.demo]
type = "testsource"
[[sources.demo.tables]]
schema = "public"
table = "items"
columns = [{ name = "id", type = "int8", key = true }, { name = "name" }]
rows = [{ id = 1, name = "one" }, { id = 2, name = "two" }]
[[tables]]
source = "demo"
schema = "public"
table = "items"
[[tables.targets]]
type = "indexed-memory"
[api]
port = 0
admin_tokens = [")" +
           std::string(admin_token) + R"("]
[api.tls]
cert_path = ")" +
           cert.string() +
           R"("
key_path = ")" +
           key.string() +
           R"("
)";
}

// A self-signed certificate for 127.0.0.1 and its key (openssl, P-256: quick to generate).
void make_certificate(const std::filesystem::path& cert, const std::filesystem::path& key) {
    const auto command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
        "-keyout " +
        key.string() + " -out " + cert.string() + " > /dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

TEST_F(server_config_e2e, the_api_serves_https_with_its_certificate_and_refuses_bad_ones) {
    const auto cert = dir_.path() / "cert.pem";
    const auto key = dir_.path() / "key.pem";
    ASSERT_NO_FATAL_FAILURE(make_certificate(cert, key));
    const auto file = dir_.path() / "tls.toml";
    std::ofstream(file) << tls_config_text(cert, key);
    {
        server_process server(
            {"--config", file.string(), "--conf-dir", (dir_.path() / "none").string()},
            dir_.path());
        const auto port = server.port_of("api");
        EXPECT_THAT(server.log(), HasSubstr("https://127.0.0.1:" + std::to_string(port)));
        http_result r;
        const bool served = eventually([&] {
            r = https_request(port, cert.string(), "/v1/tables/public.items/rows/2", admin_token);
            return r.status == 200;
        });
        ASSERT_TRUE(served) << r.status << " " << r.body << "\n" << server.log();
        EXPECT_EQ(r.json().as_object().at("row").as_object().at("name"), "two");
        EXPECT_EQ(https_request(port, cert.string(), "/v1/status").status, 401u);
        // Plain HTTP on the TLS port gets no HTTP answer.
        EXPECT_THAT(raw_exchange(port, "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n",
                                 std::chrono::seconds(5)),
                    ::testing::Not(HasSubstr("HTTP/1.1")));
        // A client that trusts another certificate refuses the server's.
        const auto other_cert = dir_.path() / "other-cert.pem";
        const auto other_key = dir_.path() / "other-key.pem";
        ASSERT_NO_FATAL_FAILURE(make_certificate(other_cert, other_key));
        EXPECT_ANY_THROW(https_request(port, other_cert.string(), "/v1/status", admin_token));
        server.signal(SIGTERM);
        EXPECT_EQ(server.wait(), 0) << server.log();
    }

    // A certificate that is not one, and a key of another certificate: errors naming the key,
    // from --check and when starting.
    const auto garbage = dir_.path() / "garbage.pem";
    std::ofstream(garbage) << "not a certificate\n";
    const auto other_key = dir_.path() / "other-key.pem";
    const struct {
        std::filesystem::path cert, key;
        std::string expected;
    } bad[] = {
        {garbage, key, "api.tls.cert_path: cannot load certificate " + garbage.string()},
        {cert, other_key, "api.tls.key_path: cannot load private key " + other_key.string()},
    };
    for (const auto& b : bad) {
        std::ofstream(file) << tls_config_text(b.cert, b.key);
        for (const bool check_only : {true, false}) {
            std::vector<std::string> args{"--config", file.string(), "--conf-dir",
                                          (dir_.path() / "none").string()};
            if (check_only) args.push_back("--check");
            const auto r = run_server(args, dir_.path());
            EXPECT_EQ(r.exit_code, 1) << r.err;
            EXPECT_THAT(r.err, HasSubstr(b.expected));
        }
    }
}

TEST_F(server_config_e2e, the_systemd_unit_verifies) {
    const char* unit = std::getenv("LAREDO_SERVER_UNIT");
    ASSERT_NE(unit, nullptr);
    ASSERT_EQ(std::system("command -v systemd-analyze > /dev/null"), 0)
        << "systemd-analyze is missing (scripts/install-deps.sh installs systemd)";
    // The unit file's name is the unit's name: verify a copy named laredo-server.service.
    const auto copy = dir_.path() / "laredo-server.service";
    std::filesystem::copy_file(unit, copy);
    const auto out = dir_.path() / "verify.out";
    const auto rc = std::system(
        ("systemd-analyze verify " + copy.string() + " > " + out.string() + " 2>&1").c_str());
    std::ifstream in(out);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(rc, 0) << text;
    EXPECT_EQ(text, "") << "systemd-analyze warns";
}

}  // namespace
}  // namespace laredo::server::testing
