#pragma once

// The conformance fixture of the cascading source: a fan-out target fed by the fixture (one
// transaction per make_changes, positions 1, 2, 3...) and served on a loopback port, both on
// an io_context and thread of the fixture's own, so that the source's io_context holds only
// the source's work.

#include "temp_dir.hpp"

#include "laredo/targets/fanout/fanout_target.hpp"
#include "laredo/targets/fanout/replication_listener.hpp"
#include "laredo/testing/conformance.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <thread>

namespace laredo::fanout_test {

class fanout_fixture : public testing::conformance_fixture {
  public:
    fanout_fixture();
    ~fanout_fixture() override;
    fanout_fixture(const fanout_fixture&) = delete;
    fanout_fixture& operator=(const fanout_fixture&) = delete;

    std::vector<table_identifier> tables() const override;
    std::shared_ptr<sync_source> make_source(boost::asio::any_io_executor executor) override;
    std::vector<value> key_of(const table_identifier& table, std::uint64_t id) const override;
    void add_row(const table_identifier& table, std::uint64_t id) override;
    void make_changes(const std::vector<testing::change_request>& changes) override;
    // The server stops listening and drops every connection: the replica finds no server, and
    // the stream gives up (give_up_after) with errc::transient.
    bool break_upstream() override;

  private:
    // Runs `work` on the fixture's thread and waits for it.
    void run(std::function<boost::asio::awaitable<void>()> work);

    boost::asio::io_context context_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;
    testing::temp_dir dir_;
    std::shared_ptr<targets::fanout::fanout_target> target_;
    std::unique_ptr<targets::fanout::replication_listener> listener_;
    std::uint64_t pos_ = 1;
    std::uint64_t updates_ = 0;
};

}  // namespace laredo::fanout_test
