#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

// libpq's result type; its header stays out of ours.
struct pg_result;

namespace laredo::sources::postgres {

// The rows of one statement, in text format, as the server sent them. Cheap to copy (the
// libpq result is shared) and safe to read from any thread once received. string_views
// returned here stay valid as long as any copy of this object lives.
class query_result {
  public:
    query_result() = default;
    // Adopts a libpq result (PQclear is called when the last copy goes).
    explicit query_result(pg_result* adopted);

    std::size_t rows() const noexcept;
    std::size_t columns() const noexcept;
    std::string_view column_name(std::size_t column) const;
    // The column's type OID (pg_type.oid), which the value converter keys on.
    std::uint32_t column_type(std::size_t column) const;
    // Index of the column with this name; std::nullopt if there is none.
    std::optional<std::size_t> find_column(std::string_view name) const;

    bool is_null(std::size_t row, std::size_t column) const;
    // The value as text; empty for NULL (use is_null or get to tell them apart).
    std::string_view value(std::size_t row, std::size_t column) const;
    // The value as text, std::nullopt for NULL.
    std::optional<std::string_view> get(std::size_t row, std::size_t column) const;

    // The command tag ("SELECT 3", "INSERT 0 1", "CREATE_REPLICATION_SLOT").
    std::string_view command_tag() const noexcept;
    // Rows affected by INSERT/UPDATE/DELETE/MERGE/SELECT/COPY...; 0 when the tag has no count.
    std::uint64_t affected_rows() const noexcept;

    // Access out of range throws laredo::error(errc::invalid_argument).

  private:
    void check_column(std::size_t column) const;
    void check(std::size_t row, std::size_t column) const;
    std::shared_ptr<pg_result> result_;
};

}  // namespace laredo::sources::postgres
