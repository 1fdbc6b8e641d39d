#pragma once

#include "laredo/server/config/server_config.hpp"
#include "laredo/server/logging/logger.hpp"

#include <string>
#include <vector>

namespace laredo::server::app {

// Builds everything the configuration names without starting it (no connection is opened):
// the problems wiring finds (a bad regular expression, a directory that cannot be created,
// pipeline ids given twice...), each naming its key. Empty: it can run.
std::vector<std::string> check(const config::server_config& config);

// Runs laredo-server until SIGTERM/SIGINT (or POST /v1/drain): starts the engine, serves the
// listeners, and on the signal reports not-ready, waits drain_grace, stops the engine
// gracefully (buffers drain, shutdown snapshot when configured, final ACK) and the listeners.
// A second signal aborts at once. Returns the process exit code: 0 after a graceful stop,
// 1 when something could not start or the stop failed.
int run(const config::server_config& config, logging::logger& log);

}  // namespace laredo::server::app
