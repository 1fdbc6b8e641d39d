#pragma once

#include "line_protocol.hpp"

#include "laredo/change_event.hpp"
#include "laredo/table_identifier.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace laredo::examples {

// One change an upstream records: insert carries the row (columns left out are null), update
// the key and the changed columns, delete the key, truncate nothing.
struct upstream_change {
    change_action action = change_action::insert;
    table_identifier table;
    std::vector<line_protocol::field> fields;
};

// An in-process upstream that speaks the line source's protocol (line_source.hpp) on a
// loopback port: tables with their current rows, the history of changes after its last ACK,
// and every STREAM connection fed as transactions commit. For tests, and to try the source.
//
// Every member function is safe from any thread. Its connections run on a strand of the
// executor it is given; the actions that touch them (send_raw, drop_connections, stop) are
// posted there and happen soon after the call returns.
class line_upstream {
  public:
    // send_buffer_bytes > 0 sets SO_SNDBUF of every connection (0: the system's default).
    explicit line_upstream(boost::asio::any_io_executor executor, int send_buffer_bytes = 0);
    ~line_upstream();  // stop()
    line_upstream(const line_upstream&) = delete;
    line_upstream& operator=(const line_upstream&) = delete;

    // 127.0.0.1 and the port it listens on.
    boost::asio::ip::tcp::endpoint endpoint() const;

    // A table whose first `key_columns` columns are its key. Throws errc::invalid_argument
    // when key_columns is 0 or more than the columns.
    void add_table(const table_identifier& table, std::vector<std::string> columns,
                   std::size_t key_columns = 1);

    // Applies one transaction to the rows and appends it to the history; returns the number
    // of its last change (the number of the one before when it is empty). Throws
    // errc::invalid_argument for an unknown table or column, or a change without its key.
    std::uint64_t commit(const std::vector<upstream_change>& changes);

    // Sends `line` as it is, after the transactions before it, to every STREAM connection
    // (open now, or streaming later from at or before the newest change).
    void send_raw(std::string line);
    // Closes every connection (the network failed); the upstream keeps listening.
    void drop_connections();
    // Closes the listener and every connection.
    void stop();

    std::uint64_t newest() const;
    // The last ACK received, or nullopt.
    std::optional<std::uint64_t> last_ack() const;
    // The number of the last change a STREAM connection's socket accepted in full.
    std::uint64_t changes_sent() const;
    std::size_t snapshots_served() const;
    std::size_t streams_served() const;
    std::size_t open_connections() const;

  private:
    class impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace laredo::examples
