#include "laredo/value.hpp"

#include "calendar.hpp"

#include <fmt/format.h>

#include <cmath>

namespace laredo {

namespace {

std::string format_date(std::int64_t days) {
    const auto c = detail::civil_from_days(days);
    if (c.year <= 0) return fmt::format("{:04}-{:02}-{:02} BC", 1 - c.year, c.month, c.day);
    return fmt::format("{:04}-{:02}-{:02}", c.year, c.month, c.day);
}

std::string format_time_of_day(std::int64_t micros) {
    const std::int64_t secs = micros / 1'000'000;
    const std::int64_t frac = micros % 1'000'000;
    auto text = fmt::format("{:02}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60);
    if (frac != 0) {
        auto f = fmt::format("{:06}", frac);
        while (!f.empty() && f.back() == '0') f.pop_back();
        text += "." + f;
    }
    return text;
}

std::string format_timestamp(std::int64_t micros, bool utc) {
    if (micros == timestamp_value::plus_infinity) return "infinity";
    if (micros == timestamp_value::minus_infinity) return "-infinity";
    const std::int64_t days = detail::floor_div(micros, detail::micros_per_day);
    const std::int64_t tod = micros - days * detail::micros_per_day;
    const auto c = detail::civil_from_days(days);
    // ISO 8601 with 'T'; BC dates keep PostgreSQL's suffix at the end.
    const bool bc = c.year <= 0;
    return fmt::format("{:04}-{:02}-{:02}T{}{}{}", bc ? 1 - c.year : c.year, c.month, c.day,
                       format_time_of_day(tod), utc ? "Z" : "", bc ? " BC" : "");
}

std::string format_double(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    return fmt::format("{}", d);
}

// Doubles as keys: NaN equals NaN and sorts above everything; -0.0 equals 0.0.
std::strong_ordering compare_doubles(double a, double b) noexcept {
    const bool an = std::isnan(a), bn = std::isnan(b);
    if (an || bn) {
        if (an && bn) return std::strong_ordering::equal;
        return an ? std::strong_ordering::greater : std::strong_ordering::less;
    }
    if (a < b) return std::strong_ordering::less;
    if (a > b) return std::strong_ordering::greater;
    return std::strong_ordering::equal;
}

}  // namespace

const std::string* value::text_if() const noexcept {
    switch (get_type()) {
        case type::text:
            return &std::get<std::string>(v_);
        case type::numeric:
            return &std::get<numeric_value>(v_).text;
        case type::interval:
            return &std::get<interval_value>(v_).text;
        case type::json:
            return &std::get<json_value>(v_).text;
        case type::array:
            return &std::get<array_value>(v_).text;
        default:
            return nullptr;
    }
}

std::string value::to_string() const {
    switch (get_type()) {
        case type::null:
            return "NULL";
        case type::unchanged:
            return "<unchanged>";
        case type::boolean:
            return std::get<bool>(v_) ? "true" : "false";
        case type::int64:
            return std::to_string(std::get<std::int64_t>(v_));
        case type::float64:
            return format_double(std::get<double>(v_));
        case type::bytes: {
            const auto& data = std::get<bytes_value>(v_).data;
            std::string out = "\\x";
            out.reserve(2 + data.size() * 2);
            for (unsigned char c : data) out += fmt::format("{:02x}", c);
            return out;
        }
        case type::date: {
            const auto days = std::get<date_value>(v_).days;
            if (days == date_value::plus_infinity) return "infinity";
            if (days == date_value::minus_infinity) return "-infinity";
            return format_date(days);
        }
        case type::time:
            return format_time_of_day(std::get<time_value>(v_).micros);
        case type::timestamp:
            return format_timestamp(std::get<timestamp_value>(v_).micros, false);
        case type::timestamptz:
            return format_timestamp(std::get<timestamptz_value>(v_).micros, true);
        default:
            return *text_if();
    }
}

std::size_t value::raw_size() const noexcept {
    switch (get_type()) {
        case type::null:
        case type::unchanged:
            return 0;
        case type::boolean:
            return 1;
        case type::date:
            return 4;
        case type::int64:
        case type::float64:
        case type::time:
        case type::timestamp:
        case type::timestamptz:
            return 8;
        case type::bytes:
            return std::get<bytes_value>(v_).data.size();
        default:
            return text_if()->size();
    }
}

bool operator==(const value& a, const value& b) noexcept { return (a <=> b) == 0; }

std::strong_ordering operator<=>(const value& a, const value& b) noexcept {
    if (a.v_.index() != b.v_.index()) return a.v_.index() <=> b.v_.index();
    if (a.get_type() == value::type::float64)
        return compare_doubles(std::get<double>(a.v_), std::get<double>(b.v_));
    return std::visit(
        [&](const auto& x) -> std::strong_ordering {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, double>) {
                return std::strong_ordering::equal;  // handled above
            } else {
                const auto& y = std::get<T>(b.v_);
                return std::compare_strong_order_fallback(x, y);
            }
        },
        a.v_);
}

std::string_view to_string(value::type t) noexcept {
    switch (t) {
        case value::type::null:
            return "null";
        case value::type::boolean:
            return "bool";
        case value::type::int64:
            return "int64";
        case value::type::float64:
            return "float64";
        case value::type::numeric:
            return "numeric";
        case value::type::text:
            return "text";
        case value::type::bytes:
            return "bytes";
        case value::type::date:
            return "date";
        case value::type::time:
            return "time";
        case value::type::timestamp:
            return "timestamp";
        case value::type::timestamptz:
            return "timestamptz";
        case value::type::interval:
            return "interval";
        case value::type::json:
            return "json";
        case value::type::array:
            return "array";
        case value::type::unchanged:
            return "unchanged";
    }
    return "?";
}

}  // namespace laredo
