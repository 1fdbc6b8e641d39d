#pragma once

#include "batcher.hpp"
#include "connection.hpp"
#include "credentials.hpp"
#include "metrics_counters.hpp"
#include "payloads.hpp"
#include "strand_signal.hpp"
#include "url.hpp"

#include "laredo/change_event.hpp"
#include "laredo/column_definition.hpp"
#include "laredo/targets/httpsync/http_sync_target.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace laredo::targets::httpsync {

// The state behind http_sync_target. Everything but `counters` lives on the pipeline's strand
// (the executor on_init ran on): the engine's calls and the sender coroutine take turns there.
class http_sync_target::impl : public std::enable_shared_from_this<impl> {
  public:
    explicit impl(http_sync_options options);

    // ---- the contract (http_sync_target.cpp) ----
    boost::asio::awaitable<void> init(const table_identifier& table, schema_ptr schema);
    boost::asio::awaitable<void> baseline_rows(std::span<const row> rows);
    boost::asio::awaitable<void> baseline_complete(const position& pos);
    boost::asio::awaitable<void> changes(std::span<const change_event> changes);
    boost::asio::awaitable<void> rebuild();
    boost::asio::awaitable<void> close();
    bool durable() const;
    void schema_changed(const row_schema& columns) { columns_ = columns.columns(); }
    // Posts a stop onto the strand: the sender ends, the connection closes.
    void abandon();

    // Thread-safe.
    std::optional<position> confirmed() const {
        std::lock_guard lock(confirmed_mutex_);
        return confirmed_;
    }

    const http_sync_options options_;
    detail::metrics_counters counters;

  private:
    // ---- queueing (http_sync_target.cpp) ----
    void check_not_failed() const;
    // Sends /baseline/start before the first batch of a baseline.
    void start_baseline_if_needed(const schema_ptr& rows_schema);
    // Hands the batches that became ready to the sender, waiting while it has a full queue.
    boost::asio::awaitable<void> hand_over(detail::batcher& from);
    void enqueue(detail::batch b);
    // Waits until the sender has answered everything queued (throws when a batch failed).
    boost::asio::awaitable<void> wait_until_delivered();
    void update_gauges();

    // ---- delivery (delivery.cpp) ----
    enum class outcome { delivered, failed, stopped };
    boost::asio::awaitable<void> run_sender();
    // Sends one batch with its retries.
    boost::asio::awaitable<outcome> deliver(detail::batch& b);
    boost::asio::awaitable<void> sleep(std::chrono::milliseconds delay);
    // A batch failed for good: dead-letter what was accepted and not delivered, refuse work.
    void fail(detail::batch& failed, int attempts, const std::string& code, std::string why);
    // The next time the flush timer must look at the batchers (max when nothing waits).
    detail::batcher::clock::time_point flush_deadline() const;
    void flush_due(detail::batcher::clock::time_point now);
    std::vector<std::pair<std::string, std::string>> request_headers(const std::string& key);
    std::string new_idempotency_key();
    std::string url_of(const std::string& path) const;

    const detail::endpoint endpoint_;
    detail::credentials credentials_;
    const std::shared_ptr<detail::tls_settings> tls_;
    const bool keep_changes_;  // copies for the dead-letter store

    // Strand-confined, set up by init().
    boost::asio::any_io_executor executor_;
    std::unique_ptr<detail::http_connection> connection_;
    std::unique_ptr<detail::strand_signal> progress_;  // the sender finished a batch
    std::unique_ptr<boost::asio::steady_timer> wake_;  // the sender's flush deadline / wake-up
    std::unique_ptr<boost::asio::steady_timer> retry_timer_;
    table_identifier table_;
    std::vector<column_definition> columns_;
    std::optional<detail::payload_encoder> encoder_;
    std::optional<detail::batcher> rows_;
    std::optional<detail::batcher> changes_;
    bool baseline_started_ = false;
    std::uint64_t baseline_rows_ = 0;
    // Batches handed to the sender, oldest first; the front one is in flight while sending_.
    std::deque<detail::batch> queue_;
    bool sending_ = false;
    bool sender_running_ = false;
    bool stopping_ = false;
    std::optional<std::string> failure_;
    // Changes of the engine call in progress already handed to the batcher: if a batch fails
    // during that call, the pipeline dead-letters the call's first change itself, so these
    // are left out of the target's dead letters (no change is written twice).
    std::size_t call_changes_ = 0;
    std::mt19937_64 random_;

    mutable std::mutex confirmed_mutex_;
    std::optional<position> confirmed_;
};

}  // namespace laredo::targets::httpsync
