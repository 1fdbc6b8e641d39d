#include "testsource_fixture.hpp"

namespace laredo::testing {

using sources::testsource::step;
using sources::testsource::test_source;
using sources::testsource::test_source_options;

const table_identifier testsource_fixture::users{"public", "users"};
const table_identifier testsource_fixture::orders{"sales", "orders"};

testsource_fixture::testsource_fixture(test_source_options options)
    : options_(std::move(options)),
      admin_(std::make_shared<test_source>(admin_context_.get_executor(), options_)) {
    admin_->set_schema(users, {
                                  {.name = "id",
                                   .type = "int8",
                                   .nullable = false,
                                   .primary_key = true,
                                   .ordinal_position = 1,
                                   .primary_key_ordinal = 1},
                                  {.name = "name", .type = "text", .ordinal_position = 2},
                                  {.name = "version", .type = "int8", .ordinal_position = 3},
                              });
    // Keyed by (region, id): the key order differs from the column order.
    admin_->set_schema(orders, {
                                   {.name = "id",
                                    .type = "int8",
                                    .nullable = false,
                                    .primary_key = true,
                                    .ordinal_position = 1,
                                    .primary_key_ordinal = 2},
                                   {.name = "region",
                                    .type = "text",
                                    .nullable = false,
                                    .primary_key = true,
                                    .ordinal_position = 2,
                                    .primary_key_ordinal = 1},
                                   {.name = "total", .type = "float8", .ordinal_position = 3},
                               });
    options_.database = admin_->database();
}

std::vector<table_identifier> testsource_fixture::tables() const { return {users, orders}; }

std::shared_ptr<test_source> testsource_fixture::make_test_source(
    boost::asio::any_io_executor executor) {
    auto src = std::make_shared<test_source>(std::move(executor), options_);
    std::lock_guard lock(mutex_);
    live_ = src;
    return src;
}

std::shared_ptr<sync_source> testsource_fixture::make_source(
    boost::asio::any_io_executor executor) {
    return make_test_source(std::move(executor));
}

std::shared_ptr<test_source> testsource_fixture::live() const {
    std::lock_guard lock(mutex_);
    if (auto src = live_.lock()) return src;
    return admin_;
}

std::vector<value> testsource_fixture::key_of(const table_identifier& table,
                                              std::uint64_t id) const {
    const auto n = static_cast<std::int64_t>(id);
    if (table == orders) return {value("r" + std::to_string(id % 3)), value(n)};
    return {value(n)};
}

row testsource_fixture::row_of(const table_identifier& table, std::uint64_t id,
                               std::int64_t version) const {
    const auto n = static_cast<std::int64_t>(id);
    if (table == orders) {
        return admin_->make_row(orders, {{"id", value(n)},
                                         {"region", value("r" + std::to_string(id % 3))},
                                         {"total", value(static_cast<double>(version) * 1.5)}});
    }
    return admin_->make_row(users, {{"id", value(n)},
                                    {"name", value("user " + std::to_string(id))},
                                    {"version", value(version)}});
}

void testsource_fixture::add_row(const table_identifier& table, std::uint64_t id) {
    versions_[{table, id}] = 1;
    admin_->add_row(table, row_of(table, id, 1));
}

void testsource_fixture::make_changes(const std::vector<change_request>& changes) {
    test_source::transaction tx;
    for (const auto& c : changes) {
        auto& version = versions_[{c.table, c.id}];
        switch (c.action) {
            case change_action::insert:
                version = 1;
                tx.insert(c.table, row_of(c.table, c.id, version));
                break;
            case change_action::update:
                tx.update(c.table, row_of(c.table, c.id, ++version));
                break;
            default:
                tx.remove(c.table, row_of(c.table, c.id, version));
                versions_.erase({c.table, c.id});
                break;
        }
    }
    live()->commit(std::move(tx));
}

bool testsource_fixture::break_upstream() {
    std::lock_guard lock(mutex_);
    auto src = live_.lock();
    if (!src) return false;
    src->fail_next(step::stream, errc::source_failed);
    return true;
}

}  // namespace laredo::testing
