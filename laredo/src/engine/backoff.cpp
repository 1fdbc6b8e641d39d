#include "backoff.hpp"

#include <algorithm>
#include <cmath>

namespace laredo::detail {

backoff::backoff(retry_policy policy, std::uint64_t seed) : policy_(policy), state_(seed) {}

void backoff::started(clock::time_point now) { started_at_ = now; }

void backoff::succeeded() { retries_ = 0; }

double backoff::next_random() {
    // splitmix64: enough to spread delays, and reproducible from the seed.
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) / static_cast<double>(1ull << 53);  // [0, 1)
}

std::optional<std::chrono::milliseconds> backoff::failed(clock::time_point now) {
    if (policy_.reset_after.count() > 0 && started_at_ && now - *started_at_ >= policy_.reset_after)
        retries_ = 0;  // it was healthy long enough: a new outage
    started_at_.reset();
    if (policy_.attempts >= 0 && retries_ >= policy_.attempts) return std::nullopt;
    const double base = static_cast<double>(policy_.initial.count()) *
                        std::pow(std::max(policy_.multiplier, 1.0), retries_);
    double delay = std::min(base, static_cast<double>(policy_.max.count()));
    if (policy_.jitter > 0) {
        const double j = std::min(policy_.jitter, 1.0);
        delay *= 1.0 - j + 2.0 * j * next_random();
    }
    ++retries_;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(delay, 0.0)));
}

}  // namespace laredo::detail
