#include "laredo/server/http/feed.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace laredo::server::http {

namespace asio = boost::asio;

// A wake-up with room for one pending notice: producers try_send (never block), the one
// consumer receives. concurrent_channel because producers run on other threads.
struct message_feed::signal {
    explicit signal(asio::any_io_executor ex) : channel(std::move(ex), 1) {}
    asio::experimental::concurrent_channel<void(boost::system::error_code)> channel;
};

message_feed::message_feed(asio::any_io_executor executor, std::uint64_t max_bytes)
    : max_bytes_(max_bytes), signal_(std::make_unique<signal>(std::move(executor))) {}

message_feed::~message_feed() = default;

void message_feed::wake() { signal_->channel.try_send(boost::system::error_code{}); }

void message_feed::set_prefix(std::function<std::vector<std::string>()> next_batch) {
    prefix_ = std::move(next_batch);
}

void message_feed::on_end(std::function<void()> fn) {
    std::lock_guard lock(mutex_);
    on_end_ = std::move(fn);
}

void message_feed::on_overflow(std::function<void()> fn) {
    std::lock_guard lock(mutex_);
    on_overflow_ = std::move(fn);
}

void message_feed::ended() {
    std::function<void()> fn;
    {
        std::lock_guard lock(mutex_);
        if (!ended_ || on_end_called_) return;
        on_end_called_ = true;
        fn = std::move(on_end_);
    }
    if (fn) fn();
}

bool message_feed::push(std::string message) {
    std::function<void()> overflow;
    {
        std::lock_guard lock(mutex_);
        if (ended_) return false;
        if (bytes_ + message.size() > max_bytes_) {
            // What is queued is not sent: the client is told it fell behind right away and
            // must start over, rather than after a backlog it cannot keep up with.
            ended_ = true;
            reason_ = "client too slow: more than " + std::to_string(max_bytes_) +
                      " bytes waiting to be sent";
            queue_.clear();
            bytes_ = 0;
            overflow = std::move(on_overflow_);
        } else {
            bytes_ += message.size();
            queue_.push_back(std::move(message));
        }
    }
    wake();
    if (overflow) overflow();
    bool is_ended = false;
    {
        std::lock_guard lock(mutex_);
        is_ended = ended_;
    }
    if (is_ended) ended();
    return !is_ended;
}

void message_feed::finish(std::string reason) {
    {
        std::lock_guard lock(mutex_);
        if (ended_) return;
        ended_ = true;
        reason_ = std::move(reason);
    }
    wake();
    ended();
}

void message_feed::cancel() {
    {
        std::lock_guard lock(mutex_);
        ended_ = true;
        cancelled_ = true;
        queue_.clear();
        bytes_ = 0;
    }
    wake();
    ended();
}

asio::awaitable<std::vector<std::string>> message_feed::next() {
    while (prefix_) {
        {
            std::lock_guard lock(mutex_);
            if (ended_) break;
        }
        auto batch = prefix_();
        if (!batch.empty()) co_return batch;
        prefix_ = nullptr;
    }
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (!queue_.empty() && !cancelled_) {
                std::vector<std::string> out(std::make_move_iterator(queue_.begin()),
                                             std::make_move_iterator(queue_.end()));
                queue_.clear();
                bytes_ = 0;
                co_return out;
            }
            if (ended_) co_return std::vector<std::string>{};
        }
        co_await signal_->channel.async_receive(asio::as_tuple(asio::use_awaitable));
    }
}

std::optional<std::string> message_feed::close_reason() const {
    std::lock_guard lock(mutex_);
    if (cancelled_) return std::nullopt;
    return reason_;
}

std::uint64_t message_feed::queued_bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

}  // namespace laredo::server::http
