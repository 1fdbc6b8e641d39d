#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>

namespace laredo {

// The alternatives a column value can take. Sources convert by column type so that a
// baseline value and a streamed value of the same column compare equal.
struct null_value {
    friend auto operator<=>(const null_value&, const null_value&) = default;
};
// A column the source did not resend (PostgreSQL: an unchanged TOASTed value). Targets that
// keep rows fill it from the stored row; it never overwrites a stored value.
struct unchanged_value {
    friend auto operator<=>(const unchanged_value&, const unchanged_value&) = default;
};
// Exact decimal text, as the source spelled it ("12.500", "NaN").
struct numeric_value {
    std::string text;
    friend auto operator<=>(const numeric_value&, const numeric_value&) = default;
};
// Raw bytes.
struct bytes_value {
    std::string data;
    friend auto operator<=>(const bytes_value&, const bytes_value&) = default;
};
// Days since 1970-01-01. The extreme values stand for -infinity / +infinity.
struct date_value {
    std::int32_t days = 0;
    static constexpr std::int32_t minus_infinity = std::numeric_limits<std::int32_t>::min();
    static constexpr std::int32_t plus_infinity = std::numeric_limits<std::int32_t>::max();
    friend auto operator<=>(const date_value&, const date_value&) = default;
};
// Microseconds since midnight.
struct time_value {
    std::int64_t micros = 0;
    friend auto operator<=>(const time_value&, const time_value&) = default;
};
// Microseconds since 1970-01-01 00:00, no time zone. Extremes stand for -/+infinity.
struct timestamp_value {
    std::int64_t micros = 0;
    static constexpr std::int64_t minus_infinity = std::numeric_limits<std::int64_t>::min();
    static constexpr std::int64_t plus_infinity = std::numeric_limits<std::int64_t>::max();
    friend auto operator<=>(const timestamp_value&, const timestamp_value&) = default;
};
// Microseconds since 1970-01-01 00:00 UTC. Extremes stand for -/+infinity.
struct timestamptz_value {
    std::int64_t micros = 0;
    static constexpr std::int64_t minus_infinity = std::numeric_limits<std::int64_t>::min();
    static constexpr std::int64_t plus_infinity = std::numeric_limits<std::int64_t>::max();
    friend auto operator<=>(const timestamptz_value&, const timestamptz_value&) = default;
};
// An interval in the source's text form ("1 day 02:00:00").
struct interval_value {
    std::string text;
    friend auto operator<=>(const interval_value&, const interval_value&) = default;
};
// JSON text (json, jsonb).
struct json_value {
    std::string text;
    friend auto operator<=>(const json_value&, const json_value&) = default;
};
// An array in the source's text form ("{1,2,3}").
struct array_value {
    std::string text;
    friend auto operator<=>(const array_value&, const array_value&) = default;
};

// One column value: a tagged union of the alternatives above, bool, int64, double (NaN and
// +/-Infinity included) and text. Values are totally ordered (first by alternative, then by
// content; NaN equals NaN and sorts above every other double) so they can be keys.
class value {
  public:
    enum class type : std::uint8_t {
        null,
        boolean,
        int64,
        float64,
        numeric,
        text,
        bytes,
        date,
        time,
        timestamp,
        timestamptz,
        interval,
        json,
        array,
        unchanged,
    };

    using variant_type =
        std::variant<null_value, bool, std::int64_t, double, numeric_value, std::string,
                     bytes_value, date_value, time_value, timestamp_value, timestamptz_value,
                     interval_value, json_value, array_value, unchanged_value>;

    value() noexcept = default;
    value(null_value) noexcept {}
    value(bool v) noexcept : v_(v) {}
    value(std::int64_t v) noexcept : v_(v) {}
    value(int v) noexcept : v_(static_cast<std::int64_t>(v)) {}
    value(double v) noexcept : v_(v) {}
    value(std::string v) noexcept : v_(std::move(v)) {}
    value(std::string_view v) : v_(std::string(v)) {}
    value(const char* v) : v_(std::string(v)) {}
    value(numeric_value v) noexcept : v_(std::move(v)) {}
    value(bytes_value v) noexcept : v_(std::move(v)) {}
    value(date_value v) noexcept : v_(v) {}
    value(time_value v) noexcept : v_(v) {}
    value(timestamp_value v) noexcept : v_(v) {}
    value(timestamptz_value v) noexcept : v_(v) {}
    value(interval_value v) noexcept : v_(std::move(v)) {}
    value(json_value v) noexcept : v_(std::move(v)) {}
    value(array_value v) noexcept : v_(std::move(v)) {}
    value(unchanged_value v) noexcept : v_(v) {}

    static value unchanged() noexcept { return value(unchanged_value{}); }

    type get_type() const noexcept { return static_cast<type>(v_.index()); }
    bool is_null() const noexcept { return get_type() == type::null; }
    bool is_unchanged() const noexcept { return get_type() == type::unchanged; }

    // Typed access; std::bad_variant_access when the alternative differs.
    template <class T>
    const T& get() const {
        return std::get<T>(v_);
    }
    template <class T>
    const T* get_if() const noexcept {
        return std::get_if<T>(&v_);
    }
    const variant_type& variant() const noexcept { return v_; }

    // Text for text-like alternatives (text, numeric, interval, json, array); nullptr otherwise.
    const std::string* text_if() const noexcept;

    // A human-readable rendering: text as-is, numbers in shortest round-trip form, dates and
    // times in ISO 8601, bytes as \x hex, null as "NULL". Used for logs, keys shown to users
    // and the CSV example; not a wire format.
    std::string to_string() const;

    // How many bytes the value's content takes (text length, 8 for a number...): what the
    // memory benchmark calls the raw size.
    std::size_t raw_size() const noexcept;

    friend bool operator==(const value& a, const value& b) noexcept;
    friend std::strong_ordering operator<=>(const value& a, const value& b) noexcept;

  private:
    variant_type v_;
};

std::string_view to_string(value::type t) noexcept;

}  // namespace laredo
