// Pieces of the server without a running server: the OpenAPI document against the routes,
// URL parsing, the metrics exposition, the log line format, the WebSocket feed's byte limit.

#include "laredo/json/values.hpp"
#include "laredo/server/api/context.hpp"
#include "laredo/server/config/load.hpp"
#include "laredo/server/http/feed.hpp"
#include "laredo/server/http/message.hpp"
#include "laredo/server/logging/logger.hpp"
#include "laredo/server/metrics/exposition.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include <set>

namespace laredo::server {
namespace {

using ::testing::HasSubstr;

config::server_config any_config() {
    return config::load_text(R"(
[sources.t]
type = "testsource"
[[sources.t.tables]]
table = "x"
columns = [{ name = "id", key = true }]
[[tables]]
source = "t"
schema = "public"
table = "x"
[[tables.targets]]
type = "indexed-memory"
[api]
admin_tokens = ["a"]
)",
                             "t.toml")
        .config;
}

// OpenAPI writes a trailing {x*} (one or more segments) as {x}.
std::string openapi_path(std::string pattern) {
    if (auto star = pattern.find("*}"); star != std::string::npos) pattern.erase(star, 1);
    return pattern;
}

TEST(openapi, documents_exactly_the_v1_routes_with_their_access) {
    const auto doc = laredo::json::parse(api::openapi_document()).as_object();
    EXPECT_EQ(std::string(doc.at("openapi").as_string()).substr(0, 2), "3.");
    std::set<std::pair<std::string, std::string>> documented;
    for (const auto& [path, item] : doc.at("paths").as_object())
        for (const auto& [method, op] : item.as_object()) {
            std::string upper(method);
            for (auto& c : upper)
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            documented.insert({upper, std::string(path)});
            EXPECT_TRUE(op.as_object().contains("responses")) << path;
        }
    std::set<std::pair<std::string, std::string>> served;
    for (const auto& r : api::make_routes(any_config())) {
        if (r.where != api::group::api) continue;
        const auto path = openapi_path(r.pattern);
        served.insert({r.method, path});
        const auto& op = doc.at("paths").at(path).at([&] {
            std::string m = r.method;
            for (auto& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return m;
        }());
        EXPECT_EQ(op.at("x-laredo-access"), r.need == api::access::admin ? "admin" : "read")
            << r.method << " " << r.pattern;
    }
    EXPECT_EQ(documented, served);
}

TEST(http_message, target_parsing_decodes_segments_and_query) {
    std::vector<std::string> segments;
    std::multimap<std::string, std::string> query;
    ASSERT_TRUE(http::parse_target(
        "/v1/tables/public.t/rows/a%2Fb/x?limit=5&eq=name%3Aann+lee&eq=x:y", segments, query));
    EXPECT_EQ(segments, (std::vector<std::string>{"v1", "tables", "public.t", "rows", "a/b", "x"}));
    EXPECT_EQ(query.count("eq"), 2u);
    EXPECT_EQ(query.find("limit")->second, "5");
    EXPECT_EQ(query.find("eq")->second, "name:ann lee");
    segments.clear();
    EXPECT_FALSE(http::parse_target("/v1/%zz", segments, query));
    EXPECT_FALSE(http::parse_target("/v1/%4", segments, query));
    const auto err = http::response::error(404, "not_found", "no \"x\"");
    EXPECT_EQ(laredo::json::parse(err.body).at("error").at("message"), "no \"x\"");
}

TEST(metrics_exposition, families_labels_and_histograms) {
    metrics::exposition out;
    out.family("laredo_x_total", "counter", "Things.");
    out.sample("laredo_x_total", {{"table", "a\"b\\c\nd"}}, std::uint64_t{3});
    metrics::histogram h({0.1, 1});
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    out.family("laredo_d_seconds", "histogram", "Durations.");
    h.write(out, "laredo_d_seconds", {{"pipeline", "p"}});
    const auto& text = out.text();
    EXPECT_THAT(text, HasSubstr("# TYPE laredo_x_total counter\n"));
    EXPECT_THAT(text, HasSubstr("laredo_x_total{table=\"a\\\"b\\\\c\\nd\"} 3\n"));
    EXPECT_THAT(text, HasSubstr("laredo_d_seconds_bucket{pipeline=\"p\",le=\"0.1\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("laredo_d_seconds_bucket{pipeline=\"p\",le=\"1\"} 2\n"));
    EXPECT_THAT(text, HasSubstr("laredo_d_seconds_bucket{pipeline=\"p\",le=\"+Inf\"} 3\n"));
    EXPECT_THAT(text, HasSubstr("laredo_d_seconds_count{pipeline=\"p\"} 3\n"));
    EXPECT_THAT(text, HasSubstr("laredo_d_seconds_sum{pipeline=\"p\"} 5.55\n"));
}

TEST(logging, json_lines_and_text_lines) {
    config::logging_config json_options;
    json_options.format = "json";
    logging::logger json_log(json_options);
    const auto line =
        json_log.format(logging::level::warn, "source disconnected",
                        {{"source_id", "pg"}, {"attempt", 3}, {"bad", std::string("\xff")}});
    const auto j = laredo::json::parse(line).as_object();
    EXPECT_EQ(j.at("level"), "WARN");
    EXPECT_EQ(j.at("msg"), "source disconnected");
    EXPECT_EQ(j.at("source_id"), "pg");
    EXPECT_EQ(j.at("attempt"), 3);
    EXPECT_THAT(std::string(j.at("time").as_string()), ::testing::EndsWith("Z"));
    config::logging_config text_options;
    text_options.format = "text";
    logging::logger text_log(text_options);
    EXPECT_THAT(
        text_log.format(logging::level::info, "listening", {{"address", "a b"}, {"port", 1}}),
        HasSubstr("INFO listening address=\"a b\" port=1"));
    EXPECT_FALSE(text_log.enabled(logging::level::debug));
}

TEST(websocket_feed, a_client_past_its_byte_limit_is_ended_with_a_reason) {
    boost::asio::io_context ioc;
    http::message_feed feed(ioc.get_executor(), 10);
    bool overflowed = false;
    bool ended = false;
    feed.on_overflow([&] { overflowed = true; });
    feed.on_end([&] { ended = true; });
    EXPECT_TRUE(feed.push("12345"));
    EXPECT_EQ(feed.queued_bytes(), 5u);
    EXPECT_FALSE(feed.push("1234567"));
    EXPECT_TRUE(overflowed);
    EXPECT_TRUE(ended);
    ASSERT_TRUE(feed.close_reason());
    EXPECT_THAT(*feed.close_reason(), HasSubstr("client too slow"));
    EXPECT_EQ(feed.queued_bytes(), 0u);
    EXPECT_FALSE(feed.push("1"));
}

}  // namespace
}  // namespace laredo::server
