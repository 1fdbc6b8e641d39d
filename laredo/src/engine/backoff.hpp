#pragma once

#include "laredo/retry_policy.hpp"

#include <chrono>
#include <cstdint>
#include <optional>

namespace laredo::detail {

// Counts the failures of one kind of attempt and says how long to wait before the next, by
// a retry_policy. Plain data, no timers: the caller sleeps. Not thread-safe (each user keeps
// its own, confined to its strand).
class backoff {
  public:
    using clock = std::chrono::steady_clock;

    explicit backoff(retry_policy policy, std::uint64_t seed = 0x9e3779b97f4a7c15ull);

    // An attempt starts now (for reset_after).
    void started(clock::time_point now);
    // The attempt failed at `now`: the delay before the next one, or nullopt when the policy
    // allows no more.
    std::optional<std::chrono::milliseconds> failed(clock::time_point now);
    // It succeeded (or made progress): the count and the delay start over.
    void succeeded();

    // Retries so far since the last success.
    int retries() const noexcept { return retries_; }
    const retry_policy& policy() const noexcept { return policy_; }

  private:
    double next_random();

    retry_policy policy_;
    int retries_ = 0;
    std::optional<clock::time_point> started_at_;
    std::uint64_t state_;
};

}  // namespace laredo::detail
