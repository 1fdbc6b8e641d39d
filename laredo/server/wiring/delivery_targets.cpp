#include "laredo/server/wiring/delivery_targets.hpp"

namespace laredo::server::wiring {

std::shared_ptr<targets::httpsync::http_sync_target> make_http_sync(
    const config::target_config& target, const std::string& pipeline_id,
    std::shared_ptr<dead_letter_store> dead_letters, std::shared_ptr<sync_source> source) {
    auto o = target.http_sync;
    o.pipeline_id = pipeline_id;
    o.dead_letters = std::move(dead_letters);
    // Receivers see positions in the source's own form ("0/16B3748:2" for PostgreSQL).
    if (source)
        o.format_position = [source](const position& p) { return source->position_to_string(p); };
    return std::make_shared<targets::httpsync::http_sync_target>(std::move(o));
}

std::shared_ptr<targets::fanout::fanout_target> make_fanout(
    const config::target_config& target, const std::string& pipeline_id,
    boost::asio::any_io_executor executor, std::shared_ptr<engine_observer> observer,
    std::shared_ptr<sync_source> source) {
    auto o = target.fanout;
    o.pipeline_id = pipeline_id;
    o.observer = std::move(observer);
    if (source)
        o.compare_positions = [source](const position& a, const position& b) {
            return source->compare_positions(a, b);
        };
    return std::make_shared<targets::fanout::fanout_target>(std::move(executor), std::move(o));
}

}  // namespace laredo::server::wiring
