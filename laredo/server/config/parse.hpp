#pragma once

// The key-by-key reading of each block (internal to config/).

#include "laredo/server/config/reader.hpp"
#include "laredo/server/config/server_config.hpp"

namespace laredo::server::config::detail {

void parse_sources(node_reader& root, server_config& out);
void parse_tables(node_reader& root, server_config& out);
void parse_storage(node_reader& root, server_config& out);  // snapshot, dead_letters
void parse_service(node_reader& root, server_config& out);  // api, health, observability, server

// The keys of one target of these types (parse_delivery_targets.cpp).
void parse_http_sync(node_reader& target, target_config& out);
void parse_replication_fanout(node_reader& target, target_config& out);

// Checks across blocks: tables name known sources, a test source has the tables named for
// it, listeners do not collide.
void check_consistency(const server_config& config, std::vector<problem>& problems);

}  // namespace laredo::server::config::detail
