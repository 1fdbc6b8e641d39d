#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace laredo::server::http {

// The messages one WebSocket client is sent, produced on any thread (pipeline strands,
// observers) and written by its connection. The queue is bounded in bytes: a push that would
// pass the limit ends the feed with a reason (the queued messages are discarded) and the
// connection closes with that reason at once: a client that falls behind is told so, never
// silently skipped.
class message_feed {
  public:
    message_feed(boost::asio::any_io_executor executor, std::uint64_t max_bytes);
    ~message_feed();
    message_feed(const message_feed&) = delete;
    message_feed& operator=(const message_feed&) = delete;

    // Messages sent before anything queued: `next_batch` is called on the connection until
    // it returns an empty batch (a replay of current rows, produced as the client reads
    // rather than queued all at once). Set before the connection starts.
    void set_prefix(std::function<std::vector<std::string>()> next_batch);
    // Called once when the feed ends or is cancelled (outside the feed's lock), e.g. to
    // unregister the listener that produces it.
    void on_end(std::function<void()> fn);
    // Called once when a push finds the queue full (the client is being closed as slow).
    void on_overflow(std::function<void()> fn);

    // Queues one text message. Returns false when the feed has ended (now or before).
    bool push(std::string message);
    // Ends the feed: the connection sends what is queued, then closes with `reason`.
    void finish(std::string reason);
    // The client left or the server stops: nothing more is sent.
    void cancel();

    // Waits until there are messages or the feed ended; returns what is queued (empty once
    // it ended and everything was taken). Run by the one connection that owns the feed.
    boost::asio::awaitable<std::vector<std::string>> next();
    // Why the feed ended (slow client, server stopping), or nullopt while it goes on or when
    // it was cancelled.
    std::optional<std::string> close_reason() const;

    std::uint64_t queued_bytes() const;
    std::uint64_t max_bytes() const noexcept { return max_bytes_; }

  private:
    struct signal;
    void wake();
    void ended();

    std::function<std::vector<std::string>()> prefix_;
    std::function<void()> on_end_;
    std::function<void()> on_overflow_;
    bool on_end_called_ = false;

    const std::uint64_t max_bytes_;
    std::unique_ptr<signal> signal_;
    mutable std::mutex mutex_;
    std::deque<std::string> queue_;
    std::uint64_t bytes_ = 0;
    bool ended_ = false;
    bool cancelled_ = false;
    std::optional<std::string> reason_;
};

}  // namespace laredo::server::http
