#pragma once

// JSON views of engine state for the API: stable field names, positions as strings.

#include "laredo/server/api/context.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace laredo::server::api {

// A source's position in its string form ("" for an empty position or an unknown source).
std::string position_text(const context& ctx, const std::string& source_id, const position& pos);

// "STARTING", "BASELINING", "STREAMING", "PAUSED", "ERROR", "DRAINING", "STOPPED".
std::string engine_state(const context& ctx);

boost::json::object pipeline_json(const context& ctx, const pipeline_info& p);
boost::json::object source_json(const context& ctx, const std::string& source_id);
boost::json::object snapshot_json(const snapshot_descriptor& d);
boost::json::object dead_letter_json(const dead_letter& d);
std::string format_time(std::chrono::system_clock::time_point t);

// Request helpers that throw api_error with a 400.
table_identifier table_arg(const std::string& text);
boost::json::object body_object(const http::request& req);  // {} for an empty body
std::size_t size_param(const http::request& req, std::string_view name, std::size_t fallback,
                       std::size_t max);

// The one source serving `table` (?source= chooses; 404 unknown, 400 ambiguous).
std::string source_for_table(const context& ctx, const table_identifier& table,
                             const std::optional<std::string>& source);

}  // namespace laredo::server::api
