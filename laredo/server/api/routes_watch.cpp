#include "laredo/server/api/context.hpp"

namespace laredo::server::api {

namespace {
// WebSocket routes are served by service::websocket; a plain request gets 426 before this.
boost::asio::awaitable<http::response> upgrade_only(call&) {
    co_return http::response::error(426, "upgrade_required", "connect with a WebSocket upgrade");
}
}  // namespace

void add_watch_routes(std::vector<route>& out) {
    out.push_back({"GET", "/v1/watch/status", access::read, group::api, true, upgrade_only});
    out.push_back(
        {"GET", "/v1/watch/tables/{table}", access::read, group::api, true, upgrade_only});
    // The replication protocol of a replication-fanout target (service::websocket hands the
    // connection to the target's own session).
    out.push_back({"GET", "/v1/replication/{table}", access::read, group::api, true, upgrade_only});
}

}  // namespace laredo::server::api
