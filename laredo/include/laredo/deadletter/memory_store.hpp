#pragma once

#include "laredo/dead_letter_store.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace laredo::deadletter {

struct memory_store_options {
    // Limit on the letters' approximate in-memory size (structures, strings and values), over
    // all pipelines; 0 = no limit. A write that would pass it throws errc::buffer_overflow.
    std::uint64_t max_bytes = 64ull << 20;
};

// Dead letters kept in memory: lost when the process ends. For tests, embedders that replay
// right away, and deployments without a writable disk. Thread-safe (one mutex).
class memory_store final : public dead_letter_store {
  public:
    explicit memory_store(memory_store_options options = {});

    // Assigns the next sequence of the pipeline (1, 2, ...; never reused while the store
    // lives, purge included) and written_at when it is unset. errc::invalid_argument for an
    // empty pipeline id, errc::buffer_overflow naming the limit.
    std::uint64_t write(dead_letter letter) override;
    std::vector<dead_letter> list(const std::string& pipeline_id,
                                  std::size_t limit = 0) const override;
    std::size_t count(const std::string& pipeline_id) const override;
    std::vector<std::string> pipelines() const override;
    void remove_through(const std::string& pipeline_id, std::uint64_t sequence) override;
    std::size_t purge(const std::string& pipeline_id) override;

    // What the letters take now, for the store's memory metric.
    std::uint64_t bytes_used() const;
    std::uint64_t max_bytes() const noexcept { return options_.max_bytes; }

    // The approximate size a letter is counted at.
    static std::uint64_t footprint(const dead_letter& letter) noexcept;

  private:
    struct pipeline_letters {
        std::vector<dead_letter> letters;  // oldest first
        std::uint64_t next_sequence = 1;
    };

    memory_store_options options_;
    mutable std::mutex mutex_;
    std::map<std::string, pipeline_letters, std::less<>> pipelines_;
    std::uint64_t bytes_ = 0;
};

}  // namespace laredo::deadletter
