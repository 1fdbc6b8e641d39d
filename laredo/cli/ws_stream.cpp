#include "laredo/cli/ws_stream.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <openssl/ssl.h>

namespace laredo::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

template <class Stream>
awaitable<void> upgrade_and_read(websocket::stream<Stream>& ws, const api_client& client,
                                 const std::string& target,
                                 const std::function<void(const std::string&)>& on_message) {
    const auto token = client.options().token;
    ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "laredo-cli");
        if (!token.empty()) req.set(beast::http::field::authorization, "Bearer " + token);
    }));
    websocket::response_type answer;
    beast::error_code ec;
    co_await ws.async_handshake(answer, client.address().host, target,
                                asio::redirect_error(use_awaitable, ec));
    if (ec) {
        if (answer.result_int() >= 400)
            throw error_of(response{answer.result_int(), answer.body()}, client.address());
        throw call_failed("cannot open " + target + " on " + client.address().text + ": " +
                          ec.message());
    }
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    while (true) {
        beast::flat_buffer buffer;
        co_await ws.async_read(buffer, asio::redirect_error(use_awaitable, ec));
        if (ec == websocket::error::closed) co_return;
        if (ec)
            throw call_failed("the stream " + target + " from " + client.address().text +
                              " ended: " + ec.message());
        on_message(beast::buffers_to_string(buffer.data()));
    }
}

}  // namespace

awaitable<void> read_websocket(const api_client& client, std::string target,
                               std::function<void(const std::string&)> on_message) {
    auto executor = co_await asio::this_coro::executor;
    const auto& where = client.address();
    tcp::resolver resolver(executor);
    beast::error_code ec;
    const auto endpoints = co_await resolver.async_resolve(where.host, where.port,
                                                           asio::redirect_error(use_awaitable, ec));
    if (ec) throw call_failed("cannot resolve " + where.host + ": " + ec.message());
    const auto connect_failed = [&] {
        return call_failed("cannot reach laredo-server at " + where.text + ": " + ec.message(),
                           "is laredo-server running there? set --server or LAREDO_SERVER");
    };
    if (!where.tls) {
        websocket::stream<beast::tcp_stream> ws(executor);
        beast::get_lowest_layer(ws).expires_after(client.options().timeout);
        co_await beast::get_lowest_layer(ws).async_connect(endpoints,
                                                           asio::redirect_error(use_awaitable, ec));
        if (ec) throw connect_failed();
        co_await upgrade_and_read(ws, client, target, on_message);
        co_return;
    }
    auto tls = make_tls_context(client.options());
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(executor, tls);
    SSL_set_tlsext_host_name(ws.next_layer().native_handle(), where.host.c_str());
    ws.next_layer().set_verify_callback(asio::ssl::host_name_verification(where.host));
    beast::get_lowest_layer(ws).expires_after(client.options().timeout);
    co_await beast::get_lowest_layer(ws).async_connect(endpoints,
                                                       asio::redirect_error(use_awaitable, ec));
    if (ec) throw connect_failed();
    co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client,
                                             asio::redirect_error(use_awaitable, ec));
    if (ec) throw call_failed("TLS with " + where.text + " failed: " + ec.message());
    co_await upgrade_and_read(ws, client, target, on_message);
}

}  // namespace laredo::cli
