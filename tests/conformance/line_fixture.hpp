#pragma once

// The conformance fixture of the line source example (examples/line_source): an in-process
// upstream on a loopback port, run on an io_context and thread of the fixture's own so that
// the source's io_context holds only the source's work.

#include "line_upstream.hpp"

#include "laredo/testing/conformance.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <thread>

namespace laredo::testing {

class line_fixture : public conformance_fixture {
  public:
    line_fixture();
    ~line_fixture() override;
    line_fixture(const line_fixture&) = delete;
    line_fixture& operator=(const line_fixture&) = delete;

    std::vector<table_identifier> tables() const override;
    std::shared_ptr<sync_source> make_source(boost::asio::any_io_executor executor) override;
    std::vector<value> key_of(const table_identifier& table, std::uint64_t id) const override;
    void add_row(const table_identifier& table, std::uint64_t id) override;
    void make_changes(const std::vector<change_request>& changes) override;
    // The upstream drops every connection: the stream fails with errc::transient.
    bool break_upstream() override;

  private:
    boost::asio::io_context context_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;
    std::unique_ptr<examples::line_upstream> upstream_;
};

}  // namespace laredo::testing
