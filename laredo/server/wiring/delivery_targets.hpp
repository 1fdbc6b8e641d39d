#pragma once

#include "laredo/dead_letter_store.hpp"
#include "laredo/observer.hpp"
#include "laredo/server/config/server_config.hpp"
#include "laredo/sync_source.hpp"
#include "laredo/targets/fanout/fanout_target.hpp"
#include "laredo/targets/httpsync/http_sync_target.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

namespace laredo::server::wiring {

// An http-sync target of pipeline `pipeline_id`: failed batches go to `dead_letters` (may be
// null) under that id, and payloads write positions the way `source` does. Throws
// laredo::error naming the problem (an unset credential variable, an unreadable CA file).
std::shared_ptr<targets::httpsync::http_sync_target> make_http_sync(
    const config::target_config& target, const std::string& pipeline_id,
    std::shared_ptr<dead_letter_store> dead_letters, std::shared_ptr<sync_source> source);

// A replication-fanout target of pipeline `pipeline_id`: snapshots are scheduled on
// `executor`, clients and snapshots are told to `observer` (may be null), and positions order
// the way `source` orders them.
std::shared_ptr<targets::fanout::fanout_target> make_fanout(
    const config::target_config& target, const std::string& pipeline_id,
    boost::asio::any_io_executor executor, std::shared_ptr<engine_observer> observer,
    std::shared_ptr<sync_source> source);

}  // namespace laredo::server::wiring
