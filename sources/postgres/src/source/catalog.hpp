#pragma once

// What the PostgreSQL catalogs say about the server and the configured tables: the checks
// that must pass before replication can work (wal_level, REPLICATION privilege, a free slot)
// and, per table, its columns as pgoutput publishes them, its key and its replica identity.
// Read from pg_class / pg_attribute / pg_index (information_schema hides columns the role
// cannot read, and knows no type OIDs).

#include "laredo/column_definition.hpp"
#include "laredo/row.hpp"
#include "laredo/sources/postgres/connection.hpp"
#include "laredo/sources/postgres/source_options.hpp"
#include "laredo/sources/postgres/value_converter.hpp"
#include "laredo/table_identifier.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace laredo::sources::postgres::detail {

struct server_facts {
    int version = 0;  // server_version_num, e.g. 150018
    std::string wal_level;
    std::string user;
    std::string database;
    bool can_replicate = false;  // REPLICATION or superuser
    bool superuser = false;
    int max_replication_slots = 0;
    int slots_in_use = 0;
};

// Reads the facts above. Throws errc::invalid_config naming the setting or GRANT to change
// when the server cannot serve logical replication to this role (version below 12, wal_level
// not logical, no REPLICATION privilege).
boost::asio::awaitable<server_facts> check_server(connection& conn);

// Throws errc::invalid_config when a new slot cannot be created (every slot in use).
void check_free_slot(const server_facts& facts);

struct table_catalog {
    table_identifier table;
    std::uint32_t oid = 0;
    char relkind = 'r';           // 'r' table, 'p' partitioned table
    char replica_identity = 'd';  // 'd' default (primary key), 'n' nothing, 'f' full, 'i' index
    bool has_primary_key = false;
    // The columns pgoutput publishes (no generated or dropped columns; the configured column
    // list when there is one), in table order, with the key laredo uses flagged (primary_key,
    // primary_key_ordinal).
    std::vector<column_definition> columns;
    // The columns an UPDATE/DELETE's old tuple carries (the replica identity); empty for
    // NOTHING, and for DEFAULT without a primary key.
    std::vector<std::string> identity_columns;
    // Where the key comes from: "primary key", "replica identity index <name>", "configured
    // key columns".
    std::string key_origin;
    // pg_class.reltuples: the planner's row estimate, -1 when never analyzed.
    double estimated_rows = -1;
    schema_ptr schema;

    bool partitioned() const noexcept { return relkind == 'p'; }
};

// Describes one table, as published with `column_list` (empty: every column) and keyed by
// `key_columns` when it has neither a primary key nor a replica identity index. Throws
// errc::unknown_table naming it when it does not exist, errc::invalid_config when it cannot be
// replicated (not a table, no usable key, a listed column that does not exist, a column list
// without a key column).
boost::asio::awaitable<table_catalog> describe_table(connection& conn,
                                                     const table_identifier& table,
                                                     const std::vector<std::string>& column_list,
                                                     const std::vector<std::string>& key_columns);

// Teaches `types` the column types that are not built in (domains take their base type's
// conversion, arrays convert as arrays, enums and the rest as text).
boost::asio::awaitable<void> register_column_types(connection& conn,
                                                   const std::vector<table_catalog>& tables,
                                                   value_converter& types);

// pg_class.reltuples of a table, refreshed: -1 when unknown.
boost::asio::awaitable<double> estimate_rows(connection& conn, std::uint32_t table_oid);

// "\"schema\".\"table\"".
std::string qualified_name(const table_identifier& table);

}  // namespace laredo::sources::postgres::detail
