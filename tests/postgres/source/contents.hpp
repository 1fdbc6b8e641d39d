#pragma once

// The contents of a table as text, for full comparisons: every row keyed by its key, each value
// as laredo::value::to_string() after conversion by type OID (the source's own converter), so
// equal maps mean equal contents. Used by the source's tests and by the chaos test's engine
// process (which writes its targets' contents to files).

#include "laredo/row.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace laredo::sources::postgres::testing {

using contents = std::map<std::string, std::string>;

// "value|value|" of the key columns.
std::string key_text(const row& r);
// "column=value;column=value;" of every column.
std::string row_text(const row& r);

contents target_contents(const targets::memory::indexed_target& target);

// Rows of a query's text result (std::nullopt for NULL) with the column type OIDs, in
// `schema`'s columns.
contents rows_contents(const schema_ptr& schema, const std::vector<std::uint32_t>& types,
                       const std::vector<std::vector<std::optional<std::string>>>& rows);

}  // namespace laredo::sources::postgres::testing
