// The sender: one coroutine per target on the pipeline's strand that sends the queued
// batches in order, one at a time, with retries; the flush timer; failure and dead letters.
#include "retry.hpp"
#include "target_impl.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <fmt/format.h>

namespace laredo::targets::httpsync {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using clock_type = detail::batcher::clock;

namespace {

// The start of a response body for an error message: valid UTF-8, one line, short.
std::string excerpt(const std::string& body) {
    std::string text = json::sanitize_utf8(body.substr(0, 200));
    for (auto& c : text)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
}

}  // namespace

std::string http_sync_target::impl::url_of(const std::string& path) const {
    return fmt::format("{}://{}{}{}", endpoint_.tls ? "https" : "http", endpoint_.host_header,
                       endpoint_.prefix, path);
}

std::string http_sync_target::impl::new_idempotency_key() {
    // A version-4 UUID: random, 122 bits of it.
    std::uint64_t hi = random_();
    std::uint64_t lo = random_();
    hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                       hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

std::vector<std::pair<std::string, std::string>> http_sync_target::impl::request_headers(
    const std::string& key) {
    std::vector<std::pair<std::string, std::string>> headers(options_.headers.begin(),
                                                             options_.headers.end());
    if (const auto& auth = credentials_.header()) headers.emplace_back("Authorization", *auth);
    if (!key.empty()) headers.emplace_back("Idempotency-Key", key);
    return headers;
}

clock_type::time_point http_sync_target::impl::flush_deadline() const {
    auto deadline = clock_type::time_point::max();
    for (const auto* b : {&*rows_, &*changes_}) {
        if (b->has_complete()) deadline = std::min(deadline, b->since() + options_.flush_interval);
    }
    return deadline;
}

void http_sync_target::impl::flush_due(clock_type::time_point now) {
    for (auto* b : {&*rows_, &*changes_}) {
        if (!b->has_complete() || now < b->since() + options_.flush_interval) continue;
        b->flush_complete(now);
        while (b->has_ready()) enqueue(b->pop_ready());
    }
    update_gauges();
}

awaitable<void> http_sync_target::impl::run_sender() {
    auto self = shared_from_this();  // the sender keeps the state alive until it stops
    while (!stopping_) {
        if (!queue_.empty() && !failure_) {
            sending_ = true;
            const auto result = co_await deliver(queue_.front());
            sending_ = false;
            if (result == outcome::stopped) break;
            if (result == outcome::delivered) {
                if (queue_.front().confirms) {
                    std::lock_guard lock(confirmed_mutex_);
                    confirmed_ = queue_.front().confirms;
                }
                queue_.pop_front();
            }
            update_gauges();
            progress_->notify_all();
            continue;
        }
        // Nothing queued: the flush timer. Only the sender moves a batch on time, and only
        // when it is idle, so nothing piles up behind a slow endpoint.
        const auto now = clock_type::now();
        if (!failure_ && flush_deadline() <= now) {
            flush_due(now);
            continue;
        }
        wake_->expires_at(failure_ ? clock_type::time_point::max() : flush_deadline());
        boost::system::error_code ec;
        co_await wake_->async_wait(asio::redirect_error(use_awaitable, ec));
    }
    sender_running_ = false;
    progress_->notify_all();
}

awaitable<void> http_sync_target::impl::sleep(std::chrono::milliseconds delay) {
    retry_timer_->expires_after(delay);
    boost::system::error_code ec;
    co_await retry_timer_->async_wait(asio::redirect_error(use_awaitable, ec));
}

awaitable<http_sync_target::impl::outcome> http_sync_target::impl::deliver(detail::batch& b) {
    const std::string key = options_.idempotency_keys ? new_idempotency_key() : std::string();
    const std::string target = endpoint_.prefix + b.path;
    for (int attempt = 1;; ++attempt) {
        if (!connection_->is_open()) credentials_.refresh();  // a rotated token file
        detail::http_request request{target, b.body, request_headers(key)};
        http_sync_event event{b.path, b.rows, b.body.size(), attempt};
        detail::verdict verdict = detail::verdict::give_up;
        std::string code;
        std::optional<std::chrono::milliseconds> retry_after;
        const auto connections_before = connection_->connections_opened();
        const auto requests_before = connection_->requests_sent();
        try {
            const auto response = co_await connection_->send(request);
            event.status = response.status;
            event.latency = response.latency;
            counters.record_latency(response.latency);
            verdict = detail::judge_status(response.status);
            code = fmt::format("http:{}", response.status);
            if (verdict != detail::verdict::delivered) {
                event.error = fmt::format("HTTP {} {}", response.status, response.reason);
                if (auto text = excerpt(response.body); !text.empty()) event.error += ": " + text;
                if (!response.retry_after.empty())
                    retry_after = detail::parse_retry_after(response.retry_after,
                                                            std::chrono::system_clock::now());
                // A token rotated under a kept-alive connection: try once more with the new one.
                if (response.status == 401) {
                    const auto before = credentials_.header();
                    if (credentials_.refresh() && credentials_.header() != before)
                        verdict = detail::verdict::retry;
                }
            }
        } catch (const boost::system::system_error& e) {
            verdict = detail::judge_error(e.code());
            code = fmt::format("{}:{}", e.code().category().name(), e.code().value());
            event.error = e.what();
        }
        counters.requests += connection_->requests_sent() - requests_before;
        counters.connections += connection_->connections_opened() - connections_before;
        if (stopping_) co_return outcome::stopped;

        if (verdict == detail::verdict::delivered) {
            counters.batches_sent.fetch_add(1, std::memory_order_relaxed);
            counters.rows_sent.fetch_add(b.rows, std::memory_order_relaxed);
            counters.bytes_sent.fetch_add(b.body.size(), std::memory_order_relaxed);
            if (options_.observer) options_.observer->on_batch_sent(event);
            co_return outcome::delivered;
        }
        if (verdict == detail::verdict::give_up || attempt > options_.max_retries) {
            if (options_.observer) options_.observer->on_batch_failed(event);
            const char* why =
                verdict == detail::verdict::give_up ? "retrying cannot help" : "no retries left";
            fail(b, attempt, code,
                 fmt::format("httpsync: POST {} ({} rows) failed after {} attempt(s), {}: {}",
                             url_of(b.path), b.rows, attempt, why, event.error));
            co_return outcome::failed;
        }
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        auto delay = retry_after ? std::min(*retry_after, options_.max_retry_after)
                                 : detail::backoff_delay(attempt, options_.retry_initial_backoff,
                                                         options_.retry_max_backoff,
                                                         options_.retry_jitter, unit(random_));
        counters.retries.fetch_add(1, std::memory_order_relaxed);
        if (options_.observer) options_.observer->on_retry(event, delay);
        co_await sleep(delay);
        if (stopping_) co_return outcome::stopped;
    }
}

void http_sync_target::impl::fail(detail::batch& failed, int attempts, const std::string& code,
                                  std::string why) {
    counters.failures.fetch_add(1, std::memory_order_relaxed);
    counters.failed = true;
    // Everything accepted and not delivered, in order: the failed batch, the batches queued
    // behind it, what waits in the batchers. Baseline rows are not kept: the reload that
    // brings the pipeline back sends the whole table again.
    std::vector<std::pair<const change_event*, int>> unsent;
    for (const auto& c : failed.changes) unsent.emplace_back(&c, attempts);
    for (std::size_t i = 1; i < queue_.size(); ++i)
        for (const auto& c : queue_[i].changes) unsent.emplace_back(&c, 0);
    changes_->flush_all();
    std::deque<detail::batch> waiting;
    while (changes_->has_ready()) waiting.push_back(changes_->pop_ready());
    for (const auto& b : waiting)
        for (const auto& c : b.changes) unsent.emplace_back(&c, 0);
    // The changes of the engine call in progress are the pipeline's to dead-letter.
    unsent.resize(unsent.size() - std::min(unsent.size(), call_changes_));

    if (options_.dead_letters) {
        for (const auto& [change, tries] : unsent) {
            dead_letter letter;
            letter.pipeline_id = options_.pipeline_id;
            letter.written_at = std::chrono::system_clock::now();
            letter.change = *change;
            letter.change.pos = position();
            letter.position = encoder_->position_text(change->pos);
            letter.error_code = tries ? code : "httpsync:not_sent";
            letter.error_message = tries ? why : "not sent: an earlier batch failed (" + why + ")";
            letter.attempts = tries;
            try {
                options_.dead_letters->write(std::move(letter));
                counters.dead_letters.fetch_add(1, std::memory_order_relaxed);
            } catch (const std::exception& e) {
                why += fmt::format("; a dead letter was not written: {}", e.what());
            }
        }
    }
    queue_.clear();
    rows_->flush_all();
    while (rows_->has_ready()) rows_->pop_ready();
    failure_ = std::move(why);
    update_gauges();
}

}  // namespace laredo::targets::httpsync
