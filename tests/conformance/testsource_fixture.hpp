#pragma once

// The conformance fixture of the test source: two tables (one keyed by two columns, in an
// order other than the columns'), baseline rows and changes injected through the source that
// is live (a test_source wakes its own stream only), or through an admin source when none is.

#include "laredo/sources/testsource/test_source.hpp"
#include "laredo/testing/conformance.hpp"

#include <boost/asio/io_context.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace laredo::testing {

class testsource_fixture : public conformance_fixture {
  public:
    explicit testsource_fixture(sources::testsource::test_source_options options = {});

    std::vector<table_identifier> tables() const override;
    std::shared_ptr<sync_source> make_source(boost::asio::any_io_executor executor) override;
    std::vector<value> key_of(const table_identifier& table, std::uint64_t id) const override;
    void add_row(const table_identifier& table, std::uint64_t id) override;
    void make_changes(const std::vector<change_request>& changes) override;
    // The live source's stream fails with errc::source_failed (testsource's fail_next).
    bool break_upstream() override;

    static const table_identifier users;
    static const table_identifier orders;

  protected:
    // A test_source over this fixture's database, which becomes the live one.
    std::shared_ptr<sources::testsource::test_source> make_test_source(
        boost::asio::any_io_executor executor);

  private:
    row row_of(const table_identifier& table, std::uint64_t id, std::int64_t version) const;
    std::shared_ptr<sources::testsource::test_source> live() const;

    sources::testsource::test_source_options options_;
    boost::asio::io_context admin_context_;  // never run: the admin source only edits data
    std::shared_ptr<sources::testsource::test_source> admin_;
    mutable std::mutex mutex_;
    std::weak_ptr<sources::testsource::test_source> live_;
    std::map<std::pair<table_identifier, std::uint64_t>, std::int64_t> versions_;
};

}  // namespace laredo::testing
