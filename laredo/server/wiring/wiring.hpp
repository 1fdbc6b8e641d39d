#pragma once

#include "laredo/deadletter/local_store.hpp"
#include "laredo/engine.hpp"
#include "laredo/server/config/server_config.hpp"
#include "laredo/server/wiring/compiled_row.hpp"
#include "laredo/snapshot/local_store.hpp"
#include "laredo/sources/postgres/postgres_source.hpp"
#include "laredo/targets/fanout/fanout_target.hpp"
#include "laredo/targets/httpsync/http_sync_target.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace laredo::server::wiring {

// One pipeline's target as the API, the streams and the metrics see it: exactly one of the
// pointers is set (the one of `kind`). Queries and row streams serve the memory targets;
// http-sync and replication-fanout targets appear in status and metrics, and fan-out targets
// serve /v1/replication/{schema}.{table}.
struct table_target {
    std::string pipeline_id;
    std::string source_id;
    table_identifier table;
    config::target_kind kind = config::target_kind::indexed_memory;
    std::shared_ptr<targets::memory::indexed_target> indexed;
    std::shared_ptr<compiled_target> compiled;
    std::shared_ptr<targets::httpsync::http_sync_target> http_sync;
    std::shared_ptr<targets::fanout::fanout_target> fanout;
    // What reads can search by (indexed targets).
    std::vector<std::string> lookup_fields;
    std::vector<index_definition> indexes;

    // True for the targets the query API reads (indexed and compiled memory).
    bool queryable() const noexcept { return indexed || compiled; }
    // Rows the target holds; nullopt for a target that keeps none (http-sync).
    std::optional<std::size_t> row_count() const;
};

// Everything the configuration named, built and connected: the engine (not started), its
// sources, targets and stores.
struct runtime {
    engine eng;
    std::vector<table_target> targets;  // in configuration order
    std::map<std::string, std::shared_ptr<sync_source>> sources;
    std::map<std::string, std::shared_ptr<sources::postgres::postgres_source>> postgres;
    std::shared_ptr<deadletter::local_store> dead_letters;
    std::shared_ptr<snapshots::local_store> snapshots;

    // The targets of a table: of one source, or of every source when source_id is empty.
    std::vector<const table_target*> find(const table_identifier& table,
                                          const std::string& source_id = {}) const;
    const table_target* find_pipeline(const std::string& pipeline_id) const;
};

// Builds the runtime. `executor` runs the engine and the sources; `blocking` runs the
// snapshot store's file I/O. Throws laredo::config_error listing every problem (a bad
// regular expression, an index without fields, a pipeline id given twice, a directory that
// cannot be created...), each naming the configuration key.
runtime build(const config::server_config& config, boost::asio::any_io_executor executor,
              boost::asio::any_io_executor blocking, std::shared_ptr<engine_observer> observer);

}  // namespace laredo::server::wiring
