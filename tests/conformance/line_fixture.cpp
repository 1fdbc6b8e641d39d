#include "line_fixture.hpp"

#include "line_source.hpp"

namespace laredo::testing {

namespace {
const table_identifier users{"public", "users"};
// Keyed by (region, sku).
const table_identifier items{"shop", "items"};

using field = examples::line_protocol::field;

std::vector<field> key_fields(const table_identifier& table, std::uint64_t id) {
    if (table == items)
        return {{"region", "r" + std::to_string(id % 3)}, {"sku", std::to_string(id)}};
    return {{"id", std::to_string(id)}};
}

examples::upstream_change insert_of(const table_identifier& table, std::uint64_t id) {
    auto fields = key_fields(table, id);
    if (table == items) {
        fields.push_back({"title", "item " + std::to_string(id)});
    } else {
        fields.push_back({"name", "user " + std::to_string(id)});
        fields.push_back({"note", std::nullopt});
    }
    return {change_action::insert, table, std::move(fields)};
}
}  // namespace

line_fixture::line_fixture() {
    work_.emplace(context_.get_executor());
    thread_ = std::thread([this] { context_.run(); });
    upstream_ = std::make_unique<examples::line_upstream>(context_.get_executor());
    upstream_->add_table(users, {"id", "name", "note"});
    upstream_->add_table(items, {"region", "sku", "title"}, 2);
}

line_fixture::~line_fixture() {
    upstream_.reset();
    work_.reset();
    context_.stop();
    thread_.join();
}

std::vector<table_identifier> line_fixture::tables() const { return {users, items}; }

std::shared_ptr<sync_source> line_fixture::make_source(boost::asio::any_io_executor executor) {
    examples::line_source_options options;
    options.upstream = upstream_->endpoint();
    options.batch_size = 4;  // transactions arrive in parts too
    return std::make_shared<examples::line_source>(std::move(executor), options);
}

std::vector<value> line_fixture::key_of(const table_identifier& table, std::uint64_t id) const {
    std::vector<value> key;
    for (auto& [name, v] : key_fields(table, id)) key.emplace_back(*v);
    return key;
}

void line_fixture::add_row(const table_identifier& table, std::uint64_t id) {
    const std::vector<examples::upstream_change> tx{insert_of(table, id)};
    upstream_->commit(tx);
}

void line_fixture::make_changes(const std::vector<change_request>& changes) {
    std::vector<examples::upstream_change> tx;
    for (const auto& c : changes) {
        switch (c.action) {
            case change_action::insert:
                tx.push_back(insert_of(c.table, c.id));
                break;
            case change_action::update: {
                auto fields = key_fields(c.table, c.id);
                fields.push_back(c.table == items ? field{"title", "changed"}
                                                  : field{"note", "changed"});
                tx.push_back({change_action::update, c.table, std::move(fields)});
                break;
            }
            default:
                tx.push_back({change_action::delete_, c.table, key_fields(c.table, c.id)});
                break;
        }
    }
    upstream_->commit(tx);
}

bool line_fixture::break_upstream() {
    upstream_->drop_connections();
    return true;
}

}  // namespace laredo::testing
