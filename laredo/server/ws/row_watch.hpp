#pragma once

#include "laredo/server/http/feed.hpp"
#include "laredo/server/wiring/wiring.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace laredo::server::ws {

// Which rows a client wants: every `equals` column has that value (compared as text), every
// `prefixes` column starts with that text. Inserts and updates are tested on the new row,
// deletes on the old one; truncates always pass.
struct row_filter_spec {
    std::vector<std::pair<std::string, std::string>> equals;
    std::vector<std::pair<std::string, std::string>> prefixes;
};

// Parses the query's eq=column:value and prefix=column:text parameters; false and `why` for
// one without a ':'.
bool parse_row_filter(const std::vector<std::string>& eq, const std::vector<std::string>& prefix,
                      row_filter_spec& out, std::string* why);

// The row stream of one indexed target: {"type":"subscribed",...} first; with `replay`, the
// current rows ({"type":"snapshot","row":{...}}, then {"type":"snapshot_end","rows":N}), then
// every change applied after the listener was registered, which happens before the rows are
// read, so nothing falls between the two (a change made while they are read may appear in
// both); changes as {"type":"change","action":"INSERT|UPDATE|DELETE|TRUNCATE","table":"s.t",
// "old":{...}|null,"new":{...}|null}. The listener goes away when the feed ends.
std::shared_ptr<http::message_feed> watch_rows(boost::asio::any_io_executor executor,
                                               std::uint64_t max_bytes,
                                               const wiring::table_target& target, bool replay,
                                               row_filter_spec filter);

}  // namespace laredo::server::ws
