#pragma once

#include <string>
#include <string_view>

namespace laredo::targets::httpsync::detail {

// Where requests go, from http_sync_options::base_url.
struct endpoint {
    bool tls = false;
    std::string host;         // without brackets for IPv6
    std::string port;         // "80"/"443" when the URL names none
    std::string prefix;       // "" or "/path" without a trailing '/'
    std::string host_header;  // the Host header: host, [v6], plus ":port" when not default
};

// Parses "http(s)://host[:port][/prefix]". Throws laredo::error(errc::invalid_config) naming
// the problem: another scheme, no host, a bad port, user info, a query or a fragment.
endpoint parse_base_url(std::string_view url);

}  // namespace laredo::targets::httpsync::detail
