#pragma once

#include "laredo/sync_source.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>

namespace laredo::examples {

// The interface guide's CSV source, finished: a complete custom source in one small file.
//
//   {dir}/{schema}.{table}.csv  a header row, then one row per record (RFC 4180 quoting).
//                               Every column is text; the first one is the key.
//   {dir}/changes.log           appended lines `ACTION,schema.table,column=value,...` with
//                               ACTION one of INSERT, UPDATE, DELETE (the key column is
//                               required), TRUNCATE (no columns). Fields use the same quoting,
//                               around the whole field: `"note=a, b"` (a line holds no line
//                               break). INSERT leaves unnamed columns
//                               null; UPDATE leaves them unchanged (value::unchanged()). Lines
//                               for tables the engine did not ask for are skipped.
//
// Positions are byte offsets into changes.log: a change's position is the offset just after
// its line. baseline() returns the log's size before it reads the tables, so stream() starts
// at the end of the log as it was then. stream() polls the log with a timer and delivers
// complete lines only (a line still being written waits for its newline).
//
// A malformed change line fails the stream with errc::corrupt_data naming the line number and
// the problem: skipping it would silently lose a change, and the engine reports the failure.
// A log that shrinks below the stream's position fails with errc::rebaseline_required.
// lag() reports the bytes of the log not yet delivered. The source is ephemeral
// (supports_resume() is false).
class csv_source final : public sync_source {
  public:
    csv_source(boost::asio::any_io_executor executor, std::filesystem::path dir,
               std::chrono::milliseconds poll_interval = std::chrono::milliseconds(100));

    boost::asio::any_io_executor get_executor() const override { return strand_; }
    std::string type_name() const override { return "csv"; }
    boost::asio::awaitable<table_schemas> init(const source_config& config) override;
    boost::asio::awaitable<std::vector<validation_error>> validate_tables(
        const std::vector<table_identifier>& tables) override;
    boost::asio::awaitable<position> baseline(const std::vector<table_identifier>& tables,
                                              baseline_sink& sink) override;
    boost::asio::awaitable<void> stream(position from, change_handler& handler) override;
    // [guide:ephemeral]
    boost::asio::awaitable<void> ack(position) override { co_return; }
    bool supports_resume() const override { return false; }
    boost::asio::awaitable<std::optional<position>> last_acked_position() override {
        co_return std::nullopt;
    }
    // [/guide:ephemeral]
    int compare_positions(const position& a, const position& b) const override;
    std::string position_to_string(const position& pos) const override;
    position position_from_string(std::string_view text) const override;
    // The stream stops reading while paused; the poll timer keeps it responsive to cancellation.
    boost::asio::awaitable<void> pause() override {
        paused_ = true;
        if (state_ == source_state::streaming) state_ = source_state::paused;
        co_return;
    }
    boost::asio::awaitable<void> resume() override {
        paused_ = false;
        if (state_ == source_state::paused) state_ = source_state::streaming;
        co_return;
    }
    lag_info lag() const override;
    ordering_guarantee ordering() const override { return ordering_guarantee::total_order; }
    source_state state() const override { return state_; }
    // A running stream ends at its next poll. Files are open only while read.
    boost::asio::awaitable<void> close() override {
        closed_ = true;
        state_ = source_state::closed;
        co_return;
    }

  private:
    std::filesystem::path table_path(const table_identifier& table) const;

    boost::asio::any_io_executor strand_;
    std::filesystem::path dir_;
    std::chrono::milliseconds poll_interval_;
    std::map<table_identifier, schema_ptr> schemas_;  // set by init, read on the strand
    std::atomic<source_state> state_{source_state::closed};
    std::atomic<std::uint64_t> delivered_{0};
    bool paused_ = false;  // strand only
    bool closed_ = false;  // strand only
};

}  // namespace laredo::examples
