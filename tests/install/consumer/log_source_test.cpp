// The conformance kit on the tiny log source: `conformance/log.<item>`, as a source author's
// test suite runs it (link laredo-testing and GoogleTest's main).
#include "log_source.hpp"

#include <laredo/testing/conformance.hpp>

#include <memory>
#include <string>

namespace {

const laredo::table_identifier users{"public", "users"};
const laredo::table_identifier items{"shop", "items"};

class log_fixture final : public laredo::testing::conformance_fixture {
  public:
    log_fixture() {
        log_->add_table(users);
        log_->add_table(items);
    }

    std::vector<laredo::table_identifier> tables() const override { return {users, items}; }

    std::shared_ptr<laredo::sync_source> make_source(
        boost::asio::any_io_executor executor) override {
        return std::make_shared<consumer::log_source>(std::move(executor), log_);
    }

    std::vector<laredo::value> key_of(const laredo::table_identifier&,
                                      std::uint64_t id) const override {
        return {laredo::value(std::to_string(id))};
    }

    // Baseline rows are changes made before any source exists.
    void add_row(const laredo::table_identifier& table, std::uint64_t id) override {
        log_->apply({{table, laredo::change_action::insert, id, "row " + std::to_string(id)}});
    }

    void make_changes(const std::vector<laredo::testing::change_request>& changes) override {
        std::vector<consumer::change_log::entry> entries;
        for (const auto& c : changes) {
            const bool gone = c.action == laredo::change_action::delete_;
            entries.push_back(
                {c.table, c.action, c.id, gone ? "" : "changed " + std::to_string(c.id)});
        }
        log_->apply(std::move(entries));
    }

    bool break_upstream() override {
        log_->break_for_good();
        return true;
    }

  private:
    std::shared_ptr<consumer::change_log> log_ = std::make_shared<consumer::change_log>();
};

[[maybe_unused]] const bool registered = [] {
    laredo::testing::register_conformance_tests("log",
                                                [] { return std::make_unique<log_fixture>(); });
    return true;
}();

}  // namespace
