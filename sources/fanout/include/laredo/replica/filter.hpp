#pragma once

// Row filters of a replication subscription: a client asks for the rows of a table whose
// columns match every condition (AND). The server applies them in every phase (snapshot,
// catch-up, live); an UPDATE whose row leaves the filter reaches the client as a DELETE, one
// whose row enters it as an INSERT.

#include "laredo/row.hpp"
#include "laredo/value.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace laredo::replica {

// One condition as the client sends it: {"field": "region", "equals": "eu"},
// {"field": "name", "prefix": "an"} or {"field": "id", "in": [1, 2, 3]}.
struct filter_spec {
    enum class op : std::uint8_t { equals, prefix, in };
    std::string field;
    op kind = op::equals;
    // One value for equals and prefix (a string for prefix), any number for in.
    std::vector<boost::json::value> values;

    static filter_spec equals(std::string field, boost::json::value v);
    static filter_spec prefix(std::string field, std::string text);
    static filter_spec in(std::string field, std::vector<boost::json::value> values);

    friend bool operator==(const filter_spec&, const filter_spec&) = default;
};

boost::json::value to_json(const filter_spec& f);
// Throws errc::invalid_argument naming the problem ("filter[2]: field is required", "filter[0]:
// a match condition (equals, prefix or in) is required"); `index` is the filter's place in its
// list, for the message.
filter_spec filter_from_json(const boost::json::value& j, std::size_t index);

// Filters checked against a table's columns, ready to match rows of that table.
class row_filter {
  public:
    row_filter() = default;  // matches every row

    // Throws errc::invalid_argument naming the filter and the problem: an unknown column, a
    // value that is not one of the column's type, a prefix that is not a string, an empty in.
    row_filter(const std::vector<filter_spec>& specs, const row_schema& schema);

    bool empty() const noexcept { return terms_.empty(); }

    // Whether a row matches every condition. `column(i)` returns the value of column i of the
    // schema given at construction (a laredo::value, or anything comparable the same way). A
    // null value never matches.
    template <class Column>
    bool matches_by(Column&& column) const {
        for (const auto& t : terms_) {
            if (!t.matches(column(t.column))) return false;
        }
        return true;
    }
    bool matches(const row& r) const {
        return matches_by([&](std::size_t i) -> const value& { return r[i]; });
    }

  private:
    struct term {
        std::size_t column = 0;
        filter_spec::op kind = filter_spec::op::equals;
        std::vector<value> values;
        bool matches(const value& v) const;
    };
    std::vector<term> terms_;
};

}  // namespace laredo::replica
