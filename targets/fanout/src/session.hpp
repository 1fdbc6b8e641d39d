#pragma once

// One replication client of a fan-out target, over a WebSocket: the sync request, the mode
// decision, the handshake, a snapshot or the journal entries it missed, then live entries
// and heartbeats, under its filters and its queue's byte limit, until it leaves, falls
// behind past its policy, the drain deadline passes or the target closes.
//
// Three coroutines on the connection's strand: the producer (decides what to send and
// queues it), the writer (writes the queue, then the close frame) and the reader (answers
// pings, notices the client leaving).

#include "fanout_state.hpp"

#include "laredo/replica/filter.hpp"
#include "laredo/replica/messages.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace laredo::targets::fanout::detail {

// A condition variable for coroutines of one strand: notify() before wait() is not lost.
class wakeup {
  public:
    explicit wakeup(const boost::asio::any_io_executor& ex) : timer_(ex) {}
    void notify() {
        pending_ = true;
        timer_.cancel();
    }
    // Returns at once when notified since the last wait, else at `until` or on notify().
    boost::asio::awaitable<void> wait_until(std::chrono::steady_clock::time_point until);

  private:
    boost::asio::steady_timer timer_;
    bool pending_ = false;
};

class session final : public journal_listener, public std::enable_shared_from_this<session> {
  public:
    session(std::shared_ptr<fanout_state> state, boost::beast::tcp_stream stream, std::string peer);

    // The whole connection; completes when it is over.
    boost::asio::awaitable<void> run(
        boost::beast::http::request<boost::beast::http::string_body> request);

    // Any thread: the journal changed (or the drain, readiness): wake the producer.
    void on_journal_changed() override;

  private:
    using ws_stream = boost::beast::websocket::stream<boost::beast::tcp_stream>;
    using clock = std::chrono::steady_clock;

    boost::asio::awaitable<void> serve(replica::sync_request request);
    boost::asio::awaitable<void> reader(std::shared_ptr<session> self);
    boost::asio::awaitable<void> writer(std::shared_ptr<session> self);

    // Sends the handshake for `request` and sets the cursor; false when refused.
    bool start_stream(const replica::sync_request& request);
    // A full snapshot (the newest retained one when the journal still covers it).
    void send_snapshot();
    // The entries after the cursor that fit a message; false when there were none.
    bool send_entries(const std::vector<entry_ptr>& batch);
    void send_heartbeat_if_due();
    void send_goaway(const drain_state& d);
    bool filter_matches(const journal_entry& e, const packed_copy& r) const;
    void advance(std::uint64_t sequence, const position& pos, bool end_of_transaction);

    void push(std::string message);
    // Ends the stream: the close frame follows what is queued (or replaces it when `drop`).
    void close(boost::beast::websocket::close_code code, std::string reason, bool drop = false);
    // A refusal: an error message, then the close frame.
    void refuse(std::string_view code, std::string message,
                boost::beast::websocket::close_code close_code);
    // Waits for room in the queue, for news, for the heartbeat or the drain deadline.
    boost::asio::awaitable<void> wait_for_work();
    void set_state(client_state s);

    const std::shared_ptr<fanout_state> state_;
    const client_options& options_;
    ws_stream ws_;
    const std::string peer_;

    std::shared_ptr<client_record> record_;
    std::string client_id_;
    replica::row_filter filter_;
    std::vector<replica::filter_spec> filter_specs_;
    schema_ptr schema_;  // the columns this client was last sent

    // The stream's cursor: the last journal entry accounted for, in epoch `epoch_`.
    std::string epoch_;
    std::uint64_t cursor_ = 0;
    position cursor_position_;
    bool cursor_at_boundary_ = true;
    bool open_transaction_ = false;  // entries of an unfinished transaction were sent
    std::optional<journal::pin_id> pin_;
    bool caught_up_ = false;
    bool told_backpressure_ = false;

    std::uint64_t drain_generation_ = 0;
    std::optional<clock::time_point> drain_deadline_;
    clock::time_point last_sent_;

    std::deque<std::string> outbox_;
    std::size_t queued_bytes_ = 0;
    bool closing_ = false;
    bool writer_done_ = false;
    bool reader_done_ = false;
    boost::beast::websocket::close_reason close_reason_;
    std::string end_reason_;

    wakeup produce_;
    wakeup write_;
    std::atomic<bool> wake_posted_{false};
};

}  // namespace laredo::targets::fanout::detail
