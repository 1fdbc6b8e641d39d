#pragma once

#include "line_connection.hpp"
#include "line_protocol.hpp"

#include "laredo/sync_source.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

namespace laredo::examples {

// A coroutine source that reads a line protocol from a TCP server (the "upstream"), written
// to teach how a source is built: docs/custom-sources.md walks through it.
//
// The conversation (one request per line; a connection may carry several requests until
// STREAM, which keeps it; line_protocol.hpp has the value encoding):
//
//   client                 upstream
//   SCHEMA s.t             COLUMNS s.t id* name note      columns in table order, * = key
//   SNAPSHOT s.t s.u ...   ROW s.t id=1 name=ann ...      every row of the tables, then
//                          END 41                         the change the rows are as of
//   HISTORY                HISTORY 12 41                  last ACK kept (- for none), newest
//   RESET                  HISTORY 41 41                  history forgotten, as if all acked
//   STREAM 41              BEGIN                          every transaction after change 41,
//                          42 INSERT s.t id=4 name=dan    and then each new one as it commits:
//                          43 UPDATE s.t id=4 name=dani   columns left out are unchanged
//                          44 DELETE s.t id=4             the key columns
//                          45 TRUNCATE s.t
//                          COMMIT
//   ACK 44                 (no answer; on the STREAM connection, or any other: changes up
//                          to 44 are durable downstream, the upstream may forget them)
//   any request may be answered with `ERROR CODE text`: UNKNOWN_TABLE, HISTORY_GONE (a
//   STREAM from before the last ACK), or another code.
//
// Positions are change numbers (sequence positions; the empty position is "before change 1").
// Every column is text. The source resumes: the upstream keeps the changes after its last ACK,
// so a new engine whose targets kept their rows streams on without a baseline. reset_source()
// makes it forget that history (like dropping a replication slot): the next start baselines.
//
// Errors: a lost or refused connection is errc::transient (the engine reconnects and streams
// again from the last ACK); a malformed line is errc::corrupt_data naming its number, the
// connection and the text; UNKNOWN_TABLE is errc::unknown_table; HISTORY_GONE is
// errc::rebaseline_required.
struct line_source_options {
    boost::asio::ip::tcp::endpoint upstream;
    // Baseline rows per on_rows call; changes per on_changes call of a transaction larger
    // than this (it is delivered in parts). At least 1.
    std::size_t batch_size = 256;
    // SO_RCVBUF of the stream connection (0: the system's default, which grows on its own):
    // how much the kernel buffers for us while the pipelines are full.
    int receive_buffer_bytes = 0;
    // A longer line is malformed.
    std::size_t max_line_bytes = 1u << 20;
};

// [guide:class]
class line_source final : public sync_source, public resettable {
  public:
    // Throws errc::invalid_config when batch_size is 0.
    line_source(boost::asio::any_io_executor executor, line_source_options options);

    boost::asio::any_io_executor get_executor() const override { return strand_; }
    std::string type_name() const override { return "line"; }

    boost::asio::awaitable<table_schemas> init(const source_config& config) override;
    boost::asio::awaitable<std::vector<validation_error>> validate_tables(
        const std::vector<table_identifier>& tables) override;
    boost::asio::awaitable<position> baseline(const std::vector<table_identifier>& tables,
                                              baseline_sink& sink) override;
    boost::asio::awaitable<void> stream(position from, change_handler& handler) override;
    boost::asio::awaitable<void> ack(position pos) override;

    bool supports_resume() const override { return true; }
    boost::asio::awaitable<std::optional<position>> last_acked_position() override;
    boost::asio::awaitable<bool> can_resume_from(const position& pos) override;

    int compare_positions(const position& a, const position& b) const override;
    std::string position_to_string(const position& pos) const override;
    position position_from_string(std::string_view text) const override;

    boost::asio::awaitable<void> pause() override;
    boost::asio::awaitable<void> resume() override;

    lag_info lag() const override { return {}; }  // the protocol carries no clock or offsets
    ordering_guarantee ordering() const override { return ordering_guarantee::total_order; }
    source_state state() const override { return state_.load(); }

    boost::asio::awaitable<void> close() override;

    // resettable: the upstream forgets its history (call it while no engine runs the source).
    boost::asio::awaitable<void> reset_source(bool drop_publication) override;
    // [/guide:class]

  private:
    struct history {
        std::optional<std::uint64_t> acked;
        std::uint64_t newest = 0;
    };

    boost::asio::awaitable<std::shared_ptr<line_connection>> connect(int receive_buffer_bytes = 0);
    boost::asio::awaitable<history> ask_history();
    // The stream's read loop; `last` is the number of the last change before it.
    boost::asio::awaitable<void> read_changes(line_connection& conn, std::uint64_t last,
                                              change_handler& handler);
    boost::asio::awaitable<void> send_acks();
    // The change or row a line describes (errc::corrupt_data naming the line when it does not
    // fit the table's columns).
    change_event to_change(const line_connection& conn, std::string_view line,
                           const line_protocol::message& m) const;
    row row_of(const line_connection& conn, std::string_view line, const line_protocol::message& m,
               const value& missing) const;

    boost::asio::any_io_executor strand_;
    const line_source_options options_;

    // Strand-confined: only coroutines of this source touch them, and they all run on strand_.
    std::map<table_identifier, schema_ptr> schemas_;
    std::shared_ptr<line_connection> stream_conn_;  // from stream() until close()
    std::optional<std::uint64_t> ack_wanted_;
    std::optional<std::uint64_t> ack_sent_;
    bool ack_writing_ = false;
    bool paused_ = false;
    bool closed_ = false;

    // Read from any thread.
    std::atomic<source_state> state_{source_state::closed};
};

}  // namespace laredo::examples
