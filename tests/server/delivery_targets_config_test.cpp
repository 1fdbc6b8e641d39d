// The configuration of the targets that deliver a table elsewhere: `http-sync` and
// `replication-fanout`. Every key read, Go names accepted, bad keys and values named,
// credentials never in the effective configuration, and the wiring builds both.

#include "laredo/server/config/load.hpp"
#include "laredo/server/wiring/wiring.hpp"

#include "config_problems.hpp"
#include "temp_dir.hpp"

#include <boost/asio/io_context.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

namespace laredo::server::config {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

// A test source and one table whose target is `target` (the lines after [[tables.targets]]).
std::string with_target(const std::string& target) {
    return R"(
[sources.demo]
type = "testsource"
[[sources.demo.tables]]
schema = "public"
table = "items"
columns = [{ name = "id", type = "int8", key = true }, { name = "name" }]
[[tables]]
source = "demo"
schema = "public"
table = "items"
[[tables.targets]]
)" + target +
           R"(
[api]
admin_tokens = ["x"]
)";
}

TEST(config_http_sync, every_key_is_read) {
    ::setenv("LAREDO_TEST_HTTPSYNC_TOKEN", "token-from-env", 1);
    const auto r = load_text(with_target(R"(
type = "http-sync"
id = "items-webhook"
base_url = "http://127.0.0.1:9000/hooks"
batch_size = 50
batch_bytes = "256KiB"
flush_interval = "250ms"
connect_timeout = "3s"
request_timeout = "7s"
max_retries = 4
retry_initial_backoff = "50ms"
retry_max_backoff = "2s"
retry_jitter = 0.5
max_retry_after = "30s"
bearer_token_env = "LAREDO_TEST_HTTPSYNC_TOKEN"
idempotency_keys = true
on_schema_change = "continue"
headers = { X-Tenant = "acme", X-Api-Key = "header-secret" }
)"),
                             "h.toml");
    ASSERT_TRUE(r.problems.empty()) << all_problems(r);
    const auto& t = r.config.tables.at(0).targets.at(0);
    EXPECT_EQ(t.kind, target_kind::http_sync);
    EXPECT_EQ(t.id, "items-webhook");
    const auto& o = t.http_sync;
    EXPECT_EQ(o.base_url, "http://127.0.0.1:9000/hooks");
    EXPECT_EQ(o.batch_size, 50u);
    EXPECT_EQ(o.batch_bytes, 256u * 1024);
    EXPECT_EQ(o.flush_interval, 250ms);
    EXPECT_EQ(o.connect_timeout, 3s);
    EXPECT_EQ(o.request_timeout, 7s);
    EXPECT_EQ(o.max_retries, 4);
    EXPECT_EQ(o.retry_initial_backoff, 50ms);
    EXPECT_EQ(o.retry_max_backoff, 2s);
    EXPECT_DOUBLE_EQ(o.retry_jitter, 0.5);
    EXPECT_EQ(o.max_retry_after, 30s);
    EXPECT_EQ(o.bearer_token_env, "LAREDO_TEST_HTTPSYNC_TOKEN");
    EXPECT_TRUE(o.idempotency_keys);
    EXPECT_EQ(o.on_schema_change, schema_change_action::continue_);
    EXPECT_EQ(o.headers.at("X-Tenant"), "acme");
    EXPECT_THAT(r.effective, Not(HasSubstr("header-secret")));
}

TEST(config_http_sync, go_names_and_defaults) {
    const auto r = load_text(with_target(R"(
type = "http-sync"
base_url = "https://sink.example:8443"
timeout_ms = 1500
retry_count = 2
bearer_token = "inline-bearer-secret"
tls = { ca_file = "/dev/null" }
)"),
                             "h.toml");
    ASSERT_TRUE(r.problems.empty()) << all_problems(r);
    const auto& o = r.config.tables.at(0).targets.at(0).http_sync;
    EXPECT_EQ(o.request_timeout, 1500ms);
    EXPECT_EQ(o.max_retries, 2);
    EXPECT_EQ(o.ca_file, "/dev/null");
    EXPECT_EQ(o.batch_size, 100u);  // the library's default
    EXPECT_EQ(o.bearer_token, "inline-bearer-secret");
    EXPECT_THAT(r.effective, Not(HasSubstr("inline-bearer-secret")));
    EXPECT_THAT(r.effective, HasSubstr("***"));
}

TEST(config_http_sync, bad_keys_and_values_name_the_key) {
    const auto r = load_text(with_target(R"(
type = "http-sync"
base_url = "ftp://nowhere"
batch_sise = 10
request_timeout = "5s"
timeout_ms = 5000
on_schema_change = "rebasline"
auth_header_env = "LAREDO_TEST_UNSET_HTTPSYNC_VARIABLE"
auth_header = "Basic c2VjcmV0LWF1dGg="
tls = { ca_fille = "x" }
)"),
                             "bad.toml");
    const auto all = all_problems(r);
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0].batch_sise: unknown key 'batch_sise'; did "
                               "you mean 'batch_size'?"));
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0].timeout_ms: the same setting as "
                               "`request_timeout`: keep one"));
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0].on_schema_change: unknown value "
                               "'rebasline'"));
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0].auth_header_env: environment variable "
                               "LAREDO_TEST_UNSET_HTTPSYNC_VARIABLE is not set"));
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0].tls.ca_fille: unknown key 'ca_fille'; did "
                               "you mean 'ca_file'?"));
    // The library's checks, reported at the target: the URL and the two credentials.
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0]: invalid httpsync options"));
    EXPECT_THAT(all, HasSubstr("give at most one of auth_header"));
    EXPECT_THAT(all, Not(HasSubstr("c2VjcmV0LWF1dGg")));
    EXPECT_THAT(r.effective, Not(HasSubstr("c2VjcmV0LWF1dGg")));
}

TEST(config_http_sync, base_url_is_required_and_typos_of_the_type_are_suggested) {
    const auto r = load_text(with_target("type = \"http-sink\"\n"), "t.toml");
    EXPECT_THAT(all_problems(r), HasSubstr("did you mean 'http-sync'?"));
    const auto r2 = load_text(with_target("type = \"http-sync\"\n"), "t.toml");
    EXPECT_THAT(all_problems(r2),
                HasSubstr("tables[0].targets[0]: an http-sync target needs `base_url`"));
}

TEST(config_replication_fanout, every_key_is_read) {
    const auto r = load_text(with_target(R"(
type = "replication-fanout"
key_fields = ["id"]
max_clients = 20
heartbeat_interval = "2s"
snapshot_rows_per_message = 100
entries_per_message = 64
journal = { max_entries = 5000, max_bytes = "8MiB", max_age = "1h" }
snapshot = { interval = "10m", keep_count = 3, max_age = "2h" }
client_buffer = { max_bytes = "2MiB", policy = "slow_down", max_lag_entries = 1000 }
)"),
                             "f.toml");
    ASSERT_TRUE(r.problems.empty()) << all_problems(r);
    const auto& t = r.config.tables.at(0).targets.at(0);
    EXPECT_EQ(t.kind, target_kind::replication_fanout);
    const auto& o = t.fanout;
    EXPECT_EQ(o.key_columns, std::vector<std::string>{"id"});
    EXPECT_EQ(o.clients.max_clients, 20u);
    EXPECT_EQ(o.clients.heartbeat_interval, 2s);
    EXPECT_EQ(o.clients.snapshot_rows_per_message, 100u);
    EXPECT_EQ(o.clients.entries_per_message, 64u);
    EXPECT_EQ(o.journal.max_entries, 5000u);
    EXPECT_EQ(o.journal.max_bytes, 8u << 20);
    EXPECT_EQ(o.journal.max_age, 1h);
    EXPECT_EQ(o.snapshots.interval, 10min);
    EXPECT_EQ(o.snapshots.keep_count, 3u);
    EXPECT_EQ(o.snapshots.max_age, 2h);
    EXPECT_EQ(o.clients.queue_bytes, 2u << 20);
    EXPECT_EQ(o.clients.policy, targets::fanout::slow_client_policy::slow_down);
    EXPECT_EQ(o.clients.max_lag_entries, 1000u);
}

TEST(config_replication_fanout, bad_keys_and_values_name_the_key) {
    const auto r = load_text(with_target(R"(
type = "replication-fanout"
max_client = 3
journal = { max_entries = 0, max_ages = "1h" }
client_buffer = { policy = "slowdown", max_bytes = 10 }
heartbeat_interval = "0ms"
)"),
                             "bad.toml");
    const auto all = all_problems(r);
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0].max_client: unknown key 'max_client'; did "
                               "you mean 'max_clients'?"));
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0].journal.max_entries:"));
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0].journal.max_ages: unknown key"));
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0].client_buffer.policy: unknown value "
                               "'slowdown'"));
    EXPECT_THAT(all, HasSubstr("did you mean 'slow_down'?"));
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0].client_buffer.max_bytes: must be at least"));
    EXPECT_THAT(all, HasSubstr("tables[0].targets[0].heartbeat_interval: must be positive"));
}

TEST(wiring_delivery_targets, builds_both_and_names_their_pipelines) {
    auto text = with_target(R"(
type = "http-sync"
base_url = "http://127.0.0.1:9/x"
[[tables.targets]]
type = "replication-fanout"
)");
    const auto r = load_text(text, "w.toml");
    ASSERT_TRUE(r.problems.empty()) << all_problems(r);
    boost::asio::io_context ioc;
    auto rt = wiring::build(r.config, ioc.get_executor(), ioc.get_executor(), nullptr);
    ASSERT_EQ(rt.targets.size(), 2u);
    EXPECT_EQ(rt.targets[0].pipeline_id, "demo:public.items:httpsync");
    EXPECT_TRUE(rt.targets[0].http_sync);
    EXPECT_FALSE(rt.targets[0].queryable());
    EXPECT_FALSE(rt.targets[0].row_count());
    EXPECT_EQ(rt.targets[1].pipeline_id, "demo:public.items:fanout");
    EXPECT_TRUE(rt.targets[1].fanout);
    EXPECT_EQ(rt.targets[1].row_count(), 0u);
}

TEST(wiring_delivery_targets, unreadable_credential_file_is_a_problem_naming_the_target) {
    testing::temp_dir dir;
    const auto token = dir.path() / "token";
    std::ofstream(token) << "file-secret\n";
    auto text = with_target(
        "type = \"http-sync\"\nbase_url = \"http://127.0.0.1:9/x\"\n"
        "bearer_token_file = \"" +
        token.string() + "\"\n");
    auto r = load_text(text, "w.toml");
    ASSERT_TRUE(r.problems.empty()) << all_problems(r);
    std::filesystem::remove(token);  // gone by the time the server builds the target
    boost::asio::io_context ioc;
    try {
        wiring::build(r.config, ioc.get_executor(), ioc.get_executor(), nullptr);
        FAIL() << "expected a config_error";
    } catch (const config_error& e) {
        ASSERT_EQ(e.problems().size(), 1u);
        EXPECT_THAT(e.problems()[0], HasSubstr("tables[0].targets[0]: "));
        EXPECT_THAT(e.problems()[0], Not(HasSubstr("file-secret")));
    }
}

}  // namespace
}  // namespace laredo::server::config
