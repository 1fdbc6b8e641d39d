#include "ack_coordinator.hpp"

#include "backoff.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace laredo::detail {

namespace asio = boost::asio;

ack_coordinator::ack_coordinator(std::string source_id, sync_source& source, std::size_t pipelines,
                                 engine_observer* observer)
    : source_id_(std::move(source_id)),
      source_(source),
      observer_(observer),
      rule_(pipelines, [&source](const position& a,
                                 const position& b) { return source.compare_positions(a, b); }),
      wake_(source.get_executor()),
      progress_(source.get_executor()) {}

void ack_coordinator::confirm(std::size_t pipeline, const position& pos) {
    rule_.confirm(pipeline, pos);
    advance();
}

void ack_coordinator::expect(std::size_t pipeline, const position& pos) {
    rule_.expect(pipeline, pos);
}

void ack_coordinator::reached(const position& pos) {
    rule_.reached(pos);
    advance();
}

void ack_coordinator::set_member(std::size_t pipeline, bool member) {
    rule_.set_member(pipeline, member);
    advance();
}

void ack_coordinator::set_cap(const position& cap) {
    rule_.set_cap(cap);
    advance();
}

void ack_coordinator::advance() {
    const auto low = rule_.ackable();
    if (low && ahead(*low, wanted_) && ahead(*low, last_acked())) {
        wanted_ = low;
        wake_.notify_all();
    }
}

std::optional<position> ack_coordinator::last_acked() const {
    std::lock_guard lock(acked_mutex_);
    return acked_;
}

asio::awaitable<void> ack_coordinator::run() {
    // A failed ACK is retried for as long as the engine runs (the position stays wanted).
    retry_policy policy;
    policy.initial = std::chrono::milliseconds(100);
    policy.max = std::chrono::milliseconds(5000);
    policy.attempts = -1;
    backoff retry(policy);
    while (!stopped_) {
        if (!wanted_ || !ahead(*wanted_, last_acked())) {
            progress_.notify_all();
            co_await wake_.wait();
            continue;
        }
        const position target = *wanted_;
        std::exception_ptr failure;
        try {
            co_await source_.ack(target);
        } catch (...) {
            failure = std::current_exception();
        }
        if (!failure) {
            {
                std::lock_guard lock(acked_mutex_);
                acked_ = target;
            }
            failing_ = false;
            retry.succeeded();
            if (observer_) observer_->on_ack_advanced(source_id_, target);
            progress_.notify_all();
            continue;
        }
        // The ACK is retried: the position stays wanted. flush() gives up meanwhile.
        failing_ = true;
        progress_.notify_all();
        if (observer_) {
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                observer_->on_source_disconnected(source_id_,
                                                  std::string("ack failed: ") + e.what());
            }
        }
        asio::steady_timer timer(source_.get_executor(),
                                 *retry.failed(std::chrono::steady_clock::now()));
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    progress_.notify_all();
}

asio::awaitable<void> ack_coordinator::flush() {
    advance();
    while (!stopped_ && !failing_ && wanted_ && ahead(*wanted_, last_acked()))
        co_await progress_.wait();
}

void ack_coordinator::stop() {
    stopped_ = true;
    wake_.notify_all();
    progress_.notify_all();
}

}  // namespace laredo::detail
