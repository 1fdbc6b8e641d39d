#pragma once

#include "laredo/replica/client.hpp"
#include "laredo/sync_source.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace laredo::sources::fanout {

struct fanout_source_options {
    // The fan-out server(s) of the table: URLs, token, filters, local snapshot file, reconnect
    // and heartbeat settings of the replica client underneath.
    replica::client_options client;
    // Where ack() persists the last acknowledged position, so that a new source (a restart)
    // resumes from it. Empty: no resume (every start takes a baseline).
    std::filesystem::path resume_file;
    // How long init() waits for the replica to get in sync with a server before it fails
    // (errc::transient, naming the last connection error).
    std::chrono::milliseconds ready_timeout{30'000};
    // How long stream() goes on while the replica is connected to no server (it reconnects
    // by itself meanwhile) before it ends with errc::transient naming the last connection
    // error, so that the engine reports the source and retries it.
    std::chrono::milliseconds give_up_after{60'000};
    std::size_t baseline_batch_rows = 1'000;
    // Applied updates held for stream() (while it is not running or paused) before the replica
    // stops reading from its server (backpressure).
    std::size_t max_pending_updates = 64;
};

// The cascading source: the table one laredo instance serves through a fan-out target, read as
// a source by another (PostgreSQL -> laredo A -> laredo B). It keeps a live replica of the table
// (laredo/replica/client.hpp) and:
//   - init: the table and its columns as the server's handshake gives them (one table per
//     source: the server's URL names it);
//   - baseline: the replica's rows, at the upstream source position the replica is at;
//   - stream: every transaction the replica applies after `from`, with the upstream's source
//     positions, and heartbeats; a `from` the replica is already past is asked of the server
//     again (resume), one the server's journal no longer covers ends the stream with
//     errc::rebaseline_required, as does a full snapshot the server sends mid-stream (the
//     table was replaced upstream);
//   - ack: persists the position to resume_file; can_resume_from asks the server whether its
//     journal still covers the position;
//   - pause: changes are held (the replica stops reading once max_pending_updates wait) until
//     resume.
// Positions are the upstream's, compared and written in the typed wire form of
// laredo/replica/positions.hpp ("s:42", "p:23876432:3", "t:...").
//
// Threads: every coroutine runs on a strand of the executor given (the replica's too); lag(),
// state(), ordering() and the position functions are safe from any thread.
class fanout_source final : public sync_source {
  public:
    // Throws errc::invalid_config for client options that cannot work (no server, not ws://).
    fanout_source(boost::asio::any_io_executor executor, fanout_source_options options);
    ~fanout_source() override;
    fanout_source(const fanout_source&) = delete;
    fanout_source& operator=(const fanout_source&) = delete;

    boost::asio::any_io_executor get_executor() const override { return strand_; }
    std::string type_name() const override { return "fanout"; }
    boost::asio::awaitable<table_schemas> init(const source_config& config) override;
    boost::asio::awaitable<std::vector<validation_error>> validate_tables(
        const std::vector<table_identifier>& tables) override;
    boost::asio::awaitable<position> baseline(const std::vector<table_identifier>& tables,
                                              baseline_sink& sink) override;
    boost::asio::awaitable<void> stream(position from, change_handler& handler) override;
    boost::asio::awaitable<void> ack(position pos) override;
    bool supports_resume() const override { return !options_.resume_file.empty(); }
    boost::asio::awaitable<std::optional<position>> last_acked_position() override;
    boost::asio::awaitable<bool> can_resume_from(const position& pos) override;
    int compare_positions(const position& a, const position& b) const override;
    std::string position_to_string(const position& pos) const override;
    position position_from_string(std::string_view text) const override;
    boost::asio::awaitable<void> pause() override;
    boost::asio::awaitable<void> resume() override;
    lag_info lag() const override;
    ordering_guarantee ordering() const override { return ordering_guarantee::total_order; }
    // reconnecting while streaming without a server.
    source_state state() const override;
    boost::asio::awaitable<void> close() override;

    // The replica underneath (its status, rows, indexes).
    const replica::client& replica() const { return *client_; }

  private:
    class feed;

    // stream() without its ending: hands the feed's updates to `handler` until cancelled.
    boost::asio::awaitable<void> deliver(position from, change_handler& handler);

    boost::asio::strand<boost::asio::any_io_executor> strand_;
    const fanout_source_options options_;
    std::shared_ptr<replica::client> client_;
    std::unique_ptr<feed> feed_;
    std::atomic<source_state> state_{source_state::connecting};
    bool started_ = false;
    bool closed_ = false;
    bool paused_ = false;
    // How far behind the replica's newest change the stream's handler is (microseconds).
    std::atomic<std::int64_t> lag_us_{0};
    std::uint64_t generation_ = 0;  // of the rows the last baseline (or init) read
    std::optional<position> acked_;
};

}  // namespace laredo::sources::fanout
