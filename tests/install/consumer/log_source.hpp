#pragma once

// A tiny source, written as a laredo user writes one: it includes laredo's installed headers
// only (<laredo/...>), and its test links the installed conformance kit. The upstream is a
// change_log in memory that the test's fixture changes.

#include <laredo/sync_source.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace consumer {

// The upstream: tables of rows (id -> name) and the log of every change made to them since
// they were created, behind one mutex so a baseline sees rows and log length together.
class change_log {
  public:
    struct entry {
        laredo::table_identifier table;
        laredo::change_action action = laredo::change_action::insert;
        std::uint64_t id = 0;
        std::string name;  // empty for a delete
        bool ends_transaction = true;
    };
    struct snapshot {
        std::map<laredo::table_identifier, std::map<std::uint64_t, std::string>> tables;
        std::size_t log_length = 0;  // the log entries those rows include
    };

    void add_table(const laredo::table_identifier& table);
    bool has_table(const laredo::table_identifier& table) const;
    // Applies `changes` to the rows and appends them to the log, as one transaction.
    void apply(std::vector<entry> changes);
    // The rows of `tables` and the log's length, at one moment.
    snapshot read_tables(const std::vector<laredo::table_identifier>& tables) const;
    // The log's entries from `index` on, and the log's length.
    std::vector<entry> read_log(std::size_t index) const;
    std::size_t log_length() const;
    // From now on, reading the log fails (an upstream that broke for good).
    void break_for_good();

  private:
    mutable std::mutex mutex_;
    std::map<laredo::table_identifier, std::map<std::uint64_t, std::string>> tables_;
    std::vector<entry> log_;
    bool broken_ = false;
};

// Every table has the text columns id (the key) and name. A change's position is its index in
// the log plus one; baseline() returns the log's length when it read the rows. Ephemeral: no
// resume.
class log_source final : public laredo::sync_source {
  public:
    log_source(boost::asio::any_io_executor executor, std::shared_ptr<change_log> upstream);

    boost::asio::any_io_executor get_executor() const override { return strand_; }
    std::string type_name() const override { return "log"; }
    boost::asio::awaitable<laredo::table_schemas> init(
        const laredo::source_config& config) override;
    boost::asio::awaitable<std::vector<laredo::validation_error>> validate_tables(
        const std::vector<laredo::table_identifier>& tables) override;
    boost::asio::awaitable<laredo::position> baseline(
        const std::vector<laredo::table_identifier>& tables, laredo::baseline_sink& sink) override;
    boost::asio::awaitable<void> stream(laredo::position from,
                                        laredo::change_handler& handler) override;
    boost::asio::awaitable<void> ack(laredo::position) override { co_return; }
    bool supports_resume() const override { return false; }
    boost::asio::awaitable<std::optional<laredo::position>> last_acked_position() override {
        co_return std::nullopt;
    }
    int compare_positions(const laredo::position& a, const laredo::position& b) const override;
    std::string position_to_string(const laredo::position& pos) const override;
    laredo::position position_from_string(std::string_view text) const override;
    boost::asio::awaitable<void> pause() override;
    boost::asio::awaitable<void> resume() override;
    laredo::lag_info lag() const override;
    laredo::ordering_guarantee ordering() const override {
        return laredo::ordering_guarantee::total_order;
    }
    laredo::source_state state() const override { return state_; }
    boost::asio::awaitable<void> close() override;

  private:
    laredo::change_event to_event(const change_log::entry& e, std::size_t index) const;

    boost::asio::any_io_executor strand_;
    std::shared_ptr<change_log> upstream_;
    std::map<laredo::table_identifier, laredo::schema_ptr> schemas_;  // set by init
    std::atomic<laredo::source_state> state_{laredo::source_state::closed};
    std::atomic<std::size_t> delivered_{0};
    bool paused_ = false;  // strand only
    bool closed_ = false;  // strand only
};

}  // namespace consumer
