#pragma once

// Drives one source directly, as the engine would: each coroutine on the source's executor,
// stream() spawned with a cancellation slot and ended by terminal cancellation, changes made
// through the fixture and awaited at the handler. Failures are recorded in the case's report
// with what was observed.

#include "changes.hpp"
#include "harness.hpp"
#include "recorder.hpp"

#include <boost/asio/cancellation_signal.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace laredo::testing::detail {

class driver {
  public:
    explicit driver(case_env& env);

    case_env& env;
    change_planner planner;

    // options.rows_per_table rows into every table (before any source exists).
    boost::asio::awaitable<void> add_rows();

    // A new source from the fixture (kept alive until the case's handlers are gone); it
    // becomes the current one, with a fresh recorder.
    boost::asio::awaitable<std::shared_ptr<sync_source>> make_source();
    sync_source& source() { return *source_; }
    const std::shared_ptr<sync_source>& source_ptr() const { return source_; }
    recorder& rec() { return *recorder_; }

    // An operation of the current source, bounded by options.deadline.
    template <class T>
    boost::asio::awaitable<T> on_source(std::string what, boost::asio::awaitable<T> op) {
        return call(env, std::move(what), source_->get_executor(), std::move(op));
    }

    // init(all tables); the schemas are kept.
    boost::asio::awaitable<table_schemas> init();
    const table_schemas& schemas() const { return schemas_; }
    // baseline(all tables) into the recorder. Changes made from now on are expected.
    boost::asio::awaitable<position> baseline();

    void start_stream(position from);
    bool stream_done() const { return stream_ && stream_->done(); }
    std::exception_ptr stream_error() const { return stream_ ? stream_->error() : nullptr; }
    const std::shared_ptr<op_state<void>>& stream_state() const { return stream_; }
    // Waits (bounded, silently) until state() says streaming: a source may subscribe
    // upstream only once stream() runs.
    boost::asio::awaitable<void> wait_streaming();

    // Plans `count` changes and makes them, one fixture call per transaction. Returns what
    // they look like delivered (and adds them to expected()).
    boost::asio::awaitable<std::vector<change_key>> make_changes(std::size_t count,
                                                                 bool first_table_only = false);
    const std::vector<change_key>& expected() const { return expected_; }
    // Where each transaction made since the baseline ends in expected().
    const std::vector<std::size_t>& transaction_ends() const { return tx_ends_; }

    // Waits until every expected change was delivered. Records a failure and ends the case
    // when the stream ends first or the deadline passes.
    boost::asio::awaitable<void> await_delivery();

    // Terminal cancellation, then stream() must return normally within options.stop_bound.
    // A stream that does not return ends the case.
    boost::asio::awaitable<void> cancel_stream();

    boost::asio::awaitable<void> close();

    // position_to_string, or debug_string when that throws.
    std::string text(const position& p) const;

  private:
    std::shared_ptr<sync_source> source_;
    std::shared_ptr<recorder> recorder_;
    table_schemas schemas_;
    std::shared_ptr<boost::asio::cancellation_signal> cancel_;
    std::shared_ptr<op_state<void>> stream_;
    std::vector<change_key> expected_;
    std::vector<std::size_t> tx_ends_;
};

}  // namespace laredo::testing::detail
