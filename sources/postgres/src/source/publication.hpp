#pragma once

// The publication the stream reads: what it publishes, and keeping it in line with the
// configuration. laredo changes only a publication it created, which it marks with a COMMENT;
// one it did not create is used as it is (a configured table missing from it is an error), and
// a table it never added is never removed.

#include "catalog.hpp"

#include "laredo/sources/postgres/connection.hpp"
#include "laredo/sources/postgres/source_options.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace laredo::sources::postgres::detail {

// How one table is published: its column list (empty: every column) and row filter (empty:
// every row), as SQL the baseline can use.
struct published_table {
    std::vector<std::string> columns;
    std::string row_filter;
};

struct publication_info {
    std::string name;
    bool exists = false;
    bool ours = false;                 // created (and marked) by laredo
    bool all_tables = false;           // FOR ALL TABLES
    bool schema_tables = false;        // FOR TABLES IN SCHEMA (PostgreSQL 15)
    std::vector<std::string> publish;  // insert, update, delete, truncate
    bool via_root = false;
    std::map<table_identifier, published_table> tables;
};

// Reads publication `name` from the catalogs (exists = false when there is none).
boost::asio::awaitable<publication_info> read_publication(connection& conn, const std::string& name,
                                                          int server_version);

// How each configured table will be published: from the configuration when laredo manages (or
// will create) the publication, from the publication itself when it is someone else's.
std::map<table_identifier, published_table> effective_tables(
    const publication_info& current, const source_options& options,
    const std::vector<table_identifier>& tables);

// Creates the publication (missing, create = true) or brings one laredo created in line with the
// configuration (ALTER PUBLICATION ... SET TABLE / SET (publish, publish_via_partition_root));
// for a publication laredo did not create, checks it serves every table. Throws
// errc::invalid_config naming what to change: a missing publication with create = false, a
// configured table missing from a foreign publication, options that only a managed publication
// can honour, or a table whose replica identity would make the application's own UPDATE/DELETE
// fail once published. Returns the publication as it now is.
boost::asio::awaitable<publication_info> sync_publication(connection& conn,
                                                          const source_options& options,
                                                          const std::vector<table_catalog>& tables,
                                                          publication_info current,
                                                          int server_version);

// DROP PUBLICATION, only for one laredo created. Returns whether it dropped one; throws
// errc::invalid_config for a publication laredo did not create.
boost::asio::awaitable<bool> drop_publication(connection& conn, const std::string& name,
                                              int server_version);

}  // namespace laredo::sources::postgres::detail
