#pragma once

#include "laredo/column_definition.hpp"
#include "laredo/value.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace laredo {

// The columns of a table as rows carry them: immutable and shared by every row of the table,
// so a row is a pointer plus its values, never a per-row map of names.
class row_schema {
  public:
    // Throws errc::invalid_argument when two columns share a name or a name is empty.
    explicit row_schema(std::vector<column_definition> columns);

    static std::shared_ptr<const row_schema> make(std::vector<column_definition> columns);

    std::size_t size() const noexcept { return columns_.size(); }
    const column_definition& column(std::size_t i) const { return columns_.at(i); }
    const std::vector<column_definition>& columns() const noexcept { return columns_; }

    std::optional<std::size_t> index_of(std::string_view name) const noexcept;

    // Indexes of the key columns, ordered by primary_key_ordinal. Empty when the table has no
    // key (callers that need one refuse such a table).
    const std::vector<std::size_t>& key_indexes() const noexcept { return key_indexes_; }

    // A stable digest of names, types and key flags; snapshots and dead letters store it to
    // refuse data written for another shape of the table.
    std::uint64_t fingerprint() const noexcept { return fingerprint_; }

    friend bool operator==(const row_schema& a, const row_schema& b) noexcept {
        return a.columns_ == b.columns_;
    }

  private:
    struct name_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::vector<column_definition> columns_;
    std::unordered_map<std::string, std::size_t, name_hash, std::equal_to<>> by_name_;
    std::vector<std::size_t> key_indexes_;
    std::uint64_t fingerprint_ = 0;
};

using schema_ptr = std::shared_ptr<const row_schema>;

// A row: its table's shared schema and one value per column, in schema order. An empty row
// (no schema) stands for "absent", e.g. the old values of an insert.
class row {
  public:
    row() = default;
    // Throws errc::schema_mismatch when the value count differs from the schema's.
    row(schema_ptr schema, std::vector<value> values);

    bool empty() const noexcept { return schema_ == nullptr; }
    const schema_ptr& schema() const noexcept { return schema_; }
    std::size_t size() const noexcept { return values_.size(); }

    const value& operator[](std::size_t i) const noexcept { return values_[i]; }
    const std::vector<value>& values() const noexcept { return values_; }

    // Replaces one value (transforms, TOAST merging). Index must be < size().
    void set(std::size_t i, value v) { values_.at(i) = std::move(v); }

    // The value of a column by name, or nullptr when the schema has no such column.
    const value* find(std::string_view column) const noexcept;
    // The value of a column by name; throws errc::invalid_argument naming a missing column.
    const value& at(std::string_view column) const;

    // The values of the key columns, in key order. Empty when the schema has no key.
    std::vector<value> key() const;

    // True when every column of the schema has a value that is not `unchanged`.
    bool is_complete() const noexcept;

    // Sum of the values' raw sizes.
    std::size_t raw_size() const noexcept;

    // "{id=1, name=ann}" for logs and test failures.
    std::string debug_string() const;

    friend bool operator==(const row& a, const row& b) noexcept;

  private:
    schema_ptr schema_;
    std::vector<value> values_;
};

// Builds rows of one schema by column name, for tests and hand-written sources:
//   row_builder(schema).set("id", 1).set("name", "ann").build()
// Columns not set are null.
class row_builder {
  public:
    explicit row_builder(schema_ptr schema);
    row_builder& set(std::string_view column, value v);
    row build() &&;
    row build() const&;

  private:
    schema_ptr schema_;
    std::vector<value> values_;
};

}  // namespace laredo
