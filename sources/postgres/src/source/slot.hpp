#pragma once

// The replication slot: reading its state from pg_replication_slots, creating it with an
// exported snapshot, dropping it.

#include "laredo/sources/postgres/connection.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace laredo::sources::postgres::detail {

struct slot_info {
    bool exists = false;
    std::string plugin;
    std::string slot_type;  // "logical" / "physical"
    std::string database;
    bool temporary = false;
    bool active = false;
    int active_pid = 0;
    std::string wal_status;  // reserved, extended, unreserved, lost (PostgreSQL 13+)
    std::optional<std::uint64_t> confirmed_flush;
    std::optional<std::uint64_t> restart_lsn;

    bool lost() const noexcept { return wal_status == "lost"; }
};

// Works on a query connection and on a replication connection (simple query).
boost::asio::awaitable<slot_info> read_slot(connection& conn, const std::string& name);

// Throws errc::invalid_config when an existing slot of this name cannot be ours: not logical,
// another output plugin, another database.
void check_slot_is_usable(const slot_info& slot, const std::string& name,
                          const std::string& database);

struct created_slot {
    std::uint64_t consistent_point = 0;
    std::string snapshot_name;  // valid until the next command on the replication connection
};

// CREATE_REPLICATION_SLOT ... LOGICAL pgoutput with an exported snapshot, on `replication`.
// The server waits for every transaction that holds an xid to finish first: after `timeout`
// the command is cancelled (through `query`, which must be idle) and errc::timeout names the
// sessions that held it up.
boost::asio::awaitable<created_slot> create_slot(connection& replication, connection& query,
                                                 const std::string& name, bool temporary,
                                                 int server_version,
                                                 std::chrono::milliseconds timeout);

// Drops the slot if it exists. A slot in use is waited for while it is held by `exiting_pid`
// (a walsender of ours whose connection just closed; 0: none) or, for `patience`, by any
// process; then it is refused with errc::invalid_config naming the process that holds it
// (stop it, or pg_terminate_backend(pid)).
boost::asio::awaitable<bool> drop_slot(connection& conn, const std::string& name,
                                       int exiting_pid = 0,
                                       std::chrono::milliseconds patience = {});

}  // namespace laredo::sources::postgres::detail
