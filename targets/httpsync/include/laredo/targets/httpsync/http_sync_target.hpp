#pragma once

#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/sync_target.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/targets/httpsync/metrics.hpp"
#include "laredo/targets/httpsync/options.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>

namespace laredo::targets::httpsync {

// Forwards ONE table's baseline and changes (one target object per pipeline) to an HTTP(S)
// endpoint as batches of JSON, over one persistent keep-alive connection. The wire format is
// in docs/httpsync.md.
//
// Durability: a batch counts only once the endpoint answered 2xx. Until then the target is
// not durable and confirmed_position() stays at the end of the last transaction of the last
// answered batch, so the engine never ACKs the source past what the endpoint has.
//
// Flow: changes collect into a batch that is sent when full (options.batch_size /
// batch_bytes) or after options.flush_interval. One request is in flight at a time and at
// most one full batch waits behind it; a call that would need more waits, so a slow
// endpoint fills the pipeline's buffer and slows the source (no unbounded queue).
//
// Failures: retryable ones are retried inside the target (see http_sync_options); a batch
// that still fails is written to options.dead_letters with everything queued behind it, the
// target refuses further work with errc::target_failed, and the pipeline's error policy
// applies. A re-baseline (the engine's reload) starts it afresh. Baseline batches are not
// dead-lettered: a failed baseline fails the pipeline, and the reload sends it again.
//
// Threads: the engine calls every operation on the pipeline's strand; the target's own
// coroutines (the sender, the flush timer) run there too. metrics() may be called from any
// thread.
class http_sync_target final : public sync_target {
  public:
    // Validates the options and reads the credentials (env/file) and TLS files: throws
    // laredo::error(errc::invalid_config) naming what is wrong (never a credential).
    explicit http_sync_target(http_sync_options options);
    ~http_sync_target() override;
    http_sync_target(const http_sync_target&) = delete;
    http_sync_target& operator=(const http_sync_target&) = delete;

    std::string type_name() const override { return "httpsync"; }

    // Remembers the columns; the next baseline starts with POST /baseline/start. Also ends a
    // failed state. Must run on the strand the pipeline will call from.
    boost::asio::awaitable<void> on_init(const table_identifier& table, schema_ptr schema) override;
    boost::asio::awaitable<void> on_baseline_rows(const table_identifier& table,
                                                  std::span<const row> rows) override;
    // Sends what is left of the baseline and POST /baseline/complete, and waits until the
    // endpoint has them all (throws when they failed).
    boost::asio::awaitable<void> on_baseline_complete(const table_identifier& table,
                                                      const position& pos) override;

    boost::asio::awaitable<void> on_changes(const table_identifier& table,
                                            std::span<const change_event> changes) override;
    boost::asio::awaitable<void> on_insert(const table_identifier& table,
                                           const change_event& change) override;
    boost::asio::awaitable<void> on_update(const table_identifier& table,
                                           const change_event& change) override;
    boost::asio::awaitable<void> on_delete(const table_identifier& table,
                                           const change_event& change) override;
    boost::asio::awaitable<void> on_truncate(const table_identifier& table,
                                             const change_event& change) override;

    // True when nothing is waiting or in flight (everything handed over was answered 2xx).
    bool is_durable() const override;
    // The end of the last transaction (or baseline) the endpoint answered 2xx for.
    std::optional<position> confirmed_position() const override;

    boost::asio::awaitable<schema_change_response> on_schema_change(
        const table_identifier& table, const row_schema& old_schema,
        const row_schema& new_schema) override;

    // A re-baseline: what is waiting is sent first (a failed state is cleared: the reload
    // brings everything again), then the new copy follows from /baseline/start.
    boost::asio::awaitable<void> begin_rebuild(const table_identifier& table) override;
    boost::asio::awaitable<void> commit_rebuild(const table_identifier& table) override;

    // Sends everything still waiting (a transaction whose end never came included), waits
    // for the answers, and closes the connection. Throws errc::target_failed when a batch
    // failed (it is dead-lettered).
    boost::asio::awaitable<void> on_close(const table_identifier& table) override;

    // A copy of the counters; thread-safe.
    http_sync_metrics metrics() const;

  private:
    class impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace laredo::targets::httpsync
