#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace laredo::targets::httpsync {

// A copy of an HTTP sync target's counters (http_sync_target::metrics()), for a metrics
// endpoint. Counters only grow; gauges are the value now. Suggested Prometheus names are in
// docs/httpsync.md.
struct http_sync_metrics {
    // Upper bounds (seconds) of the request latency histogram's buckets; a last, implicit
    // bucket is +Inf.
    static constexpr std::array<double, 12> latency_bounds{0.005, 0.01, 0.025, 0.05, 0.1,  0.25,
                                                           0.5,   1.0,  2.5,   5.0,  10.0, 30.0};

    std::uint64_t batches_sent = 0;  // requests answered 2xx (every path)
    std::uint64_t rows_sent = 0;     // changes and baseline rows in those
    std::uint64_t bytes_sent = 0;    // their JSON bodies
    std::uint64_t requests = 0;      // attempts, answered or not
    std::uint64_t retries = 0;       // attempts after a retryable failure
    std::uint64_t failures = 0;      // batches that failed for good
    std::uint64_t dead_letters = 0;  // changes written to the dead-letter store
    std::uint64_t connections = 0;   // connections opened (keep-alive reuses one)

    // Latency of answered attempts (request written to response read), cumulative like a
    // Prometheus histogram: latency_buckets[i] counts those <= latency_bounds[i].
    std::array<std::uint64_t, latency_bounds.size()> latency_buckets{};
    std::uint64_t latency_count = 0;
    double latency_sum_seconds = 0;

    // Gauges.
    std::uint64_t queued_rows = 0;  // changes and rows waiting or in flight, not yet answered
    bool failed = false;            // a batch failed for good; the target refuses work until
                                    // a re-baseline (begin_rebuild) or a new on_init
};

// What happened to one request, as the observer hears it.
struct http_sync_event {
    std::string path;      // "/changes", "/baseline/batch", ... (after the URL's prefix)
    std::size_t rows = 0;  // changes or baseline rows the request carries
    std::size_t bytes = 0;
    int attempt = 1;  // 1 for the first try
    int status = 0;   // HTTP status, 0 when no response was read
    std::chrono::microseconds latency{0};
    std::string error;  // why the attempt failed (empty on success); never holds credentials
};

// Hears an HTTP sync target's requests. Called on the pipeline's strand: must not block.
class http_sync_observer {
  public:
    virtual ~http_sync_observer() = default;
    // A request was answered 2xx.
    virtual void on_batch_sent(const http_sync_event& /*event*/) {}
    // An attempt failed in a way worth retrying; the next one starts after `delay`.
    virtual void on_retry(const http_sync_event& /*event*/, std::chrono::milliseconds /*delay*/) {}
    // A request failed for good (retries exhausted, or a failure retrying cannot fix).
    virtual void on_batch_failed(const http_sync_event& /*event*/) {}
};

}  // namespace laredo::targets::httpsync
