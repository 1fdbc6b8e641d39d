#pragma once

#include "laredo/sources/postgres/connection_params.hpp"
#include "laredo/table_identifier.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace laredo::sources::postgres {

// What happens to the replication slot between runs.
enum class slot_mode {
    // A temporary slot, gone when the connection closes: every start (and every lost
    // connection) takes a new baseline. Retains no WAL while laredo is down.
    ephemeral,
    // A persistent slot: a restart resumes from the last ACK when the targets kept their state
    // (or a snapshot restores them). The server retains WAL while laredo is down: watch
    // retained WAL (postgres_source::health()) and set max_slot_wal_keep_size.
    stateful,
};

// "ephemeral" / "stateful"; parse_slot_mode throws errc::invalid_config for anything else.
std::string_view to_string(slot_mode mode) noexcept;
slot_mode parse_slot_mode(std::string_view text);

// One table's part of the publication (PostgreSQL 15+).
struct table_publication_options {
    // A row filter: an SQL boolean expression over the table's columns, used verbatim (it is
    // operator-trusted SQL, like the server's own WHERE). Empty: every row. With UPDATE/DELETE
    // published, PostgreSQL allows only replica-identity columns in it. The baseline reads
    // the same rows (COPY ... WHERE).
    std::string row_filter;
    // A column list: only these columns are published and read. Empty: every column. It must
    // include the replica identity when UPDATE/DELETE are published (otherwise the
    // application's own UPDATE/DELETE on the table would fail: refused at init).
    std::vector<std::string> columns;
};

struct publication_options {
    // Empty: `<slot_name>_pub`.
    std::string name;
    // Create the publication when it does not exist, and keep it in line with the
    // configuration (tables, filters, column lists, publish, publish_via_partition_root).
    // laredo only ever changes a publication it created (it marks it with a COMMENT); one it
    // did not create is used as it is and must already contain every configured table.
    bool create = true;
    // Operations published: any of insert, update, delete, truncate.
    std::vector<std::string> publish{"insert", "update", "delete", "truncate"};
    // Per-table row filters and column lists (tables without an entry: every row and column).
    std::map<table_identifier, table_publication_options> tables;
    // Publish changes of partitions under their partitioned root table. Unset: on when a
    // configured table is partitioned (otherwise their changes would arrive under the
    // partitions' names).
    std::optional<bool> publish_via_partition_root;
};

// Reconnecting after the stream's connection is lost (an I/O error, the walsender terminated,
// the server restarting): attempt n waits min(max_backoff, initial_backoff * multiplier^n),
// varied by +-jitter, and the count starts again once a session streamed for healthy_after.
struct reconnect_options {
    int max_attempts = 10;
    std::chrono::milliseconds initial_backoff{1'000};
    std::chrono::milliseconds max_backoff{30'000};
    double multiplier = 2.0;
    double jitter = 0.2;  // a fraction of the wait, 0 to 1
    std::chrono::milliseconds healthy_after{30'000};
};

// What to do when the replication slot is lost (invalidated by max_slot_wal_keep_size, dropped
// by an operator, on another server after a failover).
enum class slot_loss_policy {
    rebaseline,  // make a new slot and take a new baseline (reported to the engine's observer)
    fail,        // stop with an error naming the cause
};

// "rebaseline" / "fail"; parse_slot_loss_policy throws errc::invalid_config otherwise.
std::string_view to_string(slot_loss_policy policy) noexcept;
slot_loss_policy parse_slot_loss_policy(std::string_view text);

// Configuration of a postgres_source. Defaults are those of the Go original where it has one.
struct source_options {
    // Where to connect (conninfo: connection_params::from_conninfo). Used for both the query
    // connection and the replication connection (replication=database is set for the latter).
    connection_params connection;

    // [a-z0-9_]{1,63}.
    std::string slot_name = "laredo_slot";
    slot_mode mode = slot_mode::ephemeral;
    // Stateful slots only: baseline at every start even when the slot could resume (the
    // overlap between the baseline and the slot's confirmed position is re-delivered).
    bool always_baseline = false;

    publication_options publication;

    // Key columns for tables that have neither a primary key nor a REPLICA IDENTITY USING
    // INDEX index (such tables are refused otherwise). Ignored for tables that have one.
    std::map<table_identifier, std::vector<std::string>> key_columns;

    reconnect_options reconnect;
    slot_loss_policy on_slot_invalidated = slot_loss_policy::rebaseline;

    // How often a standby status update reaches the server even when nothing changed. Keep
    // it well below the server's wal_sender_timeout (60 s by default): the status is what
    // keeps the connection alive while a slow target holds the stream back.
    std::chrono::milliseconds status_interval{10'000};
    // How often the slot's lag and health (retained WAL, wal_status) are read, on a small
    // connection of their own.
    std::chrono::milliseconds health_interval{5'000};
    // CREATE_REPLICATION_SLOT waits for every transaction that holds an xid to finish: give
    // up after this long, naming the sessions that block it.
    std::chrono::milliseconds slot_creation_timeout{60'000};

    // Rows per baseline batch, and changes per on_changes call (a larger transaction is
    // delivered in parts; several small ones share one call).
    std::size_t baseline_batch_rows = 1024;
    std::size_t change_batch_size = 1024;
    // CopyData messages taken from the connection per read (bounds what one read holds).
    std::size_t read_batch_messages = 512;

    // The publication's name after defaults.
    std::string publication_name() const;

    // Throws laredo::error(errc::invalid_config) listing every problem (slot name, publish
    // operations, zero sizes or intervals...).
    void validate() const;
};

}  // namespace laredo::sources::postgres
