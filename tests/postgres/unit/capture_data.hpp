#pragma once

// Test data captured from a real PostgreSQL 15 by sources/postgres/tools/capture_pgoutput.sh:
// one CopyData message per line in hex, '#' lines are comments.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::sources::postgres::testing {

// The path of a file in tests/postgres/unit/data.
std::string data_path(std::string_view name);

// Every CopyData message of a capture file, in order. Fails the calling test (by throwing
// std::runtime_error) when the file is missing or malformed.
std::vector<std::string> load_capture(std::string_view name);

// The pgoutput payloads (XLogData contents) of a capture, in order, keepalives left out.
std::vector<std::string> load_payloads(std::string_view name);

// The payloads whose tag is `tag` ('I', 'U', ...).
std::vector<std::string> payloads_with_tag(const std::vector<std::string>& payloads, char tag);

// The lines of a COPY ... TO STDOUT text file, each split into fields with COPY's escapes
// undone; nullopt for \N.
std::vector<std::vector<std::optional<std::string>>> load_copy_text(std::string_view name);

}  // namespace laredo::sources::postgres::testing
