#include "lookup_server.hpp"

#include "laredo/error.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <charconv>
#include <cmath>
#include <list>
#include <optional>
#include <string_view>
#include <vector>

namespace laredo::examples {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using targets::memory::indexed_target;

using response = http::response<http::string_body>;

// A response that leaves this module: status and JSON body; the caller adds the rest.
struct reply {
    http::status status = http::status::ok;
    json::value body;
};

reply error_reply(http::status status, std::string_view code, std::string_view message) {
    return {status, json::object{{"error", json::object{{"code", code}, {"message", message}}}}};
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decodes one path segment; nullopt for a broken escape.
std::optional<std::string> percent_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        if (i + 2 >= in.size()) return std::nullopt;
        const int hi = hex_digit(in[i + 1]);
        const int lo = hex_digit(in[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

// The path (query string dropped) split on '/', each segment percent-decoded.
std::optional<std::vector<std::string>> split_path(std::string_view target) {
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    std::vector<std::string> segments;
    while (!target.empty()) {
        if (target.front() == '/') {
            target.remove_prefix(1);
            continue;
        }
        const auto end = target.find('/');
        auto decoded = percent_decode(target.substr(0, end));
        if (!decoded) return std::nullopt;
        segments.push_back(std::move(*decoded));
        target = end == std::string_view::npos ? std::string_view{} : target.substr(end);
    }
    return segments;
}

json::value to_json(const value& v) {
    switch (v.get_type()) {
        case value::type::null:
            return nullptr;
        case value::type::boolean:
            return v.get<bool>();
        case value::type::int64:
            return v.get<std::int64_t>();
        case value::type::float64: {
            // JSON has no NaN or Infinity: those go as their text.
            const double d = v.get<double>();
            if (std::isfinite(d)) return d;
            return json::string(v.to_string());
        }
        case value::type::text:
            return json::string(v.get<std::string>());
        default:
            return json::string(v.to_string());
    }
}

json::object to_json(const row& r) {
    json::object out;
    const auto& schema = *r.schema();
    for (std::size_t i = 0; i < r.size(); ++i) out[schema.column(i).name] = to_json(r[i]);
    return out;
}

json::array to_json(const std::vector<row>& rows) {
    json::array out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(to_json(r));
    return out;
}

bool is_integer_type(std::string_view type) {
    return type == "int8" || type == "int4" || type == "int2";
}

}  // namespace

struct lookup_server::state : std::enable_shared_from_this<lookup_server::state> {
    state(asio::any_io_executor ex, engine e, lookup_server_options o)
        : strand(asio::make_strand(ex)),
          eng(std::move(e)),
          options(std::move(o)),
          acceptor(strand) {}

    // Everything below is touched on the strand only (port is read from anywhere).
    asio::strand<asio::any_io_executor> strand;
    engine eng;
    lookup_server_options options;
    tcp::acceptor acceptor;
    std::list<std::shared_ptr<beast::tcp_stream>> connections;
    bool stopped = false;
    std::atomic<std::uint16_t> port{0};

    awaitable<void> accept_loop();
    awaitable<void> serve(std::shared_ptr<beast::tcp_stream> stream);
    reply route(const http::request<http::string_body>& req) const;
    reply table_route(const std::vector<std::string>& path) const;
    reply pipelines() const;
};

awaitable<void> lookup_server::state::accept_loop() {
    auto self = shared_from_this();
    while (!stopped) {
        boost::system::error_code ec;
        tcp::socket socket(strand);
        co_await acceptor.async_accept(socket, asio::redirect_error(use_awaitable, ec));
        if (ec) {
            if (stopped || ec == asio::error::operation_aborted) co_return;
            continue;  // a failed accept (e.g. too many open files) must not end the server
        }
        auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
        asio::co_spawn(strand, serve(stream), asio::detached);
    }
}

awaitable<void> lookup_server::state::serve(std::shared_ptr<beast::tcp_stream> stream) {
    auto self = shared_from_this();
    connections.push_back(stream);
    const auto entry = std::prev(connections.end());
    beast::flat_buffer buffer;
    try {
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(options.header_limit);
            parser.body_limit(options.body_limit);
            // A client that stops sending mid-request does not hold the connection for ever.
            stream->expires_after(std::chrono::seconds(60));
            co_await http::async_read(*stream, buffer, parser, use_awaitable);
            const auto& req = parser.get();

            reply r = route(req);
            response res{r.status, req.version()};
            res.set(http::field::server, "laredo-http-lookup");
            res.set(http::field::content_type, "application/json");
            if (r.status == http::status::method_not_allowed) res.set(http::field::allow, "GET");
            res.keep_alive(req.keep_alive());
            res.body() = json::serialize(r.body);
            res.prepare_payload();
            co_await http::async_write(*stream, res, use_awaitable);
            if (!res.keep_alive() || stopped) break;
        }
        boost::system::error_code ignored;
        stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    } catch (const boost::system::system_error&) {
        // A parse error, a limit hit, a closed socket or a stop: the connection ends.
    }
    boost::system::error_code ignored;
    stream->socket().close(ignored);
    connections.erase(entry);
}

reply lookup_server::state::route(const http::request<http::string_body>& req) const {
    if (req.method() != http::verb::get)
        return error_reply(http::status::method_not_allowed, "method_not_allowed",
                           "only GET is served");
    const auto path = split_path(std::string_view(req.target().data(), req.target().size()));
    if (!path)
        return error_reply(http::status::bad_request, "bad_request", "malformed path escape");
    const auto& p = *path;
    if (p.size() == 2 && p[0] == "health" && p[1] == "ready") {
        if (eng.is_ready()) return {http::status::ok, json::object{{"ready", true}}};
        return {http::status::service_unavailable, json::object{{"ready", false}}};
    }
    if (p.size() == 2 && p[0] == "v1" && p[1] == "tables") return pipelines();
    if (p.size() >= 3 && p[0] == "v1" && p[1] == "tables") return table_route(p);
    return error_reply(http::status::not_found, "not_found", "no such route");
}

reply lookup_server::state::pipelines() const {
    json::array out;
    for (const auto& p : eng.pipelines()) {
        out.push_back(json::object{{"id", p.id},
                                   {"source", p.source_id},
                                   {"table", p.table.to_string()},
                                   {"state", to_string(p.state)},
                                   {"target_type", p.target_type}});
    }
    return {http::status::ok, std::move(out)};
}

reply lookup_server::state::table_route(const std::vector<std::string>& p) const {
    table_identifier table;
    try {
        table = table_identifier::parse(p[2]);
    } catch (const error& e) {
        return error_reply(http::status::bad_request, "bad_table", e.what());
    }
    const auto target = eng.target<indexed_target>(options.source_id, table);
    const bool known_route = (p.size() == 4 && p[3] == "count") ||
                             (p.size() == 5 && p[3] == "rows") ||
                             (p.size() == 6 && p[3] == "index");
    if (!known_route) return error_reply(http::status::not_found, "not_found", "no such route");
    if (!target)
        return error_reply(http::status::not_found, "unknown_table",
                           "no indexed table " + table.to_string());

    if (p[3] == "count") return {http::status::ok, json::object{{"count", target->count()}}};

    if (p[3] == "rows") {
        const auto schema = target->schema();
        if (!schema)
            return error_reply(http::status::service_unavailable, "not_ready",
                               table.to_string() + " has no rows yet");
        const auto& keys = schema->key_indexes();
        value key{p[4]};
        if (keys.size() == 1 && is_integer_type(schema->column(keys.front()).type)) {
            std::int64_t n = 0;
            const auto& s = p[4];
            const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
            if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
                return error_reply(http::status::bad_request, "bad_key",
                                   "'" + s + "' is not a valid integer key");
            key = value(n);
        }
        std::optional<row> found;
        try {
            found = target->get(std::vector<value>{key});
        } catch (const error& e) {
            return error_reply(http::status::bad_request, "bad_key", e.what());
        }
        if (!found)
            return error_reply(http::status::not_found, "not_found",
                               "no row with key '" + p[4] + "' in " + table.to_string());
        return {http::status::ok, to_json(*found)};
    }

    // index/{name}/{value}
    try {
        return {http::status::ok, to_json(target->lookup_index(p[4], {value(p[5])}))};
    } catch (const error& e) {
        return error_reply(http::status::not_found, "unknown_index", e.what());
    }
}

lookup_server::lookup_server(asio::any_io_executor executor, engine eng,
                             lookup_server_options options)
    : state_(std::make_shared<state>(std::move(executor), std::move(eng), std::move(options))) {}

lookup_server::~lookup_server() { stop(); }

void lookup_server::start() {
    // Opened here, before anything runs on the strand, so errors throw to the caller.
    auto& a = state_->acceptor;
    a.open(state_->options.listen.protocol());
    a.set_option(tcp::acceptor::reuse_address(true));
    a.bind(state_->options.listen);
    a.listen();
    state_->port = a.local_endpoint().port();
    asio::co_spawn(state_->strand, state_->accept_loop(), asio::detached);
}

void lookup_server::stop() {
    auto s = state_;
    auto close_all = [s] {
        if (s->stopped) return;
        s->stopped = true;
        boost::system::error_code ignored;
        s->acceptor.close(ignored);
        for (auto& c : s->connections) c->socket().close(ignored);
    };
    asio::dispatch(s->strand, std::move(close_all));
}

std::uint16_t lookup_server::local_port() const { return state_->port; }

}  // namespace laredo::examples
