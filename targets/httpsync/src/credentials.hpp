#pragma once

#include "laredo/targets/httpsync/options.hpp"

#include <optional>
#include <string>

namespace laredo::targets::httpsync::detail {

// The Authorization header value from the options: literal, from an environment variable or
// from a file, as given or as "Bearer <token>". The value never appears in an error.
class credentials {
  public:
    // Reads the variable or file now. Throws laredo::error(errc::invalid_config) naming the
    // variable or file (never its content) when it is missing, unreadable, empty or holds
    // control characters.
    explicit credentials(const http_sync_options& options);

    // The header value; nullopt when no authorization is configured.
    const std::optional<std::string>& header() const noexcept { return header_; }

    // Reads a file-based value again (a rotated token). Returns false, keeping the previous
    // value, when the file cannot be read now.
    bool refresh();

  private:
    std::optional<std::string> read_file() const;
    std::optional<std::string> header_;
    std::string file_;
    bool bearer_ = false;
};

}  // namespace laredo::targets::httpsync::detail
