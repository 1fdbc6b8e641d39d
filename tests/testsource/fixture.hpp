#pragma once

#include "coro_test.hpp"

#include "laredo/error.hpp"
#include "laredo/sources/testsource/test_source.hpp"
#include "laredo/testing/recording_handler.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace laredo::testing {

namespace ts = laredo::sources::testsource;

inline const table_identifier users{"public", "users"};
inline const table_identifier orders{"public", "orders"};
// Named lists: a braced list inside a co_await statement does not compile with g++ 12.
inline const std::vector<table_identifier> just_users{users};
inline const std::vector<table_identifier> just_orders{orders};
inline const std::vector<table_identifier> users_and_orders{users, orders};
inline const std::vector<table_identifier> orders_and_users{orders, users};

// users(id, name, note), keyed by id.
inline schema_ptr add_users(ts::test_source& src) {
    return src.set_schema(users, ts::test_source::text_columns({"id", "name", "note"}));
}

inline row user(const ts::test_source& src, int id, std::string name) {
    return src.make_row(users, {{"id", id}, {"name", std::move(name)}});
}

inline source_config config_of(std::vector<table_identifier> tables) {
    return source_config{std::move(tables)};
}

// Applies baseline rows and then changes by key, as a target that keeps rows would (unchanged
// values keep the stored value). What the engine's memory target does, in ten lines.
class replica {
  public:
    void load(const std::vector<std::pair<table_identifier, row>>& rows) {
        for (const auto& [table, r] : rows) rows_[table][r.key()] = r;
    }
    void apply(const std::vector<change_event>& events) {
        for (const auto& e : events) {
            auto& table = rows_[e.table];
            switch (e.action) {
                case change_action::insert:
                    table[e.new_values.key()] = e.new_values;
                    break;
                case change_action::update: {
                    const auto old = table.find(e.identity().key());
                    row merged = e.new_values;
                    for (std::size_t i = 0; i < merged.size(); ++i) {
                        if (merged[i].is_unchanged() && old != table.end())
                            merged.set(i, old->second[i]);
                    }
                    if (old != table.end()) table.erase(old);
                    table[merged.key()] = merged;
                    break;
                }
                case change_action::delete_:
                    table.erase(e.old_values.key());
                    break;
                case change_action::truncate:
                    table.clear();
                    break;
            }
        }
    }
    std::vector<row> rows(const table_identifier& t) const {
        std::vector<row> out;
        if (auto it = rows_.find(t); it != rows_.end()) {
            for (const auto& [k, r] : it->second) out.push_back(r);
        }
        return out;
    }

  private:
    std::map<table_identifier, std::map<std::vector<value>, row>> rows_;
};

inline std::vector<row> rows_of(const std::vector<std::pair<table_identifier, row>>& rows) {
    std::vector<row> out;
    for (const auto& [t, r] : rows) out.push_back(r);
    return out;
}

}  // namespace laredo::testing
