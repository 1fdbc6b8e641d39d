#include "lookup_server.hpp"

#include "laredo/engine.hpp"
#include "laredo/sources/testsource/test_source.hpp"
#include "laredo/targets/memory/indexed_target.hpp"
#include "laredo/testing/async.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <array>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using namespace laredo;
using namespace std::chrono_literals;
using sources::testsource::test_source;
using targets::memory::indexed_target;
using targets::memory::indexed_target_options;

const table_identifier users{"public", "users"};

struct http_reply {
    unsigned status = 0;
    json::value body;
};

// One keep-alive HTTP/1.1 client connection over loopback.
class client {
  public:
    explicit client(tcp::socket socket) : socket_(std::move(socket)) {}

    awaitable<http_reply> request(http::verb verb, std::string target) {
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, "127.0.0.1");
        req.keep_alive(true);
        req.prepare_payload();
        co_await http::async_write(socket_, req, use_awaitable);
        http::response<http::string_body> res;
        co_await http::async_read(socket_, buffer_, res, use_awaitable);
        http_reply out;
        out.status = res.result_int();
        out.body = json::parse(res.body());
        co_return out;
    }
    awaitable<http_reply> get(std::string target) {
        co_return co_await request(http::verb::get, std::move(target));
    }

  private:
    tcp::socket socket_;
    beast::flat_buffer buffer_;
};

awaitable<client> connect(std::uint16_t port) {
    tcp::socket socket(co_await asio::this_coro::executor);
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    co_await socket.async_connect(ep, use_awaitable);
    co_return client(std::move(socket));
}

// Sends raw bytes and reads until the server closes; true when it closed without answering.
awaitable<bool> closed_without_reply(std::uint16_t port, std::string bytes) {
    tcp::socket socket(co_await asio::this_coro::executor);
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    co_await socket.async_connect(ep, use_awaitable);
    // The server may reset the connection before it has read everything: not a failure here.
    boost::system::error_code ec;
    co_await asio::async_write(socket, asio::buffer(bytes),
                               asio::redirect_error(use_awaitable, ec));
    std::array<char, 512> buf{};
    const auto n =
        co_await socket.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
    co_return n == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset);
}

std::string error_code_of(const http_reply& r) {
    return json::value_to<std::string>(r.body.at("error").at("code"));
}

TEST(http_lookup_server, serves_lookups_from_the_indexed_target_over_http) {
    laredo::testing::run_async(1, 30s, [](asio::io_context& ctx) -> awaitable<void> {
        auto source = std::make_shared<test_source>(ctx.get_executor());
        std::vector<column_definition> columns{
            {.name = "id", .type = "int8", .primary_key = true, .primary_key_ordinal = 1},
            {.name = "name", .type = "text"},
            {.name = "score", .type = "float8"},
        };
        source->set_schema(users, columns);
        source->add_row(users,
                        source->make_row(users, {{"id", 1}, {"name", "Ann"}, {"score", 1.5}}));
        source->add_row(users, source->make_row(users, {{"id", 2}, {"name", "Bob"}}));
        indexed_target_options topts;
        topts.indexes.push_back({.name = "by_name", .fields = {"name"}, .unique = false});
        auto target = std::make_shared<indexed_target>(topts);
        auto eng = engine::builder()
                       .add_source("test", source)
                       .add_pipeline("test", users, target)
                       .build(ctx.get_executor());

        examples::lookup_server server(ctx.get_executor(), eng);
        server.start();
        EXPECT_NE(server.local_port(), 0);
        auto c = co_await connect(server.local_port());
        auto r = co_await c.get("/health/ready");
        EXPECT_EQ(r.status, 503u);  // the engine has not started yet

        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);

        r = co_await c.get("/health/ready");
        EXPECT_EQ(r.status, 200u);
        EXPECT_EQ(r.body.at("ready"), json::value(true));

        r = co_await c.get("/v1/tables");
        EXPECT_EQ(r.status, 200u);
        EXPECT_EQ(r.body.as_array().size(), 1u);
        if (r.body.as_array().size() == 1) {
            EXPECT_EQ(r.body.at(0).at("table"), json::value("public.users"));
            EXPECT_EQ(r.body.at(0).at("source"), json::value("test"));
            EXPECT_EQ(r.body.at(0).at("target_type"), json::value("memory.indexed"));
        }

        r = co_await c.get("/v1/tables/public.users/count");
        EXPECT_EQ(r.status, 200u);
        EXPECT_EQ(r.body.at("count").to_number<std::int64_t>(), 2);

        r = co_await c.get("/v1/tables/public.users/rows/1");
        EXPECT_EQ(r.status, 200u);
        EXPECT_EQ(r.body.at("id"), json::value(std::int64_t{1}));
        EXPECT_EQ(r.body.at("name"), json::value("Ann"));
        EXPECT_EQ(r.body.at("score"), json::value(1.5));

        r = co_await c.get("/v1/tables/public.users/rows/2");
        EXPECT_EQ(r.status, 200u);
        EXPECT_TRUE(r.body.at("score").is_null());

        r = co_await c.get("/v1/tables/public.users/rows/99");
        EXPECT_EQ(r.status, 404u);
        EXPECT_EQ(error_code_of(r), "not_found");

        r = co_await c.get("/v1/tables/public.users/rows/abc");
        EXPECT_EQ(r.status, 400u);
        EXPECT_EQ(error_code_of(r), "bad_key");

        r = co_await c.get("/v1/tables/public.nope/count");
        EXPECT_EQ(r.status, 404u);
        EXPECT_EQ(error_code_of(r), "unknown_table");
        EXPECT_NE(json::value_to<std::string>(r.body.at("error").at("message")).find("public.nope"),
                  std::string::npos);

        r = co_await c.get("/v1/tables/nodot/count");
        EXPECT_EQ(r.status, 400u);

        r = co_await c.get("/v1/tables/public.users/index/by_name/Bob");
        EXPECT_EQ(r.status, 200u);
        EXPECT_EQ(r.body.as_array().size(), 1u);
        if (r.body.as_array().size() == 1) {
            EXPECT_EQ(r.body.at(0).at("id"), json::value(std::int64_t{2}));
        }

        r = co_await c.get("/v1/tables/public.users/index/by_nothing/Bob");
        EXPECT_EQ(r.status, 404u);
        EXPECT_EQ(error_code_of(r), "unknown_index");

        r = co_await c.get("/elsewhere");
        EXPECT_EQ(r.status, 404u);

        r = co_await c.request(http::verb::post, "/v1/tables/public.users/count");
        EXPECT_EQ(r.status, 405u);

        // A row inserted upstream shows up over HTTP once the pipeline applied it.
        source->insert(users, source->make_row(users, {{"id", 3}, {"name", "Cid"}}));
        bool appeared = false;
        for (int i = 0; i < 2000 && !appeared; ++i) {
            r = co_await c.get("/v1/tables/public.users/rows/3");
            appeared = r.status == 200;
            if (!appeared) co_await laredo::testing::sleep_for(5ms);
        }
        EXPECT_TRUE(appeared);
        if (appeared) {
            EXPECT_EQ(r.body.at("name"), json::value("Cid"));
        }

        // A malformed request, and a header beyond the parser's limit, close the connection.
        EXPECT_TRUE(co_await closed_without_reply(server.local_port(), "NOT HTTP AT ALL\r\n\r\n"));
        const std::string huge = "GET / HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'a');
        EXPECT_TRUE(co_await closed_without_reply(server.local_port(), huge));

        // stop() closes the open keep-alive connection: the next request fails.
        server.stop();
        bool failed = false;
        try {
            co_await c.get("/health/ready");
        } catch (const boost::system::system_error&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
        co_await eng.async_stop(use_awaitable);
    });
}

}  // namespace
