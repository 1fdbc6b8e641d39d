#pragma once

// One line of a dead-letter file (format in laredo/deadletter/local_store.hpp): encoding, and
// decoding that tells a torn or corrupted line (skipped) from a line this reader must refuse.

#include "laredo/dead_letter_store.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace laredo::deadletter::detail {

inline constexpr int format_version = 1;

// The line of a letter, '\n' included. Throws errc::invalid_argument when the change cannot
// be written (a column name that is not UTF-8).
std::string encode_letter(const dead_letter& letter);

// The header line a rewritten file starts with, '\n' included.
std::string encode_header(std::string_view pipeline_id, std::uint64_t next_sequence);

struct decoded_line {
    enum class kind {
        letter,   // `letter` is set
        header,   // `next_sequence` is set
        corrupt,  // checksum or content wrong: skip it (`problem` says why)
        refused,  // valid checksum, but another version or pipeline: `problem` says which
    };
    kind what = kind::corrupt;
    dead_letter letter;
    std::uint64_t next_sequence = 0;
    std::string problem;
};

// Decodes one line (without its '\n') of `pipeline_id`'s file.
decoded_line decode_line(std::string_view line, std::string_view pipeline_id);

}  // namespace laredo::deadletter::detail
