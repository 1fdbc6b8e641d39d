#pragma once

// Column resolution shared by the memory targets: which columns make the key, which an
// index, how to read a key out of an identity row, and which schema changes leave stored
// rows readable.

#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/targets/memory/packed_row.hpp"
#include "laredo/targets/memory/value_view.hpp"

#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::targets::memory::detail {

using key_views = boost::container::small_vector<value_view, 4>;

// The positions of `names` in `schema`. Throws errc::invalid_config naming `what` ("index
// \"by_email\"") and the missing column.
std::vector<std::size_t> resolve_columns(const row_schema& schema,
                                         std::span<const std::string> names, std::string_view what);

// The key columns: `configured` when not empty, else the schema's key. Throws
// errc::invalid_config when there is neither: such a table would collapse into one row.
std::vector<std::size_t> resolve_key(const row_schema& schema,
                                     std::span<const std::string> configured,
                                     const table_identifier& table, std::string_view target_type);

// Views of the columns `columns` (positions in `schema`) of `r`. `r` may carry another
// schema object: when it is not equal to `schema`, columns are found by name, and a missing
// one is an errc::schema_mismatch. The views borrow from `r`.
key_views key_of(const row& r, const row_schema& schema, std::span<const std::size_t> columns);

// Views of the columns `columns` of a packed row. The views borrow from `r`.
key_views columns_of(packed_view r, std::span<const std::size_t> columns);

// Views of `values` (for get/lookup by the caller's values).
key_views views_of(std::span<const value> values);

// "(1, ann)" for error messages.
std::string describe(std::span<const value_view> key);

// True when `next` still has every column of `prev` with the same name, type and key role,
// and at least as many columns: stored rows stay meaningful (added columns read as null).
bool only_adds_columns(const row_schema& prev, const row_schema& next);

// True when, in addition, `prev`'s columns are `next`'s first columns in the same order, so
// rows packed for `prev` can be read with `next` as they are.
bool keeps_column_positions(const row_schema& prev, const row_schema& next);

// The columns `next` adds that have a default, as "name (default expr), ...": rows stored
// before have the default in the source but would read null here.
std::string added_columns_with_defaults(const row_schema& prev, const row_schema& next);

// Names of the columns of `next` that `prev` lacks, comma-separated.
std::string added_column_names(const row_schema& prev, const row_schema& next);

// Throws errc::schema_mismatch unless `r`'s schema is `expected` (same object or equal).
void check_row_schema(const row& r, const schema_ptr& expected, const table_identifier& table);

}  // namespace laredo::targets::memory::detail
