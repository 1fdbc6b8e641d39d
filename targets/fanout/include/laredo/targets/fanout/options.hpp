#pragma once

#include "laredo/observer.hpp"
#include "laredo/position.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace laredo::targets::fanout {

// The journal of changes clients resume from. Entries go when any limit is passed, oldest
// first, but never one a connected client still needs (a pin).
struct journal_options {
    std::size_t max_entries = 100'000;
    std::size_t max_bytes = 256u << 20;  // packed row bytes of the entries, plus ~150 each
    std::chrono::milliseconds max_age{24 * 3600 * 1000};
};

// In-memory snapshots: a full sync starts from the newest one while the journal still holds
// everything after it, and DELTA_FROM_SNAPSHOT resumes a client that holds one.
struct snapshot_options {
    std::chrono::milliseconds interval{0};  // take one this often; 0 = only on demand
    std::size_t keep_count = 2;             // keep the N newest; 0 = no limit by count
    std::chrono::milliseconds max_age{0};   // drop older ones; 0 = no limit by age
};

// What a client that cannot keep up gets.
enum class slow_client_policy : std::uint8_t {
    // Its queue is full: the connection is closed with a reason; it resumes by position.
    disconnect,
    // Its queue is full: sending waits (the journal is kept for it) until the client is more
    // than max_lag_entries behind the journal's head, then it is disconnected.
    slow_down,
};

struct client_options {
    std::size_t max_clients = 0;         // 0 = no limit; more are refused
    std::size_t queue_bytes = 8u << 20;  // bytes of messages waiting for one client
    slow_client_policy policy = slow_client_policy::disconnect;
    std::uint64_t max_lag_entries = 100'000;  // slow_down's bound (also while a snapshot is sent)
    std::chrono::milliseconds heartbeat_interval{5'000};  // sent after this long with nothing
    std::size_t snapshot_rows_per_message = 500;
    std::size_t entries_per_message = 256;
    // How long a connection may take to finish sending its close frame before its socket is
    // simply shut.
    std::chrono::milliseconds close_timeout{5'000};
};

struct fanout_target_options {
    journal_options journal;
    snapshot_options snapshots;
    client_options clients;
    // The key columns, for a table without a primary key (when set they also override it).
    std::vector<std::string> key_columns;
    // Told of clients, snapshots and journal pruning (on_fanout_*), under `pipeline_id`.
    std::shared_ptr<engine_observer> observer;
    std::string pipeline_id;
    // How the source's positions order. Default: the structural order of
    // laredo/replica/positions.hpp (sequences and pairs numerically, text bytewise); give the
    // source's compare_positions when its text positions order otherwise.
    std::function<int(const position&, const position&)> compare_positions;
};

}  // namespace laredo::targets::fanout
