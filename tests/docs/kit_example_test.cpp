// The conformance kit as the guide's "Testing your source" shows it: a fixture for the line
// source example, registered as `conformance/line_guide.<item>`. (tests/conformance runs the
// kit on every source of the project with fuller fixtures; this one is kept short to read.)
#include "line_source.hpp"
#include "line_upstream.hpp"

#include "laredo/testing/conformance.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <thread>

namespace {

using namespace laredo;
using laredo::examples::line_upstream;
using laredo::examples::upstream_change;

// [guide:kit-fixture]
// The kit's view of the upstream: it makes sources that read it, adds rows, makes changes.
// The kit calls these from a thread of its own (never one that runs a source), so they may
// block; the upstream runs on an io_context and thread of the fixture's own.
class line_guide_fixture final : public laredo::testing::conformance_fixture {
  public:
    line_guide_fixture() { upstream_.add_table(users_, {"id", "name"}); }
    ~line_guide_fixture() override {
        upstream_.stop();
        work_.reset();
        thread_.join();
    }

    std::vector<table_identifier> tables() const override { return {users_}; }

    std::shared_ptr<sync_source> make_source(boost::asio::any_io_executor executor) override {
        laredo::examples::line_source_options options;
        options.upstream = upstream_.endpoint();
        return std::make_shared<laredo::examples::line_source>(executor, options);
    }

    // The key as rows from the source carry it: the line source's columns are text.
    std::vector<value> key_of(const table_identifier&, std::uint64_t id) const override {
        return {value(std::to_string(id))};
    }

    void add_row(const table_identifier& table, std::uint64_t id) override {
        const std::vector<upstream_change> one{insert(table, id)};
        upstream_.commit(one);
    }

    void make_changes(const std::vector<laredo::testing::change_request>& changes) override {
        std::vector<upstream_change> transaction;
        for (const auto& c : changes) {
            if (c.action == change_action::insert) {
                transaction.push_back(insert(c.table, c.id));
            } else if (c.action == change_action::update) {
                transaction.push_back(
                    {c.action, c.table, {{"id", std::to_string(c.id)}, {"name", "renamed"}}});
            } else {
                transaction.push_back({c.action, c.table, {{"id", std::to_string(c.id)}}});
            }
        }
        upstream_.commit(transaction);
    }

    // Stops the upstream: the source's stream loses its connection and fails.
    bool break_upstream() override {
        upstream_.stop();
        return true;
    }

  private:
    static upstream_change insert(const table_identifier& table, std::uint64_t id) {
        return {change_action::insert, table, {{"id", std::to_string(id)}, {"name", "n"}}};
    }

    const table_identifier users_{"public", "users"};
    boost::asio::io_context context_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
        context_.get_executor()};
    line_upstream upstream_{context_.get_executor()};
    std::thread thread_{[this] { context_.run(); }};
};
// [/guide:kit-fixture]

// [guide:kit-register]
// One GoogleTest case per checklist item: conformance/line_guide.positions_strictly_increase...
[[maybe_unused]] const bool registered = [] {
    laredo::testing::conformance_options options;
    options.rows_per_table = 10;  // small: every case builds a fresh upstream
    options.changes = 12;
    laredo::testing::register_conformance_tests(
        "line_guide", [] { return std::make_unique<line_guide_fixture>(); }, options);
    return true;
}();
// [/guide:kit-register]

}  // namespace
