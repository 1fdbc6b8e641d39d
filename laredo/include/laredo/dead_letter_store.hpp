#pragma once

#include "laredo/change_event.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace laredo {

// A change a pipeline could not apply after its retries, kept so an operator can look at it
// and replay it once the target is fixed. The change is stored as the target saw it (after
// filters and transforms); its position in the source's string form, so no type is lost.
struct dead_letter {
    std::uint64_t sequence = 0;  // assigned by the store, increasing per pipeline
    std::string pipeline_id;
    std::chrono::system_clock::time_point written_at{};
    change_event change;     // change.pos is left empty: `position` holds it
    std::string position;    // the source's position_to_string of change.pos ("" = none)
    std::string error_code;  // "laredo:target_failed", "system:111", ...
    std::string error_message;
    int attempts = 0;  // how many times the pipeline tried to apply it
};

// Where pipelines put changes they could not apply. Implementations are thread-safe: pipelines
// write from their strands concurrently. Calls block on I/O (they run only on the failure path
// and on operator request).
//
// Failures throw laredo::error: errc::invalid_argument for a bad pipeline id,
// errc::buffer_overflow when a write would exceed the store's byte limit (the caller reports
// it; the letter is not written), errc::corrupt_data / errc::schema_mismatch from readers.
class dead_letter_store {
  public:
    virtual ~dead_letter_store() = default;

    // Appends one letter and returns its sequence number. Durable when it returns.
    virtual std::uint64_t write(dead_letter letter) = 0;

    // The oldest `limit` letters of a pipeline (0 = all), oldest first.
    virtual std::vector<dead_letter> list(const std::string& pipeline_id,
                                          std::size_t limit = 0) const = 0;

    // How many letters a pipeline has.
    virtual std::size_t count(const std::string& pipeline_id) const = 0;

    // Pipelines that have letters.
    virtual std::vector<std::string> pipelines() const = 0;

    // Removes a pipeline's letters up to and including `sequence` (after a replay applied
    // them). Letters written meanwhile stay.
    virtual void remove_through(const std::string& pipeline_id, std::uint64_t sequence) = 0;

    // Removes every letter of a pipeline; returns how many there were.
    virtual std::size_t purge(const std::string& pipeline_id) = 0;
};

}  // namespace laredo
