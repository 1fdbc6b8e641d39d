#pragma once

#include "laredo/value.hpp"

#include <cmath>
#include <compare>
#include <cstdint>
#include <string_view>

namespace laredo::targets::memory {

// True for the alternatives whose content is a byte string (text, numeric, bytes, interval,
// json, array).
constexpr bool is_byte_string(value::type t) noexcept {
    switch (t) {
        case value::type::text:
        case value::type::numeric:
        case value::type::bytes:
        case value::type::interval:
        case value::type::json:
        case value::type::array:
            return true;
        default:
            return false;
    }
}

// A column value seen without owning it: either borrowed from a laredo::value or read in
// place from a packed row. Copying one costs nothing and never allocates, so keys can be
// compared and probed without building laredo::value objects.
//
// Views are ordered exactly like the values they show (value's operator<=>: first by
// alternative, then by content; NaN equals NaN and sorts above every other double), so a
// container ordered by views iterates in the same order as one ordered by values.
//
// A view borrows: it must not outlive the value or packed row it was taken from.
class value_view {
  public:
    value_view() noexcept = default;  // null

    // Borrows `v` (its text, for text-like alternatives). Inline: encoding and key hashing
    // call it for every column.
    static value_view of(const value& v) noexcept;

    static value_view from_int(value::type t, std::int64_t i) noexcept {
        value_view v;
        v.type_ = t;
        v.i_ = i;
        return v;
    }
    static value_view from_double(double d) noexcept {
        value_view v;
        v.type_ = value::type::float64;
        v.d_ = d;
        return v;
    }
    static value_view from_bytes(value::type t, std::string_view s) noexcept {
        value_view v;
        v.type_ = t;
        v.p_ = s.data();
        v.n_ = s.size();
        return v;
    }
    static value_view from_bool(bool b) noexcept {
        return from_int(value::type::boolean, b ? 1 : 0);
    }
    static value_view unchanged() noexcept {
        value_view v;
        v.type_ = value::type::unchanged;
        return v;
    }

    value::type type() const noexcept { return type_; }
    bool is_null() const noexcept { return type_ == value::type::null; }
    bool is_unchanged() const noexcept { return type_ == value::type::unchanged; }

    // The integer content of boolean (0/1), int64, date, time, timestamp and timestamptz
    // (0 for null and unchanged).
    std::int64_t integer() const noexcept { return i_; }
    double float64() const noexcept { return d_; }
    // The bytes of text, numeric, bytes, interval, json and array (only those).
    std::string_view bytes() const noexcept { return {p_, n_}; }

    // An owning copy.
    value to_value() const;

    // Inline: key comparisons in the stores' trees are the hot path.
    friend std::strong_ordering operator<=>(const value_view& a, const value_view& b) noexcept {
        if (a.type_ != b.type_) {
            return static_cast<std::uint8_t>(a.type_) <=> static_cast<std::uint8_t>(b.type_);
        }
        if (a.type_ == value::type::float64) return compare_doubles(a.d_, b.d_);
        if (is_byte_string(a.type_)) return compare_bytes(a.bytes(), b.bytes());
        return a.i_ <=> b.i_;
    }
    friend bool operator==(const value_view& a, const value_view& b) noexcept {
        return (a <=> b) == 0;
    }

  private:
    // Like laredo::value: NaN equals NaN and sorts above everything; -0.0 equals 0.0.
    static std::strong_ordering compare_doubles(double a, double b) noexcept {
        const bool an = std::isnan(a), bn = std::isnan(b);
        if (an || bn) {
            if (an && bn) return std::strong_ordering::equal;
            return an ? std::strong_ordering::greater : std::strong_ordering::less;
        }
        if (a < b) return std::strong_ordering::less;
        if (a > b) return std::strong_ordering::greater;
        return std::strong_ordering::equal;
    }
    // As std::string compares: unsigned bytes.
    static std::strong_ordering compare_bytes(std::string_view a, std::string_view b) noexcept {
        const int c = a.compare(b);
        if (c < 0) return std::strong_ordering::less;
        if (c > 0) return std::strong_ordering::greater;
        return std::strong_ordering::equal;
    }

    // 24 bytes: what a view holds depends on its alternative.
    value::type type_ = value::type::null;
    union {
        std::int64_t i_ = 0;  // boolean, int64, date, time, timestamp, timestamptz
        double d_;            // float64
        const char* p_;       // byte strings, with n_
    };
    std::size_t n_ = 0;
};

inline value_view value_view::of(const value& v) noexcept {
    using t = value::type;
    switch (v.get_type()) {
        case t::null:
            return {};
        case t::unchanged:
            return unchanged();
        case t::boolean:
            return from_bool(v.get<bool>());
        case t::int64:
            return from_int(t::int64, v.get<std::int64_t>());
        case t::float64:
            return from_double(v.get<double>());
        case t::date:
            return from_int(t::date, v.get<date_value>().days);
        case t::time:
            return from_int(t::time, v.get<time_value>().micros);
        case t::timestamp:
            return from_int(t::timestamp, v.get<timestamp_value>().micros);
        case t::timestamptz:
            return from_int(t::timestamptz, v.get<timestamptz_value>().micros);
        case t::bytes:
            return from_bytes(t::bytes, v.get<bytes_value>().data);
        default:
            return from_bytes(v.get_type(), *v.text_if());
    }
}

}  // namespace laredo::targets::memory
