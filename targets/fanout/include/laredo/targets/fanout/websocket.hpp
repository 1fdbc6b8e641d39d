#pragma once

// The hook that mounts replication on any Beast server: hand it a connection whose HTTP
// request asks for a WebSocket upgrade (after your routing and authentication), and it
// serves one replication client of `target` until the connection ends. laredo's server
// mounts it at /v1/replication/{schema}.{table}; replication_listener is a small listener of
// its own that does the same.
//
//   // in your connection coroutine, after http::async_read(stream, buffer, request):
//   if (websocket::is_upgrade(request) && path == "/v1/replication/app.accounts") {
//       co_await laredo::targets::fanout::serve_replication(target, std::move(stream),
//                                                           std::move(request), peer);
//       co_return;
//   }
//
// Completes when the connection ends (the client left, was refused or disconnected, the
// drain deadline passed, the target closed). Never throws for what the client does: errors
// are sent to it as an `error` message and a close frame. Cancellation (terminal, e.g. the
// server stopping) closes the connection.
//
// Threads: the stream's executor must be a strand (or an io_context run by one thread): the
// session's coroutines all run on it.

#include "laredo/targets/fanout/fanout_target.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <string>

namespace laredo::targets::fanout {

boost::asio::awaitable<void> serve_replication(
    std::shared_ptr<fanout_target> target, boost::beast::tcp_stream stream,
    boost::beast::http::request<boost::beast::http::string_body> request, std::string peer = {});

}  // namespace laredo::targets::fanout
