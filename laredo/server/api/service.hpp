#pragma once

#include "laredo/server/api/context.hpp"
#include "laredo/server/http/server.hpp"

#include <vector>

namespace laredo::server::api {

// The HTTP handler of every listener: matches the route, checks the listener serves its
// group and the bearer token allows it, runs it, and turns failures into
// {"error":{"code","message"}} with the right status.
class service final : public http::handler {
  public:
    explicit service(context ctx);

    boost::asio::awaitable<http::response> handle(http::request req,
                                                  const config::listener_config& listener) override;
    upgrade websocket(const http::request& req, const config::listener_config& listener) override;

    const std::vector<route>& routes() const noexcept { return routes_; }

  private:
    struct match_result;
    // The route for the request, or the error response (404, 405, 401, 403).
    std::variant<std::pair<const route*, call>, http::response> match(
        const http::request& req, const config::listener_config& listener);

    // /v1/replication/{table}: the connection goes to the table's fan-out target.
    upgrade replication(const call& c);

    context ctx_;
    std::vector<route> routes_;
};

// The error response for an exception a handler threw (api_error, laredo::error with its
// code mapped to a status, anything else 500).
http::response error_response(const std::exception_ptr& e);

// Constant-time token comparison.
bool same_token(std::string_view a, std::string_view b) noexcept;

}  // namespace laredo::server::api
