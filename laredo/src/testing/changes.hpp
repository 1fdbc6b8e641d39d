#pragma once

// The changes a case makes upstream and what a delivered change is compared by: table,
// action and key (positions and values belong to the source).

#include "laredo/change_event.hpp"
#include "laredo/testing/conformance.hpp"

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace laredo::testing::detail {

struct change_key {
    table_identifier table;
    change_action action = change_action::insert;
    std::vector<value> key;

    friend auto operator<=>(const change_key&, const change_key&) = default;
    friend bool operator==(const change_key&, const change_key&) = default;
};

// "UPDATE public.users (7)".
std::string describe(const change_key& c);
std::string describe_key(const std::vector<value>& key);

// What a delivered event is compared by: identity() for its key.
change_key key_of_event(const change_event& e);

// Plans changes over the kit's picture of the upstream: which ids exist in each table.
// Inserts take new ids, updates and deletes existing ones; tables and actions rotate, and
// changes are grouped into transactions of 1, 2 and 3.
class change_planner {
  public:
    change_planner(const conformance_fixture& fixture, std::vector<table_identifier> tables,
                   std::size_t rows_per_table);

    // `count` changes as transactions; only tables[0] when `first_table_only`.
    std::vector<std::vector<change_request>> plan(std::size_t count, bool first_table_only = false);

    // What the requests of a transaction look like once delivered.
    std::vector<change_key> expected(const std::vector<change_request>& tx) const;

    const std::vector<table_identifier>& tables() const noexcept { return tables_; }

  private:
    const conformance_fixture& fixture_;
    std::vector<table_identifier> tables_;
    std::map<table_identifier, std::set<std::uint64_t>> live_;
    std::map<table_identifier, std::uint64_t> next_id_;
    std::uint64_t counter_ = 0;
    std::size_t tx_size_ = 0;
};

// Multiset difference of expected and delivered changes.
struct delivery_diff {
    std::vector<change_key> missing;  // expected, not delivered (as often as expected)
    std::vector<change_key> extra;    // delivered more often than expected
    bool exact() const noexcept { return missing.empty() && extra.empty(); }
};
delivery_diff compare_deliveries(const std::vector<change_key>& expected,
                                 const std::vector<change_key>& delivered);

// "a, b, c and 4 more".
std::string list_some(const std::vector<std::string>& items, std::size_t shown = 3);
std::vector<std::string> describe_all(const std::vector<change_key>& changes);

}  // namespace laredo::testing::detail
