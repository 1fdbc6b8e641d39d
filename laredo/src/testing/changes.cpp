#include "changes.hpp"

#include <fmt/format.h>

namespace laredo::testing::detail {

std::string describe_key(const std::vector<value>& key) {
    std::string out = "(";
    for (std::size_t i = 0; i < key.size(); ++i) {
        if (i > 0) out += ", ";
        out += key[i].to_string();
    }
    return out + ")";
}

std::string describe(const change_key& c) {
    return fmt::format("{} {} {}", to_string(c.action), c.table.to_string(), describe_key(c.key));
}

change_key key_of_event(const change_event& e) {
    return change_key{e.table, e.action,
                      e.identity().empty() ? std::vector<value>{} : e.identity().key()};
}

change_planner::change_planner(const conformance_fixture& fixture,
                               std::vector<table_identifier> tables, std::size_t rows_per_table)
    : fixture_(fixture), tables_(std::move(tables)) {
    for (const auto& t : tables_) {
        auto& ids = live_[t];
        for (std::uint64_t id = 1; id <= rows_per_table; ++id) ids.insert(id);
        next_id_[t] = rows_per_table + 1;
    }
}

std::vector<std::vector<change_request>> change_planner::plan(std::size_t count,
                                                              bool first_table_only) {
    std::vector<std::vector<change_request>> out;
    std::vector<change_request> tx;
    std::size_t want = tx_size_ % 3 + 1;
    for (std::size_t i = 0; i < count; ++i, ++counter_) {
        const auto& table = first_table_only ? tables_.front() : tables_[counter_ % tables_.size()];
        auto& ids = live_[table];
        change_request r{table, change_action::insert, 0};
        const auto kind = (counter_ / tables_.size()) % 4;
        if (kind == 2 && !ids.empty()) {
            r.action = change_action::update;
            r.id = *std::next(ids.begin(), static_cast<std::ptrdiff_t>(counter_ % ids.size()));
        } else if (kind == 3 && ids.size() > 1) {
            r.action = change_action::delete_;
            r.id =
                *std::next(ids.begin(), static_cast<std::ptrdiff_t>((counter_ / 2) % ids.size()));
            ids.erase(r.id);
        } else {
            r.id = next_id_[table]++;
            ids.insert(r.id);
        }
        tx.push_back(r);
        if (tx.size() == want) {
            out.push_back(std::move(tx));
            tx.clear();
            want = ++tx_size_ % 3 + 1;
        }
    }
    if (!tx.empty()) out.push_back(std::move(tx));
    return out;
}

std::vector<change_key> change_planner::expected(const std::vector<change_request>& tx) const {
    std::vector<change_key> out;
    for (const auto& r : tx) out.push_back({r.table, r.action, fixture_.key_of(r.table, r.id)});
    return out;
}

delivery_diff compare_deliveries(const std::vector<change_key>& expected,
                                 const std::vector<change_key>& delivered) {
    std::map<change_key, long> balance;
    for (const auto& c : expected) ++balance[c];
    for (const auto& c : delivered) --balance[c];
    delivery_diff d;
    // Report in the order the changes were made / delivered.
    for (const auto& c : expected) {
        auto& b = balance[c];
        if (b > 0) {
            d.missing.push_back(c);
            --b;
        }
    }
    for (const auto& c : delivered) {
        auto& b = balance[c];
        if (b < 0) {
            d.extra.push_back(c);
            ++b;
        }
    }
    return d;
}

std::string list_some(const std::vector<std::string>& items, std::size_t shown) {
    std::string out;
    for (std::size_t i = 0; i < items.size() && i < shown; ++i) {
        if (i > 0) out += "; ";
        out += items[i];
    }
    if (items.size() > shown) out += fmt::format(" and {} more", items.size() - shown);
    return out;
}

std::vector<std::string> describe_all(const std::vector<change_key>& changes) {
    std::vector<std::string> out;
    out.reserve(changes.size());
    for (const auto& c : changes) out.push_back(describe(c));
    return out;
}

}  // namespace laredo::testing::detail
