#pragma once

// The cascading source's resume file: the last acknowledged upstream position, in the wire
// form of laredo/replica/positions.hpp, on one line of JSON:
//
//   {"format":"laredo.fanout-source","version":1,"position":"s:42"}
//
// Written durably (a temporary file, fsync, rename) on every ack.

#include "laredo/position.hpp"

#include <filesystem>
#include <optional>

namespace laredo::sources::fanout::detail {

// Throws errc::transient when the file cannot be written.
void save_resume_position(const std::filesystem::path& path, const position& pos);
// nullopt when there is no file; errc::corrupt_data naming the file when it is not one.
std::optional<position> load_resume_position(const std::filesystem::path& path);

}  // namespace laredo::sources::fanout::detail
