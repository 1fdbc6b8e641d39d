// The conformance kit on the PostgreSQL source, with an ephemeral and with a stateful slot:
// `conformance/postgres_ephemeral.<item>` and `conformance/postgres_stateful.<item>`. Each case
// gets tables of its own in a schema of its own, and a slot and publication of its own.

#include "source_test_support.hpp"

#include "laredo/testing/conformance.hpp"

#include <fmt/format.h>

#include <atomic>

namespace laredo::sources::postgres::testing {
namespace {

using laredo::testing::change_request;

std::atomic<int> fixture_number{0};

class postgres_fixture : public laredo::testing::conformance_fixture {
  public:
    explicit postgres_fixture(slot_mode mode) : mode_(mode) {
        const int n = ++fixture_number;
        name_ = fmt::format("conf_{}_{}", mode == slot_mode::stateful ? "s" : "e", n);
        users_ = table_identifier(name_, "users");
        items_ = table_identifier(name_, "items");
        drop_slot_and_publication(name_);
        sql(
            fmt::format("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}; CREATE TABLE "
                        "{0}.users (id bigint PRIMARY KEY, name text NOT NULL, note text); "
                        "CREATE TABLE {0}.items (region text, sku bigint, title text, PRIMARY KEY "
                        "(region, sku))",
                        name_));
    }

    ~postgres_fixture() override {
        try {
            // The walsender of the last source may take a moment to exit.
            wait_until(
                [&] {
                    return sql_value(
                               "SELECT count(*) FROM pg_replication_slots WHERE slot_name "
                               "= '" +
                               name_ + "' AND active") == "0";
                },
                10s);
            drop_slot_and_publication(name_);
            sql(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", name_));
        } catch (const std::exception& e) {
            ADD_FAILURE() << "cleaning up " << name_ << ": " << e.what();
        }
    }

    std::vector<table_identifier> tables() const override { return {users_, items_}; }

    std::shared_ptr<sync_source> make_source(boost::asio::any_io_executor executor) override {
        auto options = options_for(name_, mode_);
        options.change_batch_size = 4;  // transactions arrive in parts too
        return std::make_shared<postgres_source>(std::move(executor), options);
    }

    std::vector<value> key_of(const table_identifier& table, std::uint64_t id) const override {
        if (table == items_)
            return {value("r" + std::to_string(id % 3)), value(static_cast<std::int64_t>(id))};
        return {value(static_cast<std::int64_t>(id))};
    }

    void add_row(const table_identifier& table, std::uint64_t id) override {
        sql(insert_of(table, id));
    }

    void make_changes(const std::vector<change_request>& changes) override {
        std::string tx = "BEGIN; ";
        for (const auto& c : changes) {
            switch (c.action) {
                case change_action::insert:
                    tx += insert_of(c.table, c.id) + "; ";
                    break;
                case change_action::update:
                    tx += c.table == items_
                              ? fmt::format("UPDATE {} SET title = 'changed' WHERE {}; ",
                                            c.table.to_string(), where(c.table, c.id))
                              : fmt::format("UPDATE {} SET note = 'changed' WHERE {}; ",
                                            c.table.to_string(), where(c.table, c.id));
                    break;
                default:
                    tx += fmt::format("DELETE FROM {} WHERE {}; ", c.table.to_string(),
                                      where(c.table, c.id));
                    break;
            }
        }
        sql(tx + "COMMIT");
    }

    // The walsender is terminated and the slot dropped: reconnecting cannot help, so the
    // stream ends with an error (a new slot and baseline are needed).
    bool break_upstream() override {
        const std::string where = "slot_name = '" + name_ + "'";
        return wait_until(
            [&] {
                sql("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE " +
                    where + " AND active");
                sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE " +
                    where + " AND NOT active");
                return sql_value("SELECT count(*) FROM pg_replication_slots WHERE " + where) == "0";
            },
            10s);
    }

  private:
    std::string insert_of(const table_identifier& table, std::uint64_t id) const {
        if (table == items_)
            return fmt::format("INSERT INTO {} VALUES ('r{}', {}, 'item {}')", table.to_string(),
                               id % 3, id, id);
        return fmt::format("INSERT INTO {} VALUES ({}, 'user {}', NULL)", table.to_string(), id,
                           id);
    }
    std::string where(const table_identifier& table, std::uint64_t id) const {
        if (table == items_) return fmt::format("region = 'r{}' AND sku = {}", id % 3, id);
        return fmt::format("id = {}", id);
    }

    slot_mode mode_;
    std::string name_;
    table_identifier users_;
    table_identifier items_;
};

[[maybe_unused]] const bool registered = [] {
    laredo::testing::conformance_options options;
    options.deadline = 30s;
    options.stop_bound = 5s;
    laredo::testing::register_conformance_tests(
        "postgres_ephemeral",
        [] { return std::make_unique<postgres_fixture>(slot_mode::ephemeral); }, options);
    laredo::testing::register_conformance_tests(
        "postgres_stateful", [] { return std::make_unique<postgres_fixture>(slot_mode::stateful); },
        options);
    return true;
}();

}  // namespace
}  // namespace laredo::sources::postgres::testing
