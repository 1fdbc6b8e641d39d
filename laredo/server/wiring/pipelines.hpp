#pragma once

#include "laredo/pipeline_options.hpp"
#include "laredo/server/config/server_config.hpp"

#include <string>
#include <vector>

namespace laredo::server::wiring {

// The pipeline options of one target of a table; problems (a bad regular expression) are
// appended, prefixed with `key`.
pipeline_options make_pipeline_options(const config::table_config& table,
                                       const config::target_config& target, const std::string& key,
                                       std::vector<std::string>& problems);

// A filter that keeps rows whose `field` equals `v`. Values of different alternatives
// compare by their text (a TOML integer matches a numeric column holding "5").
row_filter loose_equals(std::string field, value v);

}  // namespace laredo::server::wiring
