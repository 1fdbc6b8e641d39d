#include "csv_fixture.hpp"

#include "csv_source.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace laredo::testing {

namespace {
const table_identifier users{"public", "users"};
const table_identifier items{"shop", "items"};
}  // namespace

csv_fixture::csv_fixture(std::chrono::milliseconds poll_interval) : poll_interval_(poll_interval) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "csv_conformance_XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    dir_ = pattern;
    append(dir_ / "public.users.csv", "id,name,note\n");
    append(dir_ / "shop.items.csv", "sku,title,price\n");
}

csv_fixture::~csv_fixture() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void csv_fixture::append(const std::filesystem::path& file, const std::string& text) const {
    // One write per call, so the tailing source never sees half a line it could mistake
    // for a whole one (it waits for the newline anyway).
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("cannot append to " + file.string());
}

std::vector<table_identifier> csv_fixture::tables() const { return {users, items}; }

std::shared_ptr<sync_source> csv_fixture::make_source(boost::asio::any_io_executor executor) {
    return std::make_shared<examples::csv_source>(std::move(executor), dir_, poll_interval_);
}

std::vector<value> csv_fixture::key_of(const table_identifier&, std::uint64_t id) const {
    return {value(std::to_string(id))};
}

void csv_fixture::add_row(const table_identifier& table, std::uint64_t id) {
    if (table == users) {
        append(dir_ / "public.users.csv", fmt::format("{0},user {0},\"note, {0}\"\n", id));
    } else {
        append(dir_ / "shop.items.csv", fmt::format("{0},item {0},{0}.50\n", id));
    }
}

void csv_fixture::make_changes(const std::vector<change_request>& changes) {
    std::string lines;
    for (const auto& c : changes) {
        const auto name = c.table.to_string();
        const bool user = c.table == users;
        switch (c.action) {
            case change_action::insert:
                lines +=
                    user ? fmt::format("INSERT,{},id={},name=new {}\n", name, c.id, c.id)
                         : fmt::format("INSERT,{},sku={},title=new {},price=1\n", name, c.id, c.id);
                break;
            case change_action::update:
                lines += user ? fmt::format("UPDATE,{},id={},name=changed {}\n", name, c.id, c.id)
                              : fmt::format("UPDATE,{},sku={},price=2\n", name, c.id);
                break;
            default:
                lines += fmt::format("DELETE,{},{}={}\n", name, user ? "id" : "sku", c.id);
                break;
        }
    }
    append(dir_ / "changes.log", lines);
}

bool csv_fixture::break_upstream() {
    append(dir_ / "changes.log", "NOT A CHANGE\n");
    return true;
}

}  // namespace laredo::testing
