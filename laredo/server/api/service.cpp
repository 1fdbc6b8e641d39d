#include "laredo/server/api/service.hpp"

#include "laredo/error.hpp"
#include "laredo/server/common/describe.hpp"
#include "laredo/targets/fanout/websocket.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace laredo::server::api {

namespace {

std::vector<std::string> split(std::string_view pattern) {
    std::vector<std::string> out;
    while (!pattern.empty()) {
        if (pattern.front() == '/') {
            pattern.remove_prefix(1);
            continue;
        }
        const auto end = pattern.find('/');
        out.emplace_back(pattern.substr(0, end));
        pattern = end == std::string_view::npos ? std::string_view{} : pattern.substr(end);
    }
    return out;
}

// Matches segments against a pattern; fills args/rest.
bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& segments,
             std::vector<std::string>& args, std::vector<std::string>& rest) {
    args.clear();
    rest.clear();
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const auto& p = pattern[i];
        const bool placeholder = p.size() > 2 && p.front() == '{' && p.back() == '}';
        if (placeholder && p[p.size() - 2] == '*') {
            if (i + 1 != pattern.size() || segments.size() <= i) return false;
            rest.assign(segments.begin() + static_cast<std::ptrdiff_t>(i), segments.end());
            return true;
        }
        if (i >= segments.size()) return false;
        if (placeholder) {
            if (segments[i].empty()) return false;
            args.push_back(segments[i]);
        } else if (p != segments[i]) {
            return false;
        }
    }
    return pattern.size() == segments.size();
}

bool serves(const config::listener_config& l, group g) {
    switch (g) {
        case group::api:
            return l.api;
        case group::health:
            return l.health;
        case group::metrics:
            return l.metrics;
    }
    return false;
}

http::response unauthorized(std::string message) {
    auto r = http::response::error(401, "unauthorized", message);
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"laredo\"");
    return r;
}

std::pair<unsigned, std::string> status_of(errc code) {
    switch (code) {
        case errc::invalid_argument:
            return {400, "invalid_argument"};
        case errc::invalid_position:
            return {400, "invalid_position"};
        case errc::invalid_config:
            return {400, "invalid_config"};
        case errc::unknown_source:
            return {404, "unknown_source"};
        case errc::unknown_table:
            return {404, "unknown_table"};
        case errc::not_started:
            return {503, "not_started"};
        case errc::already_started:
            return {409, "already_started"};
        case errc::stopped:
            return {503, "stopped"};
        case errc::timeout:
            return {504, "timeout"};
        case errc::unsupported:
            return {409, "unsupported"};
        case errc::buffer_overflow:
            return {507, "store_full"};
        case errc::corrupt_data:
            return {500, "corrupt_data"};
        case errc::schema_mismatch:
            return {500, "schema_mismatch"};
        default:
            return {500, "internal"};
    }
}

}  // namespace

bool same_token(std::string_view a, std::string_view b) noexcept {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
    return diff == 0;
}

http::response error_response(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const api_error& a) {
        return http::response::error(a.status, a.code, a.message);
    } catch (const error& le) {
        if (le.code().category() == laredo_category()) {
            const auto [status, code] = status_of(static_cast<errc>(le.code().value()));
            return http::response::error(status, code, describe(le));
        }
        return http::response::error(500, "internal", describe(le));
    } catch (const std::exception& ex) {
        return http::response::error(500, "internal", describe(ex));
    } catch (...) {
        return http::response::error(500, "internal", "unknown failure");
    }
}

service::service(context ctx) : ctx_(std::move(ctx)), routes_(make_routes(*ctx_.config)) {}

std::variant<std::pair<const route*, call>, http::response> service::match(
    const http::request& req, const config::listener_config& listener) {
    std::vector<std::string> args;
    std::vector<std::string> rest;
    const route* found = nullptr;
    std::vector<std::string> allowed;
    for (const auto& r : routes_) {
        if (!serves(listener, r.where)) continue;
        if (!matches(split(r.pattern), req.segments, args, rest)) continue;
        if (r.method != req.method) {
            allowed.push_back(r.method);
            continue;
        }
        found = &r;
        break;
    }
    if (!found) {
        if (!allowed.empty()) {
            auto res = http::response::error(405, "method_not_allowed",
                                             req.method + " is not allowed here");
            std::string list;
            for (const auto& m : allowed) list += (list.empty() ? "" : ", ") + m;
            res.headers.emplace_back("Allow", list);
            return res;
        }
        return http::response::error(
            404, "not_found",
            "no route for " + req.method + " " + req.target.substr(0, req.target.find('?')));
    }
    if (found->need != access::open) {
        constexpr std::string_view prefix = "Bearer ";
        if (req.authorization.size() <= prefix.size() ||
            !std::equal(prefix.begin(), prefix.end(), req.authorization.begin(),
                        [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
            return unauthorized("this call needs a bearer token (Authorization: Bearer <token>)");
        const std::string_view token = std::string_view(req.authorization).substr(prefix.size());
        bool admin = false;
        bool read = false;
        for (const auto& t : ctx_.config->api.admin_tokens) admin |= same_token(token, t.value);
        for (const auto& t : ctx_.config->api.read_tokens) read |= same_token(token, t.value);
        if (!admin && !read) return unauthorized("the token is not valid");
        if (found->need == access::admin && !admin)
            return http::response::error(403, "forbidden", "this call needs an admin token");
    }
    return std::pair<const route*, call>{found, call{ctx_, req, std::move(args), std::move(rest)}};
}

boost::asio::awaitable<http::response> service::handle(http::request req,
                                                       const config::listener_config& listener) {
    auto m = match(req, listener);
    if (auto* res = std::get_if<http::response>(&m)) co_return std::move(*res);
    auto& [r, c] = std::get<std::pair<const route*, call>>(m);
    if (r->websocket)
        co_return http::response::error(426, "upgrade_required",
                                        "this is a WebSocket stream: connect with an upgrade");
    std::exception_ptr failure;
    try {
        co_return co_await r->handler(c);
    } catch (...) {
        failure = std::current_exception();
    }
    co_return error_response(failure);
}

http::handler::upgrade service::replication(const call& c) {
    table_identifier table;
    try {
        table = table_identifier::parse(c.args.at(0));
    } catch (const std::exception& e) {
        throw api_error(400, "bad_table", describe(e));
    }
    const auto source = c.req.param("source");
    const auto pipeline = c.req.param("pipeline");
    std::shared_ptr<targets::fanout::fanout_target> target;
    for (const auto* t : c.ctx.rt->find(table, source.value_or("")))
        if (t->fanout && (!pipeline || t->pipeline_id == *pipeline)) {
            target = t->fanout;
            break;
        }
    if (!target)
        throw api_error(404, "unknown_table",
                        "no replication-fanout target serves " + table.to_string() +
                            (source ? " from source " + *source : std::string()) +
                            (pipeline ? " in pipeline " + *pipeline : std::string()));
    upgrade out;
    out.hand_over = [target](boost::beast::tcp_stream stream,
                             boost::beast::http::request<boost::beast::http::string_body> req,
                             std::string peer) {
        return targets::fanout::serve_replication(target, std::move(stream), std::move(req),
                                                  std::move(peer));
    };
    return out;
}

http::handler::upgrade service::websocket(const http::request& req,
                                          const config::listener_config& listener) {
    auto m = match(req, listener);
    if (auto* res = std::get_if<http::response>(&m)) return {nullptr, std::move(*res)};
    auto& [r, c] = std::get<std::pair<const route*, call>>(m);
    if (!r->websocket)
        return {nullptr, http::response::error(400, "not_a_stream",
                                               "WebSocket upgrades are only for /v1/watch routes")};
    try {
        if (c.req.segments.size() >= 2 && c.req.segments[1] == "replication") return replication(c);
        if (c.req.segments.size() >= 3 && c.req.segments[2] == "tables") {
            table_identifier table;
            try {
                table = table_identifier::parse(c.args.at(0));
            } catch (const std::exception& e) {
                throw api_error(400, "bad_table", describe(e));
            }
            const auto source = req.param("source").value_or("");
            const auto pipeline = req.param("pipeline");
            const wiring::table_target* target = nullptr;
            for (const auto* t : ctx_.rt->find(table, source))
                if (!pipeline || t->pipeline_id == *pipeline) {
                    if (!target || (!target->indexed && t->indexed)) target = t;
                }
            // A fan-out or http-sync target keeps no row store to watch.
            if (!target)
                throw api_error(404, "unknown_table",
                                "no target of " + table.to_string() +
                                    (pipeline ? " in pipeline " + *pipeline : ""));
            if (!target->indexed)
                throw api_error(400, "not_watchable",
                                "row streams are offered for indexed-memory targets");
            return {ctx_.watch_rows(req, *target), {}};
        }
        return {ctx_.watch_status(req), {}};
    } catch (...) {
        return {nullptr, error_response(std::current_exception())};
    }
}

}  // namespace laredo::server::api
