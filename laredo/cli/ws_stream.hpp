#pragma once

// A WebSocket stream of the server (/v1/watch/...), read message by message: plain or TLS
// after the client's address, the bearer token in the upgrade request, a refused upgrade
// turned into call_failed with the server's message.

#include "laredo/cli/client.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>

namespace laredo::cli {

// Connects to `target` and calls `on_message` with each text message until the server
// closes (returns) or the connection fails (throws call_failed).
boost::asio::awaitable<void> read_websocket(const api_client& client, std::string target,
                                            std::function<void(const std::string&)> on_message);

}  // namespace laredo::cli
