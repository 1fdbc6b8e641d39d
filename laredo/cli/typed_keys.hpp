#pragma once

// `--key col=value` for query get and lookup: each value checked against its column's type
// (from the table's columns, GET /v1/tables/{table}) before it is sent, and the key's values
// put in the key's column order.

#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace laredo::cli {

struct key_value {
    std::string column;
    std::string value;
};

// "id=42" -> {id, 42}; throws usage_error without a column name or "=".
key_value parse_key_argument(const std::string& text);

// Checks every value against its column in `table_json` (the /v1/tables/{table} answer) and
// throws usage_error naming the column when a value is not of its type or the column does not
// exist. With `as_primary_key`, when the columns given are exactly the primary key, they come
// back in key order; otherwise in the order given.
std::vector<std::string> typed_values(const boost::json::value& table_json,
                                      const std::vector<key_value>& keys, bool as_primary_key);

}  // namespace laredo::cli
