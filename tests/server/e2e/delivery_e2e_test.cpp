// laredo-server end to end with the targets that deliver a table elsewhere: the real binary
// against the harness PostgreSQL, one table with an http-sync target (POSTing to a receiver
// this test runs, Beast on loopback) and a replication-fanout target (followed by a replica
// client over the server's /v1/replication route).

#include "client.hpp"

#include "laredo/json/values.hpp"
#include "laredo/replica/client.hpp"
#include "pg_cluster_environment.hpp"
#include "temp_dir.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <mutex>
#include <thread>

namespace laredo::server::testing {
namespace {

using namespace std::chrono_literals;
using laredo::testing::shared_pg_cluster;
using ::testing::HasSubstr;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using asio::ip::tcp;

constexpr const char* admin_token = "delivery-admin-token";
constexpr const char* read_token = "delivery-read-token";
constexpr const char* table_name = "public.delivery_items";

void sql(const std::string& statements) { shared_pg_cluster().exec(statements); }

// An HTTP endpoint on 127.0.0.1 that answers every POST 200 and keeps (path, body) of each,
// for the http-sync target to deliver to. Runs on a thread of its own.
class receiver {
  public:
    receiver() : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(ioc_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~receiver() {
        ioc_.stop();
        thread_.join();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    struct request {
        std::string path;
        json::value body;
    };
    std::vector<request> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

  private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] =
                co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            asio::co_spawn(ioc_, serve(beast::tcp_stream(std::move(socket))), asio::detached);
        }
    }
    asio::awaitable<void> serve(beast::tcp_stream stream) {
        beast::flat_buffer buffer;
        for (;;) {
            bhttp::request<bhttp::string_body> req;
            auto [ec, n] = co_await bhttp::async_read(stream, buffer, req,
                                                      asio::as_tuple(asio::use_awaitable));
            if (ec) co_return;
            {
                std::lock_guard lock(mutex_);
                requests_.push_back({std::string(req.target()), json::parse(req.body())});
            }
            bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
            res.set(bhttp::field::content_type, "application/json");
            res.body() = "{}";
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            auto [wec, wn] =
                co_await bhttp::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
            if (wec || !req.keep_alive()) co_return;
        }
    }

    asio::io_context ioc_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<request> requests_;
};

std::string config_text(std::uint16_t receiver_port) {
    auto& pg = shared_pg_cluster();
    return R"(
[sources.pg]
type = "postgres"
connection = "host=127.0.0.1 port=)" +
           std::to_string(pg.port()) + R"( user=postgres dbname=postgres"
slot_name = "delivery_e2e_slot"
status_interval = "1s"
[sources.pg.publication]
name = "delivery_e2e_pub"

[[tables]]
source = "pg"
schema = "public"
table = "delivery_items"
[[tables.targets]]
type = "http-sync"
id = "items-hook"
base_url = "http://127.0.0.1:)" +
           std::to_string(receiver_port) + R"(/hook"
flush_interval = "50ms"
timeout_ms = 5000
retry_count = 3
headers = { X-Test = "delivery" }
[[tables.targets]]
type = "replication-fanout"
id = "items-replicas"
heartbeat_interval = "1s"
journal = { max_entries = 1000 }

[api]
port = 0
admin_tokens = [")" +
           std::string(admin_token) + R"("]
read_tokens = [")" +
           std::string(read_token) + R"("]

[server]
drain_grace = "500ms"

[observability.logging]
format = "json"
)";
}

class delivery_e2e : public ::testing::Test {
  public:
    static void SetUpTestSuite() {
        sql("DROP TABLE IF EXISTS delivery_items;"
            "CREATE TABLE delivery_items (id bigint PRIMARY KEY, name text);"
            "INSERT INTO delivery_items SELECT g, 'item' || g FROM generate_series(1, 3) g;");
        receiver_ = new receiver();
        dir_ = new laredo::testing::temp_dir("laredo-delivery-e2e");
        const auto file = dir_->path() / "laredo.toml";
        std::ofstream(file) << config_text(receiver_->port());
        process_ = new server_process({"--config", file.string()}, dir_->path());
        api_ = process_->port_of("api");
        const bool ready = eventually(
            [] { return http_request(api_, "GET", "/health/ready").status == 200; }, 60s);
        ASSERT_TRUE(ready) << process_->log();
    }
    static void TearDownTestSuite() {
        delete process_;
        process_ = nullptr;
        delete dir_;
        dir_ = nullptr;
        delete receiver_;
        receiver_ = nullptr;
    }

  protected:
    static http_result get(const std::string& target) {
        return http_request(api_, "GET", target, read_token);
    }
    // Every row the receiver was sent for the table: baseline rows and inserted rows by id.
    static std::map<std::int64_t, std::string> delivered_rows() {
        std::map<std::int64_t, std::string> out;
        for (const auto& r : receiver_->requests()) {
            auto add = [&](const json::value& row) {
                out[row.at("id").to_number<std::int64_t>()] =
                    std::string(row.at("name").as_string());
            };
            if (r.path == "/hook/baseline/batch")
                for (const auto& row : r.body.at("rows").as_array()) add(row);
            if (r.path == "/hook/changes")
                for (const auto& change : r.body.as_array())
                    if (change.at("action") == "INSERT") add(change.at("row"));
        }
        return out;
    }

    static inline receiver* receiver_ = nullptr;
    static inline laredo::testing::temp_dir* dir_ = nullptr;
    static inline server_process* process_ = nullptr;
    static inline std::uint16_t api_ = 0;
};

TEST_F(delivery_e2e, http_sync_posts_the_baseline_then_the_changes) {
    ASSERT_TRUE(eventually([] { return delivered_rows().size() == 3; })) << process_->log();
    const auto first = receiver_->requests();
    ASSERT_FALSE(first.empty());
    EXPECT_EQ(first.front().path, "/hook/baseline/start");
    EXPECT_EQ(first.front().body.at("table"), table_name);
    bool completed = false;
    for (const auto& r : first)
        if (r.path == "/hook/baseline/complete") {
            completed = true;
            EXPECT_EQ(r.body.at("rows"), 3);
            // The source's own form of a position: an LSN.
            EXPECT_THAT(std::string(r.body.at("position").as_string()), HasSubstr("/"));
        }
    EXPECT_TRUE(completed);

    sql("INSERT INTO delivery_items VALUES (4, 'four')");
    ASSERT_TRUE(eventually([] { return delivered_rows().count(4) == 1; })) << process_->log();
    EXPECT_EQ(delivered_rows().at(4), "four");
    EXPECT_EQ(receiver_->requests().back().path, "/hook/changes");
}

TEST_F(delivery_e2e, status_and_metrics_show_both_pipelines_and_queries_say_why_not) {
    const auto pipelines = get("/v1/pipelines");
    ASSERT_EQ(pipelines.status, 200u) << pipelines.body;
    EXPECT_THAT(pipelines.body, HasSubstr("\"items-hook\""));
    EXPECT_THAT(pipelines.body, HasSubstr("\"items-replicas\""));
    const auto tables = get("/v1/tables");
    EXPECT_THAT(tables.body, HasSubstr("\"http-sync\""));
    EXPECT_THAT(tables.body, HasSubstr("\"replication-fanout\""));

    const auto rows = get("/v1/tables/public.delivery_items/rows");
    EXPECT_EQ(rows.status, 400u) << rows.body;
    EXPECT_EQ(rows.json().at("error").at("code"), "not_queryable");
    EXPECT_EQ(get("/v1/watch/tables/public.delivery_items").status, 426u);

    ASSERT_TRUE(eventually([] {
        return get("/metrics")
                   .body.find(
                       "laredo_httpsync_batches_sent_total{pipeline=\"items-"
                       "hook\"") != std::string::npos;
    }));
    const auto metrics = get("/metrics").body;
    EXPECT_THAT(metrics,
                HasSubstr("laredo_httpsync_request_seconds_bucket{pipeline=\"items-hook\""));
    EXPECT_THAT(metrics, HasSubstr("laredo_fanout_journal_entries{pipeline=\"items-replicas\""));
    EXPECT_THAT(metrics, HasSubstr("laredo_fanout_clients{pipeline=\"items-replicas\""));
}

TEST_F(delivery_e2e, replication_needs_the_read_token_and_a_fanout_table) {
    const auto plain = get("/v1/replication/public.delivery_items");
    EXPECT_EQ(plain.status, 426u) << plain.body;
    EXPECT_EQ(http_request(api_, "GET", "/v1/replication/public.delivery_items").status, 401u);
    // An upgrade for a table without a fan-out target is refused before any WebSocket.
    EXPECT_THROW(ws_client(api_, "/v1/replication/public.nothing", read_token), std::exception);
}

TEST_F(delivery_e2e, a_replica_client_ends_equal_to_the_table) {
    asio::io_context ioc;
    replica::client_options o;
    o.servers = {"ws://127.0.0.1:" + std::to_string(api_) + "/v1/replication/" + table_name};
    o.token = read_token;
    o.client_id = "e2e-replica";
    replica::client client(ioc.get_executor(), o);
    client.start();
    std::thread runner([&ioc] {
        auto guard = asio::make_work_guard(ioc);
        ioc.run();
    });
    ASSERT_TRUE(eventually([&] { return client.ready(); })) << process_->log();

    sql("INSERT INTO delivery_items VALUES (5, 'five'); UPDATE delivery_items SET name = 'one!' "
        "WHERE id = 1");
    // The table as PostgreSQL has it, id -> name.
    auto table = [] {
        std::map<std::int64_t, std::string> out;
        const auto text = shared_pg_cluster().query_value(
            "SELECT string_agg(id || '=' || name, ',' ORDER BY id) FROM delivery_items");
        std::size_t start = 0;
        while (start < text.size()) {
            auto end = text.find(',', start);
            if (end == std::string::npos) end = text.size();
            const auto item = text.substr(start, end - start);
            const auto eq = item.find('=');
            out[std::stoll(item.substr(0, eq))] = item.substr(eq + 1);
            start = end + 1;
        }
        return out;
    };
    auto replica_rows = [&] {
        std::map<std::int64_t, std::string> out;
        for (const auto& r : client.rows())
            out[r.at("id").get<std::int64_t>()] = *r.at("name").text_if();
        return out;
    };
    ASSERT_TRUE(eventually([&] { return replica_rows() == table(); }))
        << "replica has " << replica_rows().size() << " rows";
    EXPECT_EQ(replica_rows().at(5), "five");
    EXPECT_EQ(client.status().mode, "FULL_SNAPSHOT");

    // The server lists the client while it is connected.
    const std::string labels =
        "{pipeline=\"items-replicas\",source=\"pg\",table=\"public.delivery_items\"}";
    EXPECT_THAT(get("/metrics").body, HasSubstr("laredo_fanout_clients" + labels + " 1"));

    // A drain without shutdown sends the client GoAway; its next connection is refused while
    // the server drains. Undrained, it resumes by position and follows the table again.
    auto metric = [&](const std::string& line) {
        return get("/metrics").body.find(line) != std::string::npos;
    };
    ASSERT_EQ(http_request(api_, "POST", "/v1/drain", admin_token, R"({"shutdown": false})").status,
              202u);
    EXPECT_TRUE(eventually([&] { return metric("laredo_fanout_draining" + labels + " 1"); }));
    EXPECT_TRUE(eventually([&] {
        return client.status().last_error.find("draining") != std::string::npos;
    })) << client.status().last_error;
    ASSERT_EQ(http_request(api_, "DELETE", "/v1/drain", admin_token).status, 200u);
    EXPECT_TRUE(eventually([&] { return metric("laredo_fanout_draining" + labels + " 0"); }));
    sql("INSERT INTO delivery_items VALUES (6, 'six')");
    ASSERT_TRUE(eventually([&] { return replica_rows() == table(); }))
        << "replica has " << replica_rows().size() << " rows; " << client.status().last_error;
    EXPECT_EQ(replica_rows().at(6), "six");

    auto stopped = asio::co_spawn(ioc, client.stop(), asio::use_future);
    stopped.get();
    ioc.stop();
    runner.join();
}

// Last: SIGTERM drains (replication clients are sent GoAway) and the server exits 0 with a
// replica still connected.
TEST_F(delivery_e2e, zz_drain_with_a_replica_connected_exits_cleanly) {
    ws_client replica(api_, std::string("/v1/replication/") + table_name, read_token);
    // The client says nothing: the server waits for its sync request; the drain still ends it.
    process_->signal(SIGTERM);
    EXPECT_EQ(process_->wait(60s), 0) << process_->log();
}

}  // namespace
}  // namespace laredo::server::testing
