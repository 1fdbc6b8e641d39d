#pragma once

#include "laredo/targets/httpsync/metrics.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace laredo::targets::httpsync::detail {

// The live counters behind http_sync_metrics: written on the pipeline's strand, read from
// any thread (relaxed: each value is a counter on its own, not a consistent set).
struct metrics_counters {
    std::atomic<std::uint64_t> batches_sent{0};
    std::atomic<std::uint64_t> rows_sent{0};
    std::atomic<std::uint64_t> bytes_sent{0};
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> retries{0};
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::uint64_t> dead_letters{0};
    std::atomic<std::uint64_t> connections{0};
    std::array<std::atomic<std::uint64_t>, http_sync_metrics::latency_bounds.size()> buckets{};
    std::atomic<std::uint64_t> latency_count{0};
    std::atomic<std::uint64_t> latency_sum_us{0};
    std::atomic<std::uint64_t> queued_rows{0};
    std::atomic<bool> failed{false};

    void record_latency(std::chrono::microseconds latency) noexcept {
        const double seconds = static_cast<double>(latency.count()) / 1e6;
        for (std::size_t i = 0; i < buckets.size(); ++i)
            if (seconds <= http_sync_metrics::latency_bounds[i])
                buckets[i].fetch_add(1, std::memory_order_relaxed);
        latency_count.fetch_add(1, std::memory_order_relaxed);
        latency_sum_us.fetch_add(static_cast<std::uint64_t>(latency.count()),
                                 std::memory_order_relaxed);
    }

    http_sync_metrics snapshot() const noexcept {
        constexpr auto r = std::memory_order_relaxed;
        http_sync_metrics m;
        m.batches_sent = batches_sent.load(r);
        m.rows_sent = rows_sent.load(r);
        m.bytes_sent = bytes_sent.load(r);
        m.requests = requests.load(r);
        m.retries = retries.load(r);
        m.failures = failures.load(r);
        m.dead_letters = dead_letters.load(r);
        m.connections = connections.load(r);
        for (std::size_t i = 0; i < buckets.size(); ++i) m.latency_buckets[i] = buckets[i].load(r);
        m.latency_count = latency_count.load(r);
        m.latency_sum_seconds = static_cast<double>(latency_sum_us.load(r)) / 1e6;
        m.queued_rows = queued_rows.load(r);
        m.failed = failed.load(r);
        return m;
    }
};

}  // namespace laredo::targets::httpsync::detail
