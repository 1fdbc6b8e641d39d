#include "url.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace laredo::targets::httpsync::detail {

namespace {

[[noreturn]] void bad_url(std::string_view url, std::string_view why) {
    throw error(errc::invalid_config, fmt::format("httpsync base_url \"{}\": {}", url, why));
}

bool lower_equals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == y;
           });
}

}  // namespace

endpoint parse_base_url(std::string_view url) {
    endpoint ep;
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) bad_url(url, "expected http://host or https://host");
    const auto scheme = url.substr(0, scheme_end);
    if (lower_equals(scheme, "https")) {
        ep.tls = true;
    } else if (!lower_equals(scheme, "http")) {
        bad_url(url, "the scheme must be http or https");
    }
    auto rest = url.substr(scheme_end + 3);
    if (rest.find_first_of("?#") != std::string_view::npos)
        bad_url(url, "a query or fragment is not allowed");
    const auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) ep.prefix = std::string(rest.substr(slash));
    while (!ep.prefix.empty() && ep.prefix.back() == '/') ep.prefix.pop_back();
    if (authority.find('@') != std::string_view::npos)
        bad_url(url, "user info is not allowed (use auth_header or bearer_token)");

    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) bad_url(url, "unterminated IPv6 address");
        ep.host = std::string(authority.substr(1, close - 1));
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') bad_url(url, "unexpected text after the IPv6 address");
            port = after.substr(1);
        }
    } else {
        const auto colon = authority.find(':');
        ep.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    }
    if (ep.host.empty()) bad_url(url, "no host");
    for (const char c : ep.host) {
        if (std::isspace(static_cast<unsigned char>(c)) ||
            std::iscntrl(static_cast<unsigned char>(c)))
            bad_url(url, "the host contains spaces or control characters");
    }
    for (const char c : ep.prefix) {
        if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
            bad_url(url, "the path contains spaces or control characters (percent-encode them)");
    }

    const char* const default_port = ep.tls ? "443" : "80";
    if (port.empty()) {
        if (authority.back() == ':') bad_url(url, "empty port");
        ep.port = default_port;
    } else {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
            bad_url(url, fmt::format("bad port \"{}\"", port));
        ep.port = std::to_string(value);
    }
    const bool v6 = ep.host.find(':') != std::string::npos;
    ep.host_header = v6 ? "[" + ep.host + "]" : ep.host;
    if (ep.port != default_port) ep.host_header += ":" + ep.port;
    return ep;
}

}  // namespace laredo::targets::httpsync::detail
