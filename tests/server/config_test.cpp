// The configuration loader without a server: TOML blocks and keys, defaults, units, merge
// order (file -> conf.d -> environment -> --set), secrets, and problems with key and line.

#include "laredo/server/config/load.hpp"
#include "laredo/server/config/units.hpp"

#include "config_problems.hpp"
#include "temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

namespace laredo::server::config {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string minimal = R"(
[sources.pg]
type = "postgres"
connection = "host=127.0.0.1 port=5432 dbname=app user=laredo password=hunter2"

[[tables]]
source = "pg"
schema = "public"
table = "users"
[[tables.targets]]
type = "indexed-memory"

[api]
admin_tokens = ["admin-secret"]
)";

TEST(config_units, durations_in_go_form) {
    std::string why;
    EXPECT_EQ(parse_duration("500ms", &why), 500ms);
    EXPECT_EQ(parse_duration("24h", &why), 24h);
    EXPECT_EQ(parse_duration("1h30m", &why), 90min);
    EXPECT_EQ(parse_duration("1.5s", &why), 1500ms);
    EXPECT_EQ(parse_duration("7d", &why), 168h);
    EXPECT_EQ(parse_duration("0", &why), 0ms);
    EXPECT_FALSE(parse_duration("30", &why));
    EXPECT_THAT(why, HasSubstr("bare number"));
    EXPECT_FALSE(parse_duration("3 fortnights", &why));
    EXPECT_FALSE(parse_duration("250us", &why));
    EXPECT_THAT(why, HasSubstr("whole number of milliseconds"));
    EXPECT_EQ(format_duration(90min), "1h30m");
    EXPECT_EQ(format_duration(500ms), "500ms");
}

TEST(config_units, sizes_with_units) {
    std::string why;
    EXPECT_EQ(parse_size("4096", &why), 4096u);
    EXPECT_EQ(parse_size("64MiB", &why), 64u << 20);
    EXPECT_EQ(parse_size("1GB", &why), 1'000'000'000u);
    EXPECT_FALSE(parse_size("12 parsecs", &why));
    EXPECT_THAT(why, HasSubstr("unknown unit"));
}

TEST(config_units, closest_suggests_only_near_names) {
    EXPECT_EQ(closest("slot_nmae", {"slot_name", "slot_mode"}), "slot_name");
    EXPECT_EQ(closest("zzzzzz", {"slot_name", "slot_mode"}), "");
}

TEST(config_load, minimal_file_gets_every_default) {
    const auto r = load_text(minimal, "laredo.toml");
    ASSERT_TRUE(r.problems.empty()) << all_problems(r);
    ASSERT_EQ(r.config.sources.size(), 1u);
    const auto& s = r.config.sources[0];
    EXPECT_EQ(s.type, "postgres");
    EXPECT_EQ(s.postgres.connection.host, "127.0.0.1");
    EXPECT_EQ(s.postgres.connection.password, "hunter2");
    EXPECT_EQ(s.postgres.connection.application_name, "laredo:pg");
    EXPECT_EQ(s.postgres.mode, sources::postgres::slot_mode::ephemeral);
    ASSERT_EQ(r.config.tables.size(), 1u);
    EXPECT_EQ(r.config.tables[0].table, table_identifier("public", "users"));
    const auto& t = r.config.tables[0].targets.at(0);
    EXPECT_EQ(t.kind, target_kind::indexed_memory);
    EXPECT_EQ(t.buffer_size, 10'000u);
    EXPECT_EQ(t.buffer, buffer_policy::block);
    EXPECT_EQ(t.on_error, error_policy::isolate);
    ASSERT_EQ(r.config.listeners.size(), 1u);
    EXPECT_EQ(r.config.listeners[0].address, "127.0.0.1");
    EXPECT_EQ(r.config.listeners[0].port, 4001);
    EXPECT_TRUE(r.config.listeners[0].api && r.config.listeners[0].health &&
                r.config.listeners[0].metrics);
    EXPECT_EQ(r.config.runtime.threads, 2);
    EXPECT_FALSE(r.config.snapshot.enabled);
}

TEST(config_load, every_block_is_read) {
    const auto text = R"(
[sources.pg]
type = "postgresql"
connection = "host=db dbname=app user=laredo"
password_file = "PWFILE"
slot_mode = "stateful"
slot_name = "laredo_01"
always_baseline = true
status_interval = "5s"
health_interval = "2s"
[sources.pg.publication]
name = "my_pub"
create = false
publish = "insert, update"
[sources.pg.publication.tables."public.users"]
where = "active"
columns = ["id", "email"]
[sources.pg.key_columns]
"public.events" = ["a", "b"]
[sources.pg.reconnect]
max_attempts = 3
initial_backoff = "500ms"
max_backoff = "10s"
backoff_multiplier = 2.0

[[tables]]
source = "pg"
schema = "public"
table = "users"
ttl = { mode = "field", field = "expires_at", check_interval = "30s" }
validation = { post_baseline_row_count = true, periodic_row_count = { enabled = true, interval = "1h" }, on_mismatch = "re_baseline" }
[[tables.targets]]
type = "indexed-memory"
id = "users-by-email"
lookup_fields = ["email"]
additional_indexes = [{ name = "by_city", fields = ["city"], unique = false }]
rebuild = "reset"
buffer = { max_size = 500, max_bytes = "8MiB", policy = "drop_oldest" }
error_handling = { max_retries = 2, retry_backoff_ms = 50, retry_backoff_max_ms = 1000, on_persistent_failure = "stop_source", recover_after = "1m", dead_letter = { enabled = true } }
filters = [{ type = "field-equals", field = "active", value = true }, { type = "field-prefix", field = "email", prefix = "a" }]
transforms = [{ type = "drop-fields", fields = ["secret"] }, { type = "rename-fields", fields = { email = "mail" } }, { type = "add-timestamp", field = "seen_at" }]
[[tables.targets]]
type = "compiled-memory"
compiler = "json"
key_fields = ["id"]
fields = ["id", "email"]
filter = { field = "email", prefix = "b" }

[snapshot]
enabled = true
store = "local"
store_config = { path = "/var/lib/laredo/snapshots" }
serializer = "jsonl"
schedule = "every 6h"
on_shutdown = true
retention = { keep_count = 3 }

[dead_letters]
store = "local"
path = "/var/lib/laredo/dead-letters"
max_size = "16MiB"

[api]
address = "0.0.0.0"
port = 9000
admin_tokens = ["a1"]
read_tokens = ["r1", "r2"]
max_page_size = 50
websocket_queue_size = "1MiB"
[api.limits]
max_header_size = "16KiB"
max_body_size = "64KiB"
request_timeout = "5s"
idle_timeout = "20s"
max_connections = 10

[health]
http_port = 8080
[observability.metrics]
port = 8080
path = "/prom"
[observability.logging]
level = "debug"
format = "json"
[server]
threads = 4
shutdown_timeout = "1m"
drain_grace = "2s"
)";
    testing::temp_dir dir;
    const auto pwfile = (dir.path() / "pw").string();
    std::ofstream(pwfile) << "from-file\n";
    std::string t = text;
    t.replace(t.find("PWFILE"), 6, pwfile);
    const auto r = load_text(t, "full.toml");
    ASSERT_TRUE(r.problems.empty()) << all_problems(r);
    const auto& pg = r.config.sources.at(0).postgres;
    EXPECT_EQ(pg.connection.password, "from-file");
    EXPECT_EQ(pg.mode, sources::postgres::slot_mode::stateful);
    EXPECT_EQ(pg.slot_name, "laredo_01");
    EXPECT_TRUE(pg.always_baseline);
    EXPECT_EQ(pg.status_interval, 5s);
    EXPECT_EQ(pg.publication.name, "my_pub");
    EXPECT_FALSE(pg.publication.create);
    EXPECT_EQ(pg.publication.publish, (std::vector<std::string>{"insert", "update"}));
    EXPECT_EQ(pg.publication.tables.at(table_identifier("public", "users")).row_filter, "active");
    EXPECT_EQ(pg.key_columns.at(table_identifier("public", "events")).size(), 2u);
    EXPECT_EQ(r.config.sources[0].reconnect->max_attempts, 3);
    const auto& table = r.config.tables.at(0);
    EXPECT_EQ(table.ttl_field, "expires_at");
    EXPECT_EQ(table.ttl_check_interval, 30s);
    EXPECT_EQ(table.validation_interval, 1h);
    EXPECT_EQ(table.on_validation_mismatch, validation_action::rebaseline);
    const auto& idx = table.targets.at(0);
    EXPECT_EQ(idx.id, "users-by-email");
    EXPECT_EQ(idx.indexed.lookup_fields, std::vector<std::string>{"email"});
    EXPECT_EQ(idx.indexed.indexes.at(0).name, "by_city");
    EXPECT_EQ(idx.indexed.rebuild, targets::memory::rebuild_mode::reset);
    EXPECT_EQ(idx.buffer_size, 500u);
    EXPECT_EQ(idx.buffer_bytes, 8u << 20);
    EXPECT_EQ(idx.buffer, buffer_policy::drop_oldest);
    EXPECT_EQ(idx.max_retries, 2);
    EXPECT_EQ(idx.retry_initial_backoff, 50ms);
    EXPECT_EQ(idx.on_error, error_policy::stop_source);
    EXPECT_EQ(idx.recover_after, 1min);
    EXPECT_EQ(idx.filters.size(), 2u);
    EXPECT_EQ(idx.filters[0].equals, value(true));
    EXPECT_EQ(idx.transforms.size(), 3u);
    EXPECT_EQ(idx.transforms[1].renames.at(0),
              (std::pair<std::string, std::string>{"email", "mail"}));
    const auto& comp = table.targets.at(1);
    EXPECT_EQ(comp.kind, target_kind::compiled_memory);
    EXPECT_EQ(comp.fields.size(), 2u);
    EXPECT_EQ(comp.compiled_filter->prefix, "b");
    EXPECT_TRUE(r.config.snapshot.enabled);
    EXPECT_EQ(r.config.snapshot.interval, 6h);
    EXPECT_EQ(r.config.snapshot.keep_count, 3u);
    EXPECT_TRUE(r.config.dead_letters.enabled);
    EXPECT_EQ(r.config.dead_letters.max_bytes, 16u << 20);
    EXPECT_EQ(r.config.api.read_tokens.size(), 2u);
    EXPECT_EQ(r.config.api.limits.max_body_bytes, 64u << 10);
    EXPECT_EQ(r.config.api.limits.max_connections, 10u);
    ASSERT_EQ(r.config.listeners.size(), 2u);
    EXPECT_EQ(r.config.listeners[0].port, 9000);
    EXPECT_FALSE(r.config.listeners[0].health);
    EXPECT_TRUE(r.config.listeners[1].health && r.config.listeners[1].metrics);
    EXPECT_EQ(r.config.metrics.path, "/prom");
    EXPECT_EQ(r.config.logging.level, "debug");
    EXPECT_EQ(r.config.runtime.threads, 4);
    EXPECT_EQ(r.config.runtime.drain_grace, 2s);
}

TEST(config_load, unknown_key_names_line_and_suggestion) {
    auto text = minimal + "\n[sources.other]\ntype = \"testsource\"\nslot_nmae = \"x\"\n";
    const auto r = load_text(text, "laredo.toml");
    const auto all = all_problems(r);
    EXPECT_THAT(all, HasSubstr("laredo.toml:18: sources.other.slot_nmae: unknown key 'slot_nmae'"));
    // slot_name is not a key of a test source, so the suggestion comes from its own keys.
    EXPECT_THAT(all, ::testing::Not(HasSubstr("did you mean 'slot_name'")));
}

TEST(config_load, typo_in_a_postgres_key_suggests_the_key) {
    auto text = minimal;
    text.insert(text.find("\n[[tables]]"), "\nslot_nmae = \"x\"\n");
    const auto r = load_text(text, "laredo.toml");
    EXPECT_THAT(
        all_problems(r),
        HasSubstr("sources.pg.slot_nmae: unknown key 'slot_nmae'; did you mean 'slot_name'?"));
}

TEST(config_load, bad_values_name_the_key) {
    auto text = minimal + "[server]\nthreads = \"four\"\nshutdown_timeout = \"30\"\n";
    text.insert(text.find("\n[[tables]]"), "\nslot_mode = \"statefull\"\n");
    const auto r = load_text(text, "bad.toml");
    const auto all = all_problems(r);
    EXPECT_THAT(all, HasSubstr("server.threads: expected an integer, got a string"));
    EXPECT_THAT(all, HasSubstr("server.shutdown_timeout: '30' needs a unit"));
    EXPECT_THAT(all, HasSubstr("sources.pg.slot_mode: unknown value 'statefull'"));
    EXPECT_THAT(all, HasSubstr("did you mean 'stateful'?"));
}

TEST(config_load, refuses_what_it_cannot_honour) {
    const auto text = R"(
[sources.k]
type = "s3-kinesis"
[sources.pg]
type = "postgres"
connection = "dbname=x"
[[tables]]
source = "pgg"
schema = "public"
table = "t"
[[tables.targets]]
type = "kafka"
[[tables]]
source = "pg"
schema = "public"
table = "u"
[[tables.targets]]
type = "indexed-memory"
error_handling = { dead_letter = { enabled = true } }
[snapshot]
store = "s3"
)";
    const auto r = load_text(text, "x.toml");
    const auto all = all_problems(r);
    EXPECT_THAT(all, HasSubstr("sources.k.type: source type 's3-kinesis' is not available"));
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0].type: target type 'kafka' is not available"));
    EXPECT_THAT(all, HasSubstr("tables[0].source: unknown source 'pgg'; did you mean 'pg'?"));
    EXPECT_THAT(all, HasSubstr("dead_letter.enabled: needs a dead-letter store"));
    EXPECT_THAT(all, HasSubstr("snapshot.store: unknown value 's3'"));
    EXPECT_THAT(all, HasSubstr("needs at least one admin token"));
}

TEST(config_load, syntax_error_has_the_line) {
    const auto r = load_text("[sources.pg]\ntype = = 1\n", "broken.toml");
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_THAT(r.problems[0].to_string(), HasSubstr("broken.toml:2: TOML syntax error"));
}

TEST(config_load, environment_beats_file_and_set_beats_environment) {
    std::map<std::string, std::string> env{{"LAREDO_SOURCES_PG_SLOT_NAME", "from_env"},
                                           {"LAREDO_API_PORT", "5000"},
                                           {"LAREDO_SERVER_THREADS", "3"}};
    const auto r = load_text(minimal, "m.toml",
                             {"api.port=6000", "tables[0].targets[0].buffer.max_size=7"}, env);
    ASSERT_TRUE(r.problems.empty()) << all_problems(r);
    EXPECT_EQ(r.config.sources[0].postgres.slot_name, "from_env");
    EXPECT_EQ(r.config.listeners[0].port, 6000);
    EXPECT_EQ(r.config.runtime.threads, 3);
    EXPECT_EQ(r.config.tables[0].targets[0].buffer_size, 7u);
}

TEST(config_load, unknown_environment_override_is_a_problem) {
    std::map<std::string, std::string> env{{"LAREDO_SOURCES_PG_SLOT_NAM", "x"}};
    const auto r = load_text(minimal, "m.toml", {}, env);
    EXPECT_THAT(all_problems(r),
                HasSubstr("environment LAREDO_SOURCES_PG_SLOT_NAM: does not override any key; did "
                          "you mean LAREDO_SOURCES_PG_SLOT_NAME?"));
}

TEST(config_load, bad_override_is_a_problem) {
    const auto r = load_text(minimal, "m.toml", {"novalue"});
    EXPECT_THAT(all_problems(r), HasSubstr("invalid override 'novalue': expected key=value"));
    const auto r2 = load_text(minimal, "m.toml", {"tables[5].source=x"});
    EXPECT_THAT(all_problems(r2), HasSubstr("no element 5"));
}

TEST(config_load, conf_dir_files_merge_in_name_order_and_tables_append) {
    testing::temp_dir dir;
    std::ofstream(dir.path() / "main.toml") << minimal;
    std::filesystem::create_directory(dir.path() / "conf.d");
    std::ofstream(dir.path() / "conf.d" / "20-more.toml")
        << "[api]\nport = 7002\n[[tables]]\nsource = \"pg\"\nschema = \"public\"\ntable = "
           "\"orders\"\n"
           "[[tables.targets]]\ntype = \"indexed-memory\"\n";
    std::ofstream(dir.path() / "conf.d" / "10-first.toml") << "[api]\nport = 7001\n";
    std::ofstream(dir.path() / "conf.d" / "ignored.conf") << "this is not toml";
    load_options o;
    o.config_file = dir.path() / "main.toml";
    o.conf_dir = dir.path() / "conf.d";
    const auto r = load(o);
    ASSERT_TRUE(r.problems.empty()) << all_problems(r);
    EXPECT_EQ(r.files.size(), 3u);
    EXPECT_EQ(r.config.listeners[0].port, 7002);
    ASSERT_EQ(r.config.tables.size(), 2u);
    EXPECT_EQ(r.config.tables[1].table.table, "orders");
}

TEST(config_load, secrets_never_appear_in_the_effective_configuration) {
    ::setenv("LAREDO_TEST_READ_TOKEN", "read-from-env", 1);
    auto text = minimal + "read_tokens_env = \"LAREDO_TEST_READ_TOKEN\"\n";
    const auto r = load_text(text, "m.toml");
    ASSERT_TRUE(r.problems.empty()) << all_problems(r);
    EXPECT_EQ(r.config.api.read_tokens.at(0).value, "read-from-env");
    EXPECT_THAT(r.effective, ::testing::Not(HasSubstr("hunter2")));
    EXPECT_THAT(r.effective, ::testing::Not(HasSubstr("admin-secret")));
    EXPECT_THAT(r.effective, HasSubstr("***"));
    for (const auto& p : r.problems)
        EXPECT_THAT(p.to_string(), ::testing::Not(HasSubstr("hunter2")));
}

TEST(config_load, missing_secret_variable_and_bad_connection_are_problems) {
    auto text = minimal + "read_tokens_env = \"LAREDO_TEST_UNSET_VARIABLE\"\n";
    text.replace(text.find("host=127.0.0.1"), 14, "host=127.0.0.1 nosuchkey=1 password=zzz");
    const auto r = load_text(text, "m.toml");
    const auto all = all_problems(r);
    EXPECT_THAT(
        all,
        HasSubstr(
            "api.read_tokens_env: environment variable LAREDO_TEST_UNSET_VARIABLE is not set"));
    EXPECT_THAT(all, HasSubstr("sources.pg.connection:"));
    EXPECT_THAT(all, ::testing::Not(HasSubstr("zzz")));
}

TEST(config_load, testsource_tables_with_typed_rows) {
    const auto text = R"(
[sources.demo]
type = "testsource"
positions = "pair"
[[sources.demo.tables]]
schema = "public"
table = "items"
columns = [{ name = "id", type = "int8", key = true }, { name = "name" }, { name = "day", type = "date" }]
rows = [{ id = 1, name = "one", day = "2024-01-02" }, { id = 2, name = "two" }]
[[tables]]
source = "demo"
schema = "public"
table = "items"
[[tables.targets]]
type = "indexed-memory"
[api]
admin_tokens = ["x"]
)";
    const auto r = load_text(text, "t.toml");
    ASSERT_TRUE(r.problems.empty()) << all_problems(r);
    const auto& ts = r.config.sources.at(0).testsource;
    EXPECT_TRUE(ts.pair_positions);
    ASSERT_EQ(ts.tables.at(0).rows.size(), 2u);
    EXPECT_EQ(ts.tables[0].rows[0][0], value(std::int64_t{1}));
    EXPECT_EQ(ts.tables[0].rows[0][2].get_type(), value::type::date);
    EXPECT_TRUE(ts.tables[0].rows[1][2].is_null());
    EXPECT_TRUE(ts.tables[0].columns[0].primary_key);
}

}  // namespace
}  // namespace laredo::server::config
