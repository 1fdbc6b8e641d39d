#include "laredo/sources/postgres/query_result.hpp"

#include "laredo/error.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <string>

namespace laredo::sources::postgres {

query_result::query_result(pg_result* adopted) : result_(adopted, &PQclear) {}

std::size_t query_result::rows() const noexcept {
    return result_ ? static_cast<std::size_t>(PQntuples(result_.get())) : 0;
}

std::size_t query_result::columns() const noexcept {
    return result_ ? static_cast<std::size_t>(PQnfields(result_.get())) : 0;
}

void query_result::check_column(std::size_t column) const {
    if (column >= columns()) {
        throw error(errc::invalid_argument, "query result has " + std::to_string(columns()) +
                                                " columns; asked for column " +
                                                std::to_string(column));
    }
}

void query_result::check(std::size_t row, std::size_t column) const {
    check_column(column);
    if (row >= rows()) {
        throw error(errc::invalid_argument, "query result has " + std::to_string(rows()) +
                                                " rows and " + std::to_string(columns()) +
                                                " columns; asked for row " + std::to_string(row) +
                                                ", column " + std::to_string(column));
    }
}

std::string_view query_result::column_name(std::size_t column) const {
    check_column(column);
    return PQfname(result_.get(), static_cast<int>(column));
}

std::uint32_t query_result::column_type(std::size_t column) const {
    check_column(column);
    return PQftype(result_.get(), static_cast<int>(column));
}

std::optional<std::size_t> query_result::find_column(std::string_view name) const {
    for (std::size_t i = 0; i < columns(); ++i) {
        if (name == PQfname(result_.get(), static_cast<int>(i))) return i;
    }
    return std::nullopt;
}

bool query_result::is_null(std::size_t row, std::size_t column) const {
    check(row, column);
    return PQgetisnull(result_.get(), static_cast<int>(row), static_cast<int>(column)) != 0;
}

std::string_view query_result::value(std::size_t row, std::size_t column) const {
    check(row, column);
    const int r = static_cast<int>(row);
    const int c = static_cast<int>(column);
    return {PQgetvalue(result_.get(), r, c),
            static_cast<std::size_t>(PQgetlength(result_.get(), r, c))};
}

std::optional<std::string_view> query_result::get(std::size_t row, std::size_t column) const {
    if (is_null(row, column)) return std::nullopt;
    return value(row, column);
}

std::string_view query_result::command_tag() const noexcept {
    return result_ ? PQcmdStatus(result_.get()) : "";
}

std::uint64_t query_result::affected_rows() const noexcept {
    if (!result_) return 0;
    const std::string_view text = PQcmdTuples(result_.get());
    std::uint64_t n = 0;
    std::from_chars(text.data(), text.data() + text.size(), n);
    return n;
}

}  // namespace laredo::sources::postgres
