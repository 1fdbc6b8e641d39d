// The laredo CLI end to end: the real binary against the real laredo-server (started once
// from a TOML file on the harness PostgreSQL). Each command's `--output json` is compared
// with the API's own answer, table output with a fixed COLUMNS, and the exit codes 0/1/2.

#include "client.hpp"

#include "laredo/json/values.hpp"
#include "pg_cluster_environment.hpp"
#include "temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

namespace laredo::server::testing {
namespace {

using namespace std::chrono_literals;
using laredo::testing::shared_pg_cluster;
using ::testing::HasSubstr;
namespace json = boost::json;

constexpr const char* admin_token = "cli-admin-token";
constexpr const char* read_token = "cli-read-token";

void sql(const std::string& statements) { shared_pg_cluster().exec(statements); }

std::string config_text(const std::filesystem::path& dir) {
    return R"(
[sources.pg]
type = "postgres"
connection = "host=127.0.0.1 port=)" +
           std::to_string(shared_pg_cluster().port()) + R"( user=postgres dbname=postgres"
slot_name = "cli_slot"
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

[snapshot]
store = "local"
store_config = { path = ")" +
           (dir / "snapshots").string() + R"(" }

[dead_letters]
store = "local"
path = ")" +
           (dir / "dead-letters").string() +
           R"("

[api]
port = 0
admin_tokens = [")" +
           admin_token + R"("]
read_tokens = [")" +
           read_token + R"("]

[health]
http_port = 0

[server]
threads = 2

[observability.logging]
format = "json"
level = "info"
)";
}

std::string cli_binary() {
    const char* p = std::getenv("LAREDO_CLI_BIN");
    if (!p) throw std::runtime_error("LAREDO_CLI_BIN is not set (run through meson test)");
    return p;
}

class cli : public ::testing::Test {
  public:
    static void SetUpTestSuite() {
        sql("DROP TABLE IF EXISTS users, orders;"
            "CREATE TABLE users (id bigint PRIMARY KEY, name text, email text, city text);"
            "CREATE TABLE orders (a int, b text, qty int, PRIMARY KEY (a, b));"
            "INSERT INTO users SELECT g, 'user' || g, 'u' || g || '@example.com', "
            "  CASE WHEN g % 2 = 0 THEN 'berlin' ELSE 'oslo' END FROM generate_series(1, 20) g;"
            "INSERT INTO orders VALUES (1, 'x', 5), (1, 'y', 6), (2, 'x', 7);");
        dir_ = new laredo::testing::temp_dir("laredo-cli");
        config_ = dir_->path() / "laredo.toml";
        std::ofstream(config_) << config_text(dir_->path());
        process_ = new server_process(
            {"--config", config_.string(), "--conf-dir", (dir_->path() / "conf.d").string()},
            dir_->path());
        api_ = process_->port_of("api");
        const auto health = process_->port_of("health");
        const bool ready = eventually(
            [health] { return http_request(health, "GET", "/health/ready").status == 200; }, 60s);
        ASSERT_TRUE(ready) << process_->log();
    }
    static void TearDownTestSuite() {
        delete process_;
        process_ = nullptr;
        delete dir_;
        dir_ = nullptr;
    }

  protected:
    static std::string server_url() { return "http://127.0.0.1:" + std::to_string(api_); }

    // Runs `laredo ARGS` against the server with the admin token (LAREDO_TOKEN) unless `env`
    // says otherwise.
    static run_result laredo(const std::vector<std::string>& args,
                             std::map<std::string, std::string> env = {}) {
        env.emplace("LAREDO_SERVER", server_url());
        env.emplace("LAREDO_TOKEN", admin_token);
        env.emplace("COLUMNS", "100");
        return run_program(cli_binary(), args, dir_->path(), env);
    }
    // `laredo --output json ARGS`, which must succeed; its output as JSON.
    static json::value laredo_json(const std::vector<std::string>& args) {
        std::vector<std::string> full{"--output", "json"};
        full.insert(full.end(), args.begin(), args.end());
        const auto r = laredo(full);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        try {
            return laredo::json::parse(r.out);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "not JSON: " << r.out << "\n" << r.err;
            return nullptr;
        }
    }
    static json::value api(const std::string& target) {
        const auto r = http_request(api_, "GET", target, read_token);
        EXPECT_EQ(r.status, 200u) << target << ": " << r.body;
        return r.json();
    }

    static inline laredo::testing::temp_dir* dir_ = nullptr;
    static inline std::filesystem::path config_;
    static inline server_process* process_ = nullptr;
    static inline std::uint16_t api_ = 0;
};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// Code points, as a terminal counts columns for this text.
std::size_t width_of(const std::string& line) {
    std::size_t n = 0;
    for (const char c : line) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

TEST_F(cli, read_commands_print_the_apis_json) {
    EXPECT_EQ(laredo_json({"tables"}), api("/v1/tables"));
    EXPECT_EQ(laredo_json({"schema", "public.orders"}).at("columns"),
              api("/v1/tables/public.orders").at("columns"));
    // Status and pipelines carry live figures (lag, rates): compare what is stable.
    const auto status = laredo_json({"status"});
    const auto expected = api("/v1/status");
    EXPECT_EQ(status.at("state"), expected.at("state"));
    EXPECT_EQ(status.at("version"), expected.at("version"));
    EXPECT_EQ(status.at("started_at"), expected.at("started_at"));
    ASSERT_EQ(status.at("pipelines").as_array().size(), 2u);
    const auto pipelines = laredo_json({"pipelines"});
    ASSERT_EQ(pipelines.at("pipelines").as_array().size(), 2u);
    EXPECT_EQ(pipelines.at("pipelines").at(0).at("id"),
              api("/v1/pipelines").at("pipelines").at(0).at("id"));
    const auto id = std::string(pipelines.at("pipelines").at(0).at("id").as_string());
    EXPECT_EQ(laredo_json({"pipelines", id}).at("id"), id.c_str());
    EXPECT_EQ(laredo_json({"source"}).at("sources").at(0).at("id"), "pg");
    EXPECT_EQ(laredo_json({"source", "pg"}).at("slot").at("name"), "cli_slot");
    const auto ready = laredo({"ready"});
    EXPECT_EQ(ready.exit_code, 0) << ready.err;
    EXPECT_EQ(ready.out, "ready\n");
    EXPECT_EQ(laredo({"ready", "--source", "pg"}).exit_code, 0);
    const auto version = laredo_json({"version"});
    EXPECT_EQ(version.at("server"), expected.at("version"));
    EXPECT_EQ(version.at("client"), expected.at("version"));
}

TEST_F(cli, queries_send_typed_keys_and_print_the_apis_json) {
    EXPECT_EQ(laredo_json({"query", "get", "public.users", "--key", "id=3"}),
              api("/v1/tables/public.users/rows/3"));
    // A composite key in any order: the CLI puts it in the key's order (a, b).
    EXPECT_EQ(laredo_json({"query", "get", "public.orders", "--key", "b=y", "--key", "a=1"}),
              api("/v1/tables/public.orders/rows/1/y"));
    EXPECT_EQ(laredo_json({"query", "lookup", "public.users", "--key", "email=u4@example.com"}),
              api("/v1/tables/public.users/lookup/u4%40example.com"));
    EXPECT_EQ(laredo_json(
                  {"query", "lookup", "public.users", "--index", "by_city", "--key", "city=oslo"}),
              api("/v1/tables/public.users/indexes/by_city/oslo"));
    EXPECT_EQ(laredo_json({"query", "count", "public.users"}),
              api("/v1/tables/public.users/count"));
    EXPECT_EQ(laredo_json({"query", "list", "public.users", "--limit", "5"}),
              api("/v1/tables/public.users/rows?limit=5"));
    const auto all = laredo_json({"query", "list", "public.users", "--limit", "7", "--all"});
    EXPECT_EQ(all.at("rows").as_array().size(), 20u);
    EXPECT_TRUE(all.at("next_cursor").is_null());
}

TEST_F(cli, table_output_fits_the_terminal_width) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"status"},
                                                                  {"tables"},
                                                                  {"pipelines"},
                                                                  {"source"},
                                                                  {"schema", "public.users"},
                                                                  {"query", "list", "public.users"},
                                                                  {"source", "pg"}}) {
        const auto r = laredo(args, {{"COLUMNS", "60"}});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        ASSERT_FALSE(r.out.empty());
        for (const auto& line : lines_of(r.out))
            EXPECT_LE(width_of(line), 60u) << args.front() << ": " << line;
    }
    const auto tables = lines_of(laredo({"tables"}).out);
    ASSERT_EQ(tables.size(), 3u);
    EXPECT_THAT(tables[0], ::testing::MatchesRegex("TABLE +SOURCE +PIPELINES"));
    EXPECT_THAT(tables[1], ::testing::StartsWith("public.users   pg"));
    const auto row = laredo({"query", "get", "public.users", "--key", "id=4"}).out;
    EXPECT_THAT(row, HasSubstr("email: u4@example.com"));
    EXPECT_EQ(laredo({"query", "count", "public.orders"}).out, "3\n");
}

TEST_F(cli, failed_calls_exit_1_with_the_servers_message_and_what_to_do) {
    auto r = laredo({"query", "count", "public.nope"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("404 unknown_table"));
    EXPECT_THAT(r.err, HasSubstr("next: see the tables with `laredo tables`"));
    r = laredo({"status"}, {{"LAREDO_TOKEN", "wrong"}});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("401"));
    EXPECT_THAT(r.err, HasSubstr("--token"));
    // A read token on an admin call.
    r = laredo({"pause", "pg"}, {{"LAREDO_TOKEN", read_token}});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("admin token"));
    // Nobody listens on port 1.
    r = laredo({"--server", "http://127.0.0.1:1", "status"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("cannot reach laredo-server at http://127.0.0.1:1"));
    EXPECT_THAT(r.err, HasSubstr("LAREDO_SERVER"));
    // The token from a file.
    const auto token_file = dir_->path() / "token";
    std::ofstream(token_file) << read_token << "\n";
    r = laredo({"--token-file", token_file.string(), "tables"}, {{"LAREDO_TOKEN", "wrong"}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(cli, usage_errors_exit_2) {
    EXPECT_EQ(laredo({}).exit_code, 2);
    EXPECT_EQ(laredo({"frobnicate"}).exit_code, 2);
    EXPECT_EQ(laredo({"schema"}).exit_code, 2);
    EXPECT_EQ(laredo({"--output", "yaml", "status"}).exit_code, 2);
    auto r = laredo({"query", "get", "public.users", "--key", "id=abc"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("'abc' is not a valid int8 for column id of public.users"));
    r = laredo({"query", "get", "public.orders", "--key", "a=1"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("missing b"));
    r = laredo({"query", "get", "public.users", "--key", "nope=1"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("no column nope"));
    r = laredo({"query", "count", "users"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("public.users"));
    EXPECT_EQ(laredo({"--server", "ftp://x", "status"}).exit_code, 2);
    r = laredo({"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("reset-source"));
    EXPECT_EQ(laredo({"query", "get", "--help"}).exit_code, 0);
}

TEST_F(cli, reset_source_refuses_without_a_terminal_or_yes) {
    const auto r = laredo({"reset-source", "pg"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("--yes"));
    // Nothing was reset: the source still streams.
    EXPECT_EQ(api("/v1/sources/pg").at("state"), "STREAMING");
}

TEST_F(cli, pause_resume_and_reload) {
    auto v = laredo_json({"pause", "pg"});
    EXPECT_EQ(v.at("state"), "PAUSED");
    EXPECT_TRUE(eventually([] { return api("/v1/status").at("state") == "PAUSED"; }));
    EXPECT_EQ(laredo({"ready"}).exit_code, 0);  // paused counts as ready
    v = laredo_json({"resume", "pg"});
    EXPECT_EQ(v.at("state"), "STREAMING");
    EXPECT_TRUE(eventually([] { return api("/v1/status").at("state") == "STREAMING"; }));
    v = laredo_json({"reload", "public.orders"});
    EXPECT_EQ(v.at("reloaded"), true);
    EXPECT_EQ(v.at("source"), "pg");
    EXPECT_TRUE(eventually([] { return laredo({"ready"}).exit_code == 0; }));
}

TEST_F(cli, snapshots_create_list_describe_delete_and_prune) {
    const auto first = laredo_json({"snapshot", "create", "--label", "why=test"});
    const auto id = std::string(first.at("id").as_string());
    EXPECT_EQ(first.at("labels").at("why"), "test");
    EXPECT_EQ(laredo_json({"snapshot", "list"}), api("/v1/snapshots"));
    EXPECT_EQ(laredo_json({"snapshot", "describe", id}), api("/v1/snapshots/" + id));
    laredo_json({"snapshot", "create"});
    laredo_json({"snapshot", "create"});
    const auto pruned = laredo_json({"snapshot", "prune", "--keep", "1"});
    EXPECT_EQ(pruned.at("deleted").as_array().size(), 2u);
    const auto left = api("/v1/snapshots").at("snapshots").as_array();
    ASSERT_EQ(left.size(), 1u);
    const auto last = std::string(left.at(0).at("id").as_string());
    EXPECT_EQ(laredo_json({"snapshot", "delete", last}).at("deleted"), last.c_str());
    const auto r = laredo({"snapshot", "describe", last});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("laredo snapshot list"));
}

TEST_F(cli, dead_letters_list_replay_purge) {
    EXPECT_EQ(laredo_json({"dead-letters", "list"}), api("/v1/dead-letters"));
    const auto pipeline =
        std::string(api("/v1/pipelines").at("pipelines").at(0).at("id").as_string());
    EXPECT_EQ(laredo_json({"dead-letters", "list", pipeline}), api("/v1/dead-letters/" + pipeline));
    EXPECT_EQ(laredo_json({"dead-letters", "replay", pipeline}).at("replayed"), 0);
    EXPECT_EQ(laredo_json({"dead-letters", "purge", pipeline}).at("purged"), 0);
    EXPECT_EQ(laredo({"dead-letters", "purge", "nope"}).exit_code, 1);
}

TEST_F(cli, config_check_runs_the_servers_check) {
    auto r = laredo({"config", "check", config_.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("configuration is valid"));
    const auto bad = dir_->path() / "bad.toml";
    std::ofstream(bad) << "[sources.pg]\ntype = \"postgres\"\nslot_nam = \"x\"\n";
    r = laredo({"config", "check", bad.string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("slot_name"));
}

std::string file_text(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST_F(cli, watch_into_a_pipe_prints_progress_to_100_percent_and_a_line_per_change) {
    const auto out = dir_->path() / "watch.out";
    const auto err = dir_->path() / "watch.err";
    std::map<std::string, std::string> env{
        {"LAREDO_SERVER", server_url()}, {"LAREDO_TOKEN", read_token}, {"COLUMNS", "200"}};
    const int pid = spawn_program(cli_binary(), {"watch", "--interval", "0.2"}, env, out.string(),
                                  err.string());
    auto printed = [&](const std::string& text) {
        return eventually([&] { return file_text(out).find(text) != std::string::npos; }, 60s);
    };
    EXPECT_TRUE(printed("pipeline pg:public.users:memory.indexed  STREAMING  rows 20"))
        << file_text(out) << file_text(err);
    EXPECT_EQ(laredo({"reload", "public.users"}).exit_code, 0);
    EXPECT_TRUE(printed("event baseline_started")) << file_text(out);
    EXPECT_TRUE(
        printed("baseline pg:public.users:memory.indexed  [####################] 100%  20/20 rows"))
        << file_text(out);
    // The reload's rows are not changes.
    EXPECT_EQ(file_text(out).find("change public.users INSERT {\"id\":1,"), std::string::npos)
        << file_text(out);
    sql("INSERT INTO users VALUES (5000, 'watched', 'w@example.com', 'rome')");
    EXPECT_TRUE(printed("change public.users INSERT {\"id\":5000")) << file_text(out);
    sql("DELETE FROM users WHERE id = 5000");
    EXPECT_TRUE(printed("change public.users DELETE")) << file_text(out);
    // Plain lines: no terminal control sequences into a pipe.
    EXPECT_EQ(file_text(out).find('\x1b'), std::string::npos);
    ::kill(pid, SIGINT);
    EXPECT_EQ(wait_exit_code(pid), 0) << file_text(err);
}

// The completion scripts know every command `laredo --help` lists, and bash reads its own.
TEST_F(cli, completion_scripts_name_every_command) {
    const std::filesystem::path dir = std::getenv("LAREDO_CLI_COMPLETION_DIR");
    const auto bash = file_text(dir / "laredo.bash");
    const auto zsh = file_text(dir / "_laredo");
    const auto help = laredo({"--help"}).out;
    const auto commands = help.substr(help.find("Subcommands:"));
    std::istringstream lines(commands);
    int seen = 0;
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string command;
        if (line.rfind("  ", 0) != 0 || !(words >> command)) continue;
        ++seen;
        EXPECT_THAT(bash, HasSubstr(command)) << "bash completion lacks " << command;
        EXPECT_THAT(zsh, HasSubstr("'" + command + ":")) << "zsh completion lacks " << command;
    }
    EXPECT_GE(seen, 17);
    EXPECT_EQ(
        run_program("/bin/bash", {"-n", (dir / "laredo.bash").string()}, dir_->path()).exit_code,
        0);
}

// Last: drain without stopping, then ready again.
TEST_F(cli, zz_drain_reports_not_ready_until_cancelled) {
    EXPECT_EQ(laredo_json({"drain", "--keep-running"}).at("draining"), true);
    const auto r = laredo({"ready"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.out, HasSubstr("the server is draining"));
    EXPECT_EQ(laredo_json({"drain", "--cancel"}).at("draining"), false);
    EXPECT_EQ(laredo({"ready"}).exit_code, 0);
}

}  // namespace
}  // namespace laredo::server::testing
