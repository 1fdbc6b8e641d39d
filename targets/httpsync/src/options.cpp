#include "laredo/targets/httpsync/options.hpp"
#include "laredo/error.hpp"
#include "url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>
#include <vector>

namespace laredo::targets::httpsync {

namespace {

// RFC 9110 token characters.
bool is_token(std::string_view s) {
    if (s.empty()) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return std::isalnum(u) ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
}

// Printable ASCII, tabs, and bytes of UTF-8 sequences; never CR, LF or other controls (a
// header value must not smuggle another header).
bool is_field_value(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u == '\t' || (u >= 0x20 && u != 0x7f);
    });
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

void http_sync_options::validate() const {
    std::vector<std::string> problems;
    if (base_url.empty()) {
        problems.emplace_back("base_url is required");
    } else {
        try {
            const auto ep = detail::parse_base_url(base_url);
            if (!ep.tls && (!ca_file.empty() || !client_cert_file.empty()))
                problems.emplace_back("ca_file and client certificates need an https base_url");
        } catch (const error& e) {
            problems.emplace_back(e.what());
        }
    }
    if (batch_size < 1) problems.emplace_back("batch_size must be at least 1");
    if (batch_bytes < 1024) problems.emplace_back("batch_bytes must be at least 1024");
    if (flush_interval.count() <= 0) problems.emplace_back("flush_interval must be positive");
    if (connect_timeout.count() <= 0) problems.emplace_back("connect_timeout must be positive");
    if (request_timeout.count() <= 0) problems.emplace_back("request_timeout must be positive");
    if (max_retries < 0) problems.emplace_back("max_retries must not be negative");
    if (retry_initial_backoff.count() <= 0)
        problems.emplace_back("retry_initial_backoff must be positive");
    if (retry_max_backoff < retry_initial_backoff)
        problems.emplace_back("retry_max_backoff must not be below retry_initial_backoff");
    if (!(retry_jitter >= 0.0 && retry_jitter <= 1.0))
        problems.emplace_back("retry_jitter must be between 0 and 1");
    if (max_retry_after.count() < 0) problems.emplace_back("max_retry_after must not be negative");

    static constexpr std::array<std::string_view, 7> reserved = {
        "Host",       "Content-Length", "Content-Type",   "Transfer-Encoding",
        "Connection", "Authorization",  "Idempotency-Key"};
    for (const auto& [name, value] : headers) {
        if (!is_token(name)) {
            problems.push_back(fmt::format("header name \"{}\" is not an HTTP token", name));
            continue;
        }
        if (std::any_of(reserved.begin(), reserved.end(),
                        [&](std::string_view r) { return iequals(r, name); }))
            problems.push_back(
                fmt::format("header {} is set by the target and cannot be given", name));
        if (!is_field_value(value))
            problems.push_back(
                fmt::format("header {}: the value contains control characters", name));
    }

    const int auth_sources = !auth_header.empty() + !auth_header_env.empty() +
                             !auth_header_file.empty() + !bearer_token.empty() +
                             !bearer_token_env.empty() + !bearer_token_file.empty();
    if (auth_sources > 1)
        problems.emplace_back(
            "give at most one of auth_header, auth_header_env, auth_header_file, bearer_token, "
            "bearer_token_env, bearer_token_file");
    // The values themselves are never quoted: they are secrets.
    if (!is_field_value(auth_header) || !is_field_value(bearer_token))
        problems.emplace_back("the Authorization value contains control characters");

    if (client_cert_file.empty() != client_key_file.empty())
        problems.emplace_back("client_cert_file and client_key_file go together");
    if (dead_letters && pipeline_id.empty())
        problems.emplace_back("pipeline_id is required with a dead-letter store");

    if (problems.empty()) return;
    std::string message = "invalid httpsync options: ";
    for (std::size_t i = 0; i < problems.size(); ++i) {
        if (i) message += "; ";
        message += problems[i];
    }
    throw error(errc::invalid_config, message);
}

}  // namespace laredo::targets::httpsync
