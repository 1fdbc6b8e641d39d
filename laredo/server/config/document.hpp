#pragma once

// The merged TOML document (internal to config/): files, then --set.

#include "laredo/server/config/load.hpp"

#include <toml++/toml.h>

#include <set>
#include <string>
#include <vector>

namespace laredo::server::config::detail {

// Parses `text` (named `name` in messages) and merges it into `into`: tables merge key by
// key, arrays of tables ([[tables]]) append, anything else replaces. A syntax error becomes
// a problem with its line.
void merge_text(toml::table& into, const std::string& text, const std::string& name,
                std::vector<problem>& problems);

// Applies one --set key=value: the key is dotted ("sources.pg.slot_name"; array elements as
// "tables[0]" or "tables.0"; "quoted" segments may contain dots), the value is TOML when it
// parses as such ("4001", "true", "[\"a\"]") and a plain string otherwise. Returns the
// normalized key path (as node_reader spells it), or "" after reporting a problem.
std::string apply_override(toml::table& root, const std::string& assignment,
                           std::vector<problem>& problems);

// The document as TOML with the values at `secret_paths` (and their _env/_file-free
// siblings) replaced by "***".
std::string masked_toml(const toml::table& root, const std::set<std::string>& secret_paths);

}  // namespace laredo::server::config::detail
