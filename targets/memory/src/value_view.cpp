#include "laredo/targets/memory/value_view.hpp"

#include <cmath>
#include <string>

namespace laredo::targets::memory {

namespace {

// Must agree with laredo::value's ordering of doubles: NaN equals NaN and sorts above
// everything; -0.0 equals 0.0.
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

// std::string compares through char_traits<char>::compare, i.e. as unsigned bytes, which is
// what string_view's operator<=> does too.
std::strong_ordering compare_bytes(std::string_view a, std::string_view b) noexcept {
    const int c = a.compare(b);
    if (c < 0) return std::strong_ordering::less;
    if (c > 0) return std::strong_ordering::greater;
    return std::strong_ordering::equal;
}

}  // namespace

bool is_byte_string(value::type t) noexcept {
    switch (t) {
        case value::type::text:
        case value::type::numeric:
        case value::type::bytes:
        case value::type::interval:
        case value::type::json:
        case value::type::array: return true;
        default: return false;
    }
}

value_view value_view::from_int(value::type t, std::int64_t i) noexcept {
    value_view v;
    v.type_ = t;
    v.i_ = i;
    return v;
}

value_view value_view::from_double(double d) noexcept {
    value_view v;
    v.type_ = value::type::float64;
    v.d_ = d;
    return v;
}

value_view value_view::from_bytes(value::type t, std::string_view s) noexcept {
    value_view v;
    v.type_ = t;
    v.s_ = s;
    return v;
}

value_view value_view::from_bool(bool b) noexcept {
    return from_int(value::type::boolean, b ? 1 : 0);
}

value_view value_view::unchanged() noexcept {
    value_view v;
    v.type_ = value::type::unchanged;
    return v;
}

value_view value_view::of(const value& v) noexcept {
    using t = value::type;
    switch (v.get_type()) {
        case t::null: return {};
        case t::unchanged: return unchanged();
        case t::boolean: return from_bool(v.get<bool>());
        case t::int64: return from_int(t::int64, v.get<std::int64_t>());
        case t::float64: return from_double(v.get<double>());
        case t::date: return from_int(t::date, v.get<date_value>().days);
        case t::time: return from_int(t::time, v.get<time_value>().micros);
        case t::timestamp: return from_int(t::timestamp, v.get<timestamp_value>().micros);
        case t::timestamptz: return from_int(t::timestamptz, v.get<timestamptz_value>().micros);
        case t::bytes: return from_bytes(t::bytes, v.get<bytes_value>().data);
        default: return from_bytes(v.get_type(), *v.text_if());
    }
}

value value_view::to_value() const {
    using t = value::type;
    switch (type_) {
        case t::null: return value();
        case t::unchanged: return value::unchanged();
        case t::boolean: return value(i_ != 0);
        case t::int64: return value(i_);
        case t::float64: return value(d_);
        case t::date: return value(date_value{static_cast<std::int32_t>(i_)});
        case t::time: return value(time_value{i_});
        case t::timestamp: return value(timestamp_value{i_});
        case t::timestamptz: return value(timestamptz_value{i_});
        case t::text: return value(std::string(s_));
        case t::numeric: return value(numeric_value{std::string(s_)});
        case t::bytes: return value(bytes_value{std::string(s_)});
        case t::interval: return value(interval_value{std::string(s_)});
        case t::json: return value(json_value{std::string(s_)});
        case t::array: return value(array_value{std::string(s_)});
    }
    return value();
}

std::strong_ordering operator<=>(const value_view& a, const value_view& b) noexcept {
    if (a.type_ != b.type_) {
        return static_cast<std::uint8_t>(a.type_) <=> static_cast<std::uint8_t>(b.type_);
    }
    if (a.type_ == value::type::float64) return compare_doubles(a.d_, b.d_);
    if (is_byte_string(a.type_)) return compare_bytes(a.s_, b.s_);
    return a.i_ <=> b.i_;
}

}  // namespace laredo::targets::memory
