#pragma once

// The conformance fixture of the CSV example source: a temporary directory with two table
// files; changes are lines appended to changes.log.

#include "laredo/testing/conformance.hpp"

#include <chrono>
#include <filesystem>
#include <string>

namespace laredo::testing {

class csv_fixture : public conformance_fixture {
  public:
    explicit csv_fixture(std::chrono::milliseconds poll_interval = std::chrono::milliseconds(5));
    ~csv_fixture() override;
    csv_fixture(const csv_fixture&) = delete;
    csv_fixture& operator=(const csv_fixture&) = delete;

    std::vector<table_identifier> tables() const override;
    std::shared_ptr<sync_source> make_source(boost::asio::any_io_executor executor) override;
    std::vector<value> key_of(const table_identifier& table, std::uint64_t id) const override;
    void add_row(const table_identifier& table, std::uint64_t id) override;
    void make_changes(const std::vector<change_request>& changes) override;
    // A line the source cannot parse: its stream fails with errc::corrupt_data.
    bool break_upstream() override;

  private:
    void append(const std::filesystem::path& file, const std::string& text) const;

    std::filesystem::path dir_;
    std::chrono::milliseconds poll_interval_;
};

}  // namespace laredo::testing
