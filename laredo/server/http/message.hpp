#pragma once

#include <boost/json/value.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace laredo::server::http {

// A request as handlers see it: Beast stays inside the server.
struct request {
    std::string method;                             // "GET", "POST", ...
    std::string target;                             // as sent, "/v1/tables?x=1"
    std::vector<std::string> segments;              // the path split on '/', percent-decoded
    std::multimap<std::string, std::string> query;  // decoded query parameters
    std::string authorization;                      // the Authorization header
    std::string content_type;
    std::string body;
    bool websocket_upgrade = false;

    // The first value of a query parameter.
    std::optional<std::string> param(std::string_view name) const;
    std::vector<std::string> params(std::string_view name) const;
};

struct response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    static response json(unsigned status, const boost::json::value& body);
    // {"error":{"code":"...","message":"..."}}
    static response error(unsigned status, std::string_view code, std::string_view message);
    static response text(unsigned status, std::string body, std::string content_type);
};

// Splits a request target into decoded path segments and query parameters; false for a
// broken percent escape.
bool parse_target(std::string_view target, std::vector<std::string>& segments,
                  std::multimap<std::string, std::string>& query);

}  // namespace laredo::server::http
