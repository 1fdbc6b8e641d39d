#include "laredo/cli/client.hpp"

#include "laredo/cli/errors.hpp"
#include "laredo/json/values.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/object.hpp>

#include <openssl/ssl.h>

#include <cctype>
#include <exception>
#include <optional>

namespace laredo::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

server_address parse_server_address(std::string_view url) {
    server_address out;
    out.text = std::string(url);
    std::string_view rest = url;
    if (rest.starts_with("http://")) {
        rest.remove_prefix(7);
    } else if (rest.starts_with("https://")) {
        rest.remove_prefix(8);
        out.tls = true;
    } else if (rest.find("://") != std::string_view::npos) {
        throw usage_error("--server " + out.text + ": only http:// and https:// are served",
                          "give the server as http://HOST:PORT");
    }
    while (rest.ends_with('/')) rest.remove_suffix(1);
    if (rest.find('/') != std::string_view::npos)
        throw usage_error("--server " + out.text + ": give only the scheme, host and port",
                          "the CLI adds the /v1/... paths itself");
    std::string_view host = rest;
    std::string_view port = out.tls ? "443" : "4001";
    if (rest.starts_with('[')) {  // [::1]:4001
        const auto close = rest.find(']');
        if (close == std::string_view::npos)
            throw usage_error("--server " + out.text + ": unclosed [ in the host");
        host = rest.substr(1, close - 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':')
                throw usage_error("--server " + out.text + ": expected :PORT after ]");
            port = rest.substr(close + 2);
        }
    } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    const bool numeric =
        !port.empty() && port.size() <= 5 &&
        std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(c) != 0; });
    if (host.empty() || !numeric)
        throw usage_error("--server " + out.text + ": expected http://HOST:PORT",
                          "for example --server http://127.0.0.1:4001");
    out.host = std::string(host);
    out.port = std::string(port);
    return out;
}

boost::json::value response::json() const {
    try {
        return laredo::json::parse(body);
    } catch (const std::exception& e) {
        throw call_failed("the server's answer is not JSON (status " + std::to_string(status) +
                              "): " + body.substr(0, 200),
                          "check that --server points at laredo-server's API port");
    }
}

namespace {

using request_type = bhttp::request<bhttp::string_body>;

template <class Stream>
awaitable<response> http_exchange(Stream& stream, const request_type& req) {
    co_await bhttp::async_write(stream, req, use_awaitable);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(256u << 20);
    co_await bhttp::async_read(stream, buffer, parser, use_awaitable);
    co_return response{parser.get().result_int(), std::move(parser.get().body())};
}

awaitable<response> run_request(const server_address& where, const client_options& options,
                                asio::ssl::context* tls, request_type req) {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    const auto endpoints = co_await resolver.async_resolve(where.host, where.port, use_awaitable);
    if (!tls) {
        beast::tcp_stream stream(executor);
        stream.expires_after(options.timeout);
        co_await stream.async_connect(endpoints, use_awaitable);
        auto out = co_await http_exchange(stream, req);
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return out;
    }
    beast::ssl_stream<beast::tcp_stream> stream(executor, *tls);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), where.host.c_str()))
        throw call_failed("cannot set the TLS server name " + where.host);
    stream.set_verify_callback(asio::ssl::host_name_verification(where.host));
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(options.timeout);
    co_await lowest.async_connect(endpoints, use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, use_awaitable);
    co_return co_await http_exchange(stream, req);
}

std::string hint_for(unsigned status, const std::string& code) {
    if (status == 401)
        return "give a token the server accepts: --token, --token-file or LAREDO_TOKEN";
    if (status == 403) return "this call needs an admin token (api.admin_tokens)";
    if (code == "unknown_table" || code == "bad_table")
        return "see the tables with `laredo tables`";
    if (code == "unknown_source") return "see the sources with `laredo source`";
    if (code == "unknown_pipeline") return "see the pipelines with `laredo pipelines`";
    if (code == "unknown_snapshot") return "see the snapshots with `laredo snapshot list`";
    if (code == "ambiguous_table") return "choose the source with --source";
    if (code == "bad_key") return "see the table's columns with `laredo schema TABLE`";
    if (code == "not_configured") return "enable it in the server's configuration";
    if (status == 503) return "wait for the server to be ready: `laredo ready`";
    if (status == 404) return "check the name; `laredo tables` and `laredo pipelines` list them";
    return {};
}

}  // namespace

call_failed error_of(const response& r, const server_address& where) {
    std::string code;
    std::string message;
    try {
        const auto j = laredo::json::parse(r.body);
        if (const auto* e = j.is_object() ? j.as_object().if_contains("error") : nullptr;
            e && e->is_object()) {
            if (const auto* c = e->as_object().if_contains("code"); c && c->is_string())
                code = std::string(c->as_string());
            if (const auto* m = e->as_object().if_contains("message"); m && m->is_string())
                message = std::string(m->as_string());
        }
    } catch (const std::exception&) {
    }
    if (message.empty()) message = r.body.empty() ? "no details" : r.body.substr(0, 200);
    std::string text = where.text + " answered " + std::to_string(r.status);
    if (!code.empty()) text += " " + code;
    text += ": " + message;
    return call_failed(text, hint_for(r.status, code));
}

asio::ssl::context make_tls_context(const client_options& options) {
    asio::ssl::context tls(asio::ssl::context::tls_client);
    if (options.ca_file.empty())
        tls.set_default_verify_paths();
    else
        tls.load_verify_file(options.ca_file);
    tls.set_verify_mode(asio::ssl::verify_peer);
    return tls;
}

api_client::api_client(client_options options)
    : options_(std::move(options)), address_(parse_server_address(options_.server)) {}

response api_client::send(std::string_view method, const std::string& target,
                          const std::string& body) const {
    request_type req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, address_.host);
    req.set(bhttp::field::user_agent, "laredo-cli");
    if (!options_.token.empty()) req.set(bhttp::field::authorization, "Bearer " + options_.token);
    if (!body.empty()) {
        req.set(bhttp::field::content_type, "application/json");
        req.body() = body;
    }
    req.keep_alive(false);
    req.prepare_payload();

    std::optional<asio::ssl::context> tls;
    if (address_.tls) tls.emplace(make_tls_context(options_));
    asio::io_context ioc;
    std::optional<response> out;
    std::exception_ptr failure;
    auto done = [&](std::exception_ptr e, response r) {
        failure = e;
        if (!e) out = std::move(r);
    };
    asio::co_spawn(ioc, run_request(address_, options_, tls ? &*tls : nullptr, std::move(req)),
                   done);
    ioc.run();
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const call_failed&) {
            throw;
        } catch (const boost::system::system_error& e) {
            if (e.code() == beast::error::timeout)
                throw call_failed("no answer from " + address_.text + " within " +
                                      std::to_string(options_.timeout.count()) + " ms",
                                  "raise --timeout, or check the server with `laredo status`");
            throw call_failed(
                "cannot reach laredo-server at " + address_.text + ": " + e.code().message(),
                "is laredo-server running there? set --server or LAREDO_SERVER");
        } catch (const std::exception& e) {
            throw call_failed("request to " + address_.text + " failed: " + e.what());
        }
    }
    return std::move(*out);
}

boost::json::value api_client::call(std::string_view method, const std::string& target,
                                    const std::string& body) const {
    auto r = send(method, target, body);
    if (r.status >= 400) throw error_of(r, address_);
    if (r.body.empty()) return boost::json::object{};
    return r.json();
}

std::string url_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace laredo::cli
