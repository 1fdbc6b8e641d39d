#pragma once

// The engine's asynchronous operations as coroutines that throw laredo::error on failure:
// the one place that knows the engine's completion signatures.

#include "laredo/engine.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <map>
#include <string>

namespace laredo::server::wiring {

boost::asio::awaitable<void> start(engine eng);
boost::asio::awaitable<void> stop(engine eng);
boost::asio::awaitable<void> pause(engine eng, std::string source_id);
boost::asio::awaitable<void> resume(engine eng, std::string source_id);
boost::asio::awaitable<void> reload(engine eng, std::string source_id, table_identifier table);
boost::asio::awaitable<snapshot_descriptor> create_snapshot(
    engine eng, std::map<std::string, std::string> labels);
boost::asio::awaitable<std::size_t> replay_dead_letters(engine eng, std::string pipeline_id);

}  // namespace laredo::server::wiring
