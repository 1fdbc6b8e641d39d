#pragma once

#include "laredo/server/metrics/exposition.hpp"

namespace laredo::server::wiring {
struct runtime;
}

namespace laredo::server::metrics {

// The families of the targets that deliver a table elsewhere, read from the targets at each
// scrape: laredo_httpsync_* (the http-sync targets' counters, request latency and queue)
// and laredo_fanout_* (replication clients, their queues, the journal, snapshots, drain).
// Each carries the pipeline, source and table labels; nothing is written for a type no
// target has.
void write_delivery_metrics(exposition& out, const wiring::runtime& rt);

}  // namespace laredo::server::metrics
