#pragma once

// The change handler and baseline sink the kit hands a source it drives directly: records
// everything, in order, for the checks to read from other threads, and notes calls that
// overlap (the contract allows one call at a time).

#include "laredo/change_handler.hpp"
#include "laredo/sync_source.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace laredo::testing::detail {

class recorder final : public change_handler, public baseline_sink {
  public:
    enum class kind { change, heartbeat, rewind };
    struct entry {
        kind what = kind::change;
        change_event event;  // kind::change
        position pos;        // kind::heartbeat, kind::rewind
    };

    // `source` compares positions when a rewind drops what will be re-delivered.
    explicit recorder(const sync_source& source) : source_(source) {}

    boost::asio::awaitable<void> on_rows(const table_identifier& table,
                                         std::vector<row> rows) override;
    boost::asio::awaitable<void> on_changes(std::vector<change_event> batch) override;
    boost::asio::awaitable<void> on_heartbeat(position pos) override;
    boost::asio::awaitable<void> on_rewind(position pos) override;

    // Each on_changes call then waits this long before it returns: backpressure.
    void set_call_delay(std::chrono::milliseconds d) { delay_ms_ = d.count(); }

    std::vector<entry> timeline() const;
    std::vector<std::pair<table_identifier, row>> rows() const;
    void clear_rows();
    // The changes delivered, re-deliveries after a rewind counted once.
    std::vector<change_event> changes() const;
    std::size_t change_count() const;
    // The position of the last change delivered, if any.
    std::optional<position> last_position() const;
    // Contract breaches seen by the handler itself ("on_changes called while ... ran").
    std::vector<std::string> violations() const;

  private:
    class call_guard;

    const sync_source& source_;
    std::atomic<long> delay_ms_{0};
    std::atomic<int> in_call_{0};
    mutable std::mutex mutex_;
    std::vector<entry> timeline_;
    std::vector<std::pair<table_identifier, row>> rows_;
    std::vector<std::string> violations_;
};

}  // namespace laredo::testing::detail
