#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::server::config {

// A duration in the Go form: one or more number+unit pairs ("500ms", "30s", "1h30m", "7d"),
// units us, ms, s, m, h, d; fractions allowed ("1.5s"). Whole milliseconds only (the engine's
// granularity): "250us" is refused. A bare number is refused too: "30" could mean seconds or
// milliseconds. nullopt and `why` filled on bad input.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string* why);

// The shortest form parse_duration reads back ("1h30m", "500ms", "0s").
std::string format_duration(std::chrono::milliseconds d);

// A byte size: a whole number with an optional unit B, KB/MB/GB (powers of 1000) or
// KiB/MiB/GiB (powers of 1024): "64MiB", "1GB", "4096". nullopt and `why` on bad input.
std::optional<std::uint64_t> parse_size(std::string_view text, std::string* why);

// Levenshtein distance, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `name` when it is close enough to be a likely typo (distance at
// most a third of the name's length, at least 1, at most 3); empty otherwise.
std::string closest(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace laredo::server::config
