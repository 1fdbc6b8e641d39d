#pragma once

// metadata.json of a local snapshot: the descriptor plus, per table, its file and checksum.

#include "laredo/snapshot_store.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::snapshots::detail {

struct table_file {
    std::string name;  // inside the snapshot's folder
    std::uint32_t crc32c = 0;
};

struct metadata {
    snapshot_descriptor descriptor;
    std::vector<table_file> files;  // parallel to descriptor.tables
};

inline constexpr std::string_view metadata_format = "laredo.snapshot";
inline constexpr int metadata_version = 1;

std::string encode_metadata(const metadata& m);

// Throws errc::corrupt_data naming `name` and the problem (an unknown version included).
metadata decode_metadata(std::string_view text, std::string_view name);

// A name that is safe as one path component: non-empty, [A-Za-z0-9._-] only, not starting
// with '.' (so never ".", ".." or a hidden file).
bool is_safe_name(std::string_view name) noexcept;

}  // namespace laredo::snapshots::detail
