#pragma once

#include "laredo/sources/postgres/connection_params.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace laredo::sources::postgres::detail {

// Keyword/value pairs for PQconnectStartParams, owning their strings. Setting a keyword twice
// replaces the first value, so the order of set() calls decides who wins.
class libpq_options {
  public:
    void set(std::string_view keyword, std::string value);
    const std::string* find(std::string_view keyword) const;
    const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

    // NULL-terminated arrays for PQconnectStartParams; valid while *this is unchanged.
    std::vector<const char*> keywords() const;
    std::vector<const char*> values() const;

  private:
    std::vector<std::pair<std::string, std::string>> entries_;
};

// The server settings every laredo session gets (connection_params::session_settings), in
// libpq's `options` form.
inline constexpr std::string_view session_options =
    "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 "
    "-c bytea_output=hex";

// Everything libpq needs for `params`. `host` / `hostaddr` are the lists to pass (hostaddr
// empty when nothing was resolved); `port` is params.port as text or empty.
libpq_options make_libpq_options(const connection_params& params, const std::string& host,
                                 const std::string& hostaddr);

}  // namespace laredo::sources::postgres::detail
