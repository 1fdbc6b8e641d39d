#pragma once

#include "laredo/pipeline_options.hpp"
#include "laredo/sources/postgres/source_options.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/targets/fanout/options.hpp"
#include "laredo/targets/httpsync/options.hpp"
#include "laredo/targets/memory/indexed_target.hpp"
#include "laredo/types.hpp"
#include "laredo/value.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The server's configuration as data: what the TOML files, the environment and --set said,
// with every default applied. The loader (load.hpp) fills it; wiring (wiring/) builds the
// engine from it. docs/server.md describes every key.
namespace laredo::server::config {

using std::chrono::milliseconds;

// A password or token. Never printed: there is no operator<< and no to_string.
struct secret {
    std::string value;
    // Where it came from, for messages: "inline", "file /run/secrets/x", "environment X".
    std::string origin;
};

// How often a failing source is retried (the engine applies one setting to every source).
struct reconnect_config {
    int max_attempts = 10;
    milliseconds initial_backoff{1'000};
    milliseconds max_backoff{60'000};
};

// A table of a test source: its columns and the rows it starts with.
struct testsource_table {
    table_identifier table;
    std::vector<column_definition> columns;
    std::vector<std::vector<value>> rows;  // in column order
};

struct testsource_config {
    bool pair_positions = false;  // positions "commit:row" like PostgreSQL
    bool supports_resume = false;
    std::size_t batch_size = 256;
    std::vector<testsource_table> tables;
};

struct source_config {
    std::string id;
    std::string type;    // "postgres" or "testsource"
    std::string origin;  // "file.toml:12"
    sources::postgres::source_options postgres;
    testsource_config testsource;
    std::optional<reconnect_config> reconnect;
};

struct filter_config {
    std::string type;  // field-equals | field-prefix | field-regex
    std::string field;
    value equals;         // field-equals
    std::string prefix;   // field-prefix
    std::string pattern;  // field-regex
};

struct transform_config {
    std::string type;                 // drop-fields | rename-fields | add-timestamp
    std::vector<std::string> fields;  // drop-fields
    std::vector<std::pair<std::string, std::string>> renames;  // rename-fields
    std::string field;                                         // add-timestamp
};

enum class target_kind { indexed_memory, compiled_memory, http_sync, replication_fanout };

// The `type` a target is configured with.
constexpr std::string_view to_string(target_kind kind) noexcept {
    switch (kind) {
        case target_kind::indexed_memory:
            return "indexed-memory";
        case target_kind::compiled_memory:
            return "compiled-memory";
        case target_kind::http_sync:
            return "http-sync";
        case target_kind::replication_fanout:
            return "replication-fanout";
    }
    return "unknown";
}

struct target_config {
    target_kind kind = target_kind::indexed_memory;
    std::string id;  // pipeline id; empty = generated
    std::string origin;

    // indexed-memory
    targets::memory::indexed_target_options indexed;
    // compiled-memory: rows compiled into JSON objects of `fields` (empty = every column)
    std::vector<std::string> key_fields;
    std::vector<std::string> fields;
    std::optional<filter_config> compiled_filter;
    // http-sync: the library's options as configured (validated); wiring adds the engine's
    // dead-letter store, the pipeline id and the source's position format.
    targets::httpsync::http_sync_options http_sync;
    // replication-fanout: journal, snapshots and clients; wiring adds the observer, the
    // pipeline id and the source's position order.
    targets::fanout::fanout_target_options fanout;

    // Every target: how its pipeline runs.
    std::size_t buffer_size = 10'000;
    std::uint64_t buffer_bytes = 64u << 20;
    buffer_policy buffer = buffer_policy::block;
    int max_retries = 5;
    milliseconds retry_initial_backoff{100};
    milliseconds retry_max_backoff{5'000};
    error_policy on_error = error_policy::isolate;
    milliseconds recover_after{0};
    milliseconds recover_max_backoff{300'000};
    // error_handling.dead_letter.enabled = true: [dead_letters] must be enabled.
    bool dead_letter_required = false;
    std::vector<filter_config> filters;
    std::vector<transform_config> transforms;
};

struct table_config {
    std::string source;
    table_identifier table;
    std::string origin;
    std::vector<target_config> targets;
    // TTL: rows expire at the time in `ttl_field`; scanned every ttl_check_interval.
    std::string ttl_field;
    milliseconds ttl_check_interval{0};
    milliseconds validation_interval{0};
    validation_action on_validation_mismatch = validation_action::warn;
};

struct snapshot_config {
    bool enabled = false;
    std::string path;  // the local store's directory
    milliseconds interval{0};
    bool on_shutdown = false;
    std::size_t keep_count = 0;
    bool restore = true;
};

struct dead_letter_config {
    bool enabled = false;
    std::string path;
    std::uint64_t max_bytes = 256ull << 20;
    bool fsync = true;
};

struct tls_config {
    std::string cert_path;
    std::string key_path;
};

// What one listening socket serves.
struct listener_config {
    std::string name;  // "api", "health", "metrics"
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
    bool api = false;
    bool health = false;
    bool metrics = false;
    std::optional<tls_config> tls;
};

struct http_limits {
    std::uint32_t max_header_bytes = 8 * 1024;
    std::uint64_t max_body_bytes = 1 << 20;
    milliseconds request_timeout{30'000};  // reading one request, writing one response
    milliseconds idle_timeout{60'000};     // keep-alive wait for the next request
    std::size_t max_connections = 1024;
};

struct api_config {
    std::vector<secret> admin_tokens;
    std::vector<secret> read_tokens;
    http_limits limits;
    std::size_t max_page_size = 1'000;
    std::uint64_t websocket_queue_bytes = 4u << 20;
};

struct health_config {
    std::string liveness_path = "/health/live";
    std::string readiness_path = "/health/ready";
    std::string startup_path = "/health/startup";
};

struct metrics_config {
    std::string path = "/metrics";
};

struct logging_config {
    std::string level = "info";   // trace, debug, info, warn, error
    std::string format = "auto";  // json, text, auto (text on a terminal, else json)
};

struct runtime_config {
    int threads = 2;
    milliseconds shutdown_timeout{30'000};
    // After SIGTERM, how long readiness reports 503 before the engine drains (so load
    // balancers stop sending work first).
    milliseconds drain_grace{0};
};

struct server_config {
    std::vector<source_config> sources;
    std::vector<table_config> tables;
    snapshot_config snapshot;
    dead_letter_config dead_letters;
    std::vector<listener_config> listeners;
    api_config api;
    health_config health;
    metrics_config metrics;
    logging_config logging;
    runtime_config runtime;
};

}  // namespace laredo::server::config
