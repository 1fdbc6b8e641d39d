#include "laredo/server/metrics/delivery_metrics.hpp"

#include "laredo/server/wiring/wiring.hpp"

#include <fmt/format.h>

#include <functional>
#include <utility>

namespace laredo::server::metrics {

namespace {

using httpsync_metrics = targets::httpsync::http_sync_metrics;

labels target_labels(const wiring::table_target& t) {
    return {{"pipeline", t.pipeline_id}, {"source", t.source_id}, {"table", t.table.to_string()}};
}

void write_httpsync(exposition& out, const wiring::runtime& rt) {
    std::vector<std::pair<labels, httpsync_metrics>> all;
    for (const auto& t : rt.targets)
        if (t.http_sync) all.emplace_back(target_labels(t), t.http_sync->metrics());
    if (all.empty()) return;
    auto counter = [&](const char* name, const char* help, std::uint64_t httpsync_metrics::*field) {
        out.family(name, "counter", help);
        for (const auto& [l, m] : all) out.sample(name, l, m.*field);
    };
    counter("laredo_httpsync_batches_sent_total", "Requests the endpoint answered 2xx.",
            &httpsync_metrics::batches_sent);
    counter("laredo_httpsync_rows_sent_total", "Changes and baseline rows in those requests.",
            &httpsync_metrics::rows_sent);
    counter("laredo_httpsync_bytes_sent_total", "JSON body bytes of those requests.",
            &httpsync_metrics::bytes_sent);
    counter("laredo_httpsync_requests_total", "Request attempts, answered or not.",
            &httpsync_metrics::requests);
    counter("laredo_httpsync_retries_total", "Attempts after a retryable failure.",
            &httpsync_metrics::retries);
    counter("laredo_httpsync_failures_total", "Batches that failed for good.",
            &httpsync_metrics::failures);
    counter("laredo_httpsync_dead_letters_total", "Changes written to the dead-letter store.",
            &httpsync_metrics::dead_letters);
    counter("laredo_httpsync_connections_total", "Connections opened to the endpoint.",
            &httpsync_metrics::connections);

    out.family("laredo_httpsync_request_seconds", "histogram",
               "Latency of answered attempts, request written to response read.");
    for (const auto& [l, m] : all) {
        for (std::size_t i = 0; i < httpsync_metrics::latency_bounds.size(); ++i) {
            auto bucket = l;
            bucket.emplace_back("le", fmt::format("{}", httpsync_metrics::latency_bounds[i]));
            out.sample("laredo_httpsync_request_seconds_bucket", bucket, m.latency_buckets[i]);
        }
        auto inf = l;
        inf.emplace_back("le", "+Inf");
        out.sample("laredo_httpsync_request_seconds_bucket", inf, m.latency_count);
        out.sample("laredo_httpsync_request_seconds_sum", l, m.latency_sum_seconds);
        out.sample("laredo_httpsync_request_seconds_count", l, m.latency_count);
    }
    out.family("laredo_httpsync_queued_rows", "gauge",
               "Changes and rows accepted but not yet answered 2xx.");
    for (const auto& [l, m] : all) out.sample("laredo_httpsync_queued_rows", l, m.queued_rows);
    out.family("laredo_httpsync_failed", "gauge",
               "1 when a batch failed for good and the target refuses work until a new copy.");
    for (const auto& [l, m] : all)
        out.sample("laredo_httpsync_failed", l, std::uint64_t{m.failed ? 1u : 0u});
}

void write_fanout(exposition& out, const wiring::runtime& rt) {
    std::vector<std::pair<labels, const targets::fanout::fanout_target*>> all;
    for (const auto& t : rt.targets)
        if (t.fanout) all.emplace_back(target_labels(t), t.fanout.get());
    if (all.empty()) return;
    using target = targets::fanout::fanout_target;
    auto gauge = [&](const char* name, const char* type, const char* help,
                     const std::function<std::uint64_t(const target&)>& read) {
        out.family(name, type, help);
        for (const auto& [l, t] : all) out.sample(name, l, read(*t));
    };
    gauge("laredo_fanout_clients", "gauge", "Replication clients connected.",
          [](const target& t) { return static_cast<std::uint64_t>(t.clients().size()); });
    gauge("laredo_fanout_client_queue_bytes", "gauge",
          "Bytes of messages waiting for replication clients, all clients together.",
          [](const target& t) {
              std::uint64_t sum = 0;
              for (const auto& c : t.clients()) sum += c.queue_bytes;
              return sum;
          });
    gauge("laredo_fanout_journal_entries", "gauge", "Changes the journal holds.",
          [](const target& t) { return static_cast<std::uint64_t>(t.journal().entries); });
    gauge("laredo_fanout_journal_bytes", "gauge", "Bytes the journal's entries take.",
          [](const target& t) { return static_cast<std::uint64_t>(t.journal().bytes); });
    gauge("laredo_fanout_journal_head_sequence", "gauge", "Sequence of the newest entry.",
          [](const target& t) { return t.journal().head_sequence; });
    gauge("laredo_fanout_journal_pruned_total", "counter", "Entries pruned from the journal.",
          [](const target& t) { return t.journal().pruned_total; });
    gauge("laredo_fanout_snapshots", "gauge", "In-memory snapshots retained.",
          [](const target& t) { return static_cast<std::uint64_t>(t.snapshots().size()); });
    gauge("laredo_fanout_rows", "gauge", "Rows of the table the target holds.",
          [](const target& t) { return static_cast<std::uint64_t>(t.count()); });
    gauge("laredo_fanout_draining", "gauge", "1 while clients are being sent away (GoAway).",
          [](const target& t) { return std::uint64_t{t.draining().draining ? 1u : 0u}; });
}

}  // namespace

void write_delivery_metrics(exposition& out, const wiring::runtime& rt) {
    write_httpsync(out, rt);
    write_fanout(out, rt);
}

}  // namespace laredo::server::metrics
