#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>

namespace laredo::server::api {

// The server's own lifecycle, as health and the API report it. Thread-safe.
struct app_state {
    std::chrono::system_clock::time_point started_at = std::chrono::system_clock::now();
    std::atomic<bool> engine_started{false};  // /health/startup
    std::atomic<bool> draining{false};        // readiness 503
    std::atomic<bool> shutting_down{false};   // a drain that ends in a stop cannot be undone
    // Starts the graceful shutdown (as SIGTERM does). Set by the application.
    std::function<void()> request_shutdown;
};

}  // namespace laredo::server::api
