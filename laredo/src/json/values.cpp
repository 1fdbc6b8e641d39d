#include "laredo/json/values.hpp"
#include "laredo/error.hpp"
#include "laredo/json/decode_text.hpp"

#include "time_text.hpp"

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace laredo::json {

namespace {

using vt = value::type;

constexpr std::int64_t max_exact_integer = std::int64_t{1} << 53;  // JSON readers use doubles

bool is_text_like(vt t) noexcept {
    return t == vt::text || t == vt::numeric || t == vt::interval || t == vt::json ||
           t == vt::array;
}

// The text of a text-like value (text_if covers exactly those alternatives).
const std::string& text_of(const value& v) { return *v.text_if(); }

value text_like(vt t, std::string text) {
    switch (t) {
        case vt::numeric:
            return numeric_value{std::move(text)};
        case vt::interval:
            return interval_value{std::move(text)};
        case vt::json:
            return json_value{std::move(text)};
        case vt::array:
            return array_value{std::move(text)};
        default:
            return value(std::move(text));
    }
}

std::optional<vt> type_from_name(std::string_view name) noexcept {
    for (int i = 0; i <= static_cast<int>(vt::unchanged); ++i) {
        const auto t = static_cast<vt>(i);
        if (to_string(t) == name) return t;
    }
    return std::nullopt;
}

// A JSON value for error messages: its text, cut short.
std::string excerpt(const boost::json::value& j) {
    std::string s = boost::json::serialize(j);
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
}

[[noreturn]] void bad_value(vt t, std::string_view expected, const boost::json::value& j) {
    throw error(errc::corrupt_data, fmt::format("invalid {} value {}: expected {}", to_string(t),
                                                excerpt(j), expected));
}

bool is_tag_object(const boost::json::object& o) noexcept {
    return o.contains("$type") || o.contains("$unchanged");
}

// JSON text embedded as itself, when that loses nothing: it parses, Boost.JSON writes it back
// byte for byte, and it cannot be mistaken for null or a tag.
std::optional<boost::json::value> embeddable_json(const std::string& text) {
    boost::json::value j;
    try {
        j = parse(text);
    } catch (const error&) {
        return std::nullopt;
    }
    if (j.is_null()) return std::nullopt;
    if (j.is_object() && is_tag_object(j.get_object())) return std::nullopt;
    if (boost::json::serialize(j) != text) return std::nullopt;
    return j;
}

std::string infinity_or(std::int64_t v, std::int64_t minus, std::int64_t plus,
                        std::string (*format)(std::int64_t)) {
    if (v == plus) return "infinity";
    if (v == minus) return "-infinity";
    return format(v);
}

std::string format_timestamp(std::int64_t micros) {
    return detail::format_date_time(micros, 6, false);
}
std::string format_timestamptz(std::int64_t micros) {
    return detail::format_date_time(micros, 6, true);
}

// The plain form of a value of any alternative but null, unchanged and json.
boost::json::value plain_form(const value& v) {
    switch (v.get_type()) {
        case vt::boolean:
            return v.get<bool>();
        case vt::int64: {
            const std::int64_t i = v.get<std::int64_t>();
            if (i > max_exact_integer || i < -max_exact_integer)
                return boost::json::string(std::to_string(i));
            return i;
        }
        case vt::float64: {
            const double d = v.get<double>();
            if (std::isnan(d)) return "NaN";
            if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
            return d;
        }
        case vt::bytes:
            return boost::json::string(base64_encode(v.get<bytes_value>().data));
        case vt::date: {
            const std::int32_t d = v.get<date_value>().days;
            if (d == date_value::plus_infinity) return "infinity";
            if (d == date_value::minus_infinity) return "-infinity";
            return boost::json::string(detail::format_date(d));
        }
        case vt::time:
            return boost::json::string(detail::format_clock(v.get<time_value>().micros, 6));
        case vt::timestamp:
            return boost::json::string(
                infinity_or(v.get<timestamp_value>().micros, timestamp_value::minus_infinity,
                            timestamp_value::plus_infinity, format_timestamp));
        case vt::timestamptz:
            return boost::json::string(
                infinity_or(v.get<timestamptz_value>().micros, timestamptz_value::minus_infinity,
                            timestamptz_value::plus_infinity, format_timestamptz));
        default:
            return boost::json::string(text_of(v));
    }
}

const std::string& expect_string(const boost::json::value& j, vt t, std::string_view expected,
                                 std::string& storage) {
    if (!j.is_string()) bad_value(t, expected, j);
    const auto& s = j.get_string();
    storage.assign(s.data(), s.size());
    return storage;
}

std::int64_t decode_int64(const boost::json::value& j) {
    constexpr std::string_view expected = "an integer (a number, or a decimal string)";
    if (j.is_int64()) return j.get_int64();
    if (j.is_uint64()) {
        if (j.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            bad_value(vt::int64, "an integer within the int64 range", j);
        return static_cast<std::int64_t>(j.get_uint64());
    }
    if (j.is_double()) {
        // 1E0 and the like: exact integers only.
        const double d = j.get_double();
        if (std::trunc(d) == d && std::fabs(d) <= static_cast<double>(max_exact_integer))
            return static_cast<std::int64_t>(d);
        bad_value(vt::int64, expected, j);
    }
    if (j.is_string()) {
        const auto& s = j.get_string();
        std::int64_t i = 0;
        const auto r = std::from_chars(s.data(), s.data() + s.size(), i);
        if (r.ec == std::errc{} && r.ptr == s.data() + s.size() && !s.empty()) return i;
    }
    bad_value(vt::int64, expected, j);
}

double decode_float64(const boost::json::value& j) {
    if (j.is_double()) return j.get_double();
    if (j.is_int64()) return static_cast<double>(j.get_int64());
    if (j.is_uint64()) return static_cast<double>(j.get_uint64());
    if (j.is_string()) {
        const auto& s = j.get_string();
        if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
        if (s == "Infinity") return std::numeric_limits<double>::infinity();
        if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
    }
    bad_value(vt::float64, "a number, \"NaN\", \"Infinity\" or \"-Infinity\"", j);
}

value decode_plain(const boost::json::value& j, vt t) {
    std::string s;
    switch (t) {
        case vt::boolean:
            if (!j.is_bool()) bad_value(t, "true or false", j);
            return j.get_bool();
        case vt::int64:
            return decode_int64(j);
        case vt::float64:
            return decode_float64(j);
        case vt::numeric:
        case vt::text:
        case vt::interval:
        case vt::array:
            return text_like(t, expect_string(j, t, "a string", s));
        case vt::json:
            // Embedded JSON (objects that are tags never get here).
            if (j.is_null()) bad_value(t, "embedded JSON other than null", j);
            return json_value{boost::json::serialize(j)};
        case vt::bytes: {
            expect_string(j, t, "a base64 string", s);
            try {
                return bytes_value{base64_decode(s)};
            } catch (const error& e) {
                throw error(errc::corrupt_data,
                            fmt::format("invalid bytes value {}: {}", excerpt(j), e.what()));
            }
        }
        case vt::date: {
            expect_string(j, t, "\"YYYY-MM-DD\", \"infinity\" or \"-infinity\"", s);
            if (s == "infinity") return date_value{date_value::plus_infinity};
            if (s == "-infinity") return date_value{date_value::minus_infinity};
            const auto d = detail::parse_date(s);
            if (!d || *d <= date_value::minus_infinity || *d >= date_value::plus_infinity)
                bad_value(
                    t, "\"YYYY-MM-DD\" (a valid date in range), \"infinity\" or \"-infinity\"", j);
            return date_value{static_cast<std::int32_t>(*d)};
        }
        case vt::time: {
            expect_string(j, t, "\"HH:MM:SS.ffffff\"", s);
            const auto m = detail::parse_clock(s, 6);
            if (!m) bad_value(t, "\"HH:MM:SS.ffffff\"", j);
            return time_value{*m};
        }
        case vt::timestamp:
        case vt::timestamptz: {
            const bool tz = t == vt::timestamptz;
            const std::string_view expected =
                tz ? "\"YYYY-MM-DDTHH:MM:SS.ffffffZ\", \"infinity\" or \"-infinity\""
                   : "\"YYYY-MM-DDTHH:MM:SS.ffffff\" (no offset), \"infinity\" or \"-infinity\"";
            expect_string(j, t, expected, s);
            std::int64_t micros = 0;
            if (s == "infinity") {
                micros = timestamp_value::plus_infinity;
            } else if (s == "-infinity") {
                micros = timestamp_value::minus_infinity;
            } else {
                const auto m = detail::parse_date_time(s, 6, tz);
                // The extremes stand for the infinities: a finite text never means them.
                if (!m || *m == timestamp_value::plus_infinity ||
                    *m == timestamp_value::minus_infinity)
                    bad_value(t, expected, j);
                micros = *m;
            }
            if (tz) return timestamptz_value{micros};
            return timestamp_value{micros};
        }
        case vt::null:
        case vt::unchanged:
            break;
    }
    throw error(errc::corrupt_data,
                fmt::format("a column's natural type cannot be {}", to_string(t)));
}

value decode_tagged(const boost::json::object& o) {
    if (const auto* u = o.if_contains("$unchanged")) {
        if (o.size() != 1 || !u->is_bool() || !u->get_bool()) {
            throw error(errc::corrupt_data,
                        fmt::format("invalid unchanged marker {}: expected {{\"$unchanged\":true}}",
                                    excerpt(o)));
        }
        return value::unchanged();
    }
    const auto* tag = o.if_contains("$type");
    const std::optional<vt> t =
        tag && tag->is_string() ? type_from_name(tag->get_string()) : std::nullopt;
    if (!t || *t == vt::null || *t == vt::unchanged) {
        throw error(errc::corrupt_data,
                    fmt::format("invalid value tag {}: \"$type\" must name a value type "
                                "(bool, int64, float64, numeric, text, bytes, date, time, "
                                "timestamp, timestamptz, interval, json, array)",
                                excerpt(o)));
    }
    if (o.size() != 2) {
        throw error(errc::corrupt_data,
                    fmt::format("invalid tagged {} value {}: expected \"$type\" and one of "
                                "\"value\" or \"base64\"",
                                to_string(*t), excerpt(o)));
    }
    if (const auto* b = o.if_contains("base64")) {
        if (!is_text_like(*t) || !b->is_string()) {
            throw error(errc::corrupt_data,
                        fmt::format("invalid tagged {} value {}: \"base64\" holds the text of a "
                                    "text-like value as a string",
                                    to_string(*t), excerpt(o)));
        }
        try {
            return text_like(*t, base64_decode(b->get_string()));
        } catch (const error& e) {
            throw error(errc::corrupt_data, fmt::format("invalid tagged {} value {}: {}",
                                                        to_string(*t), excerpt(o), e.what()));
        }
    }
    const auto* v = o.if_contains("value");
    if (!v) {
        throw error(errc::corrupt_data, fmt::format("invalid tagged {} value {}: no \"value\"",
                                                    to_string(*t), excerpt(o)));
    }
    // Tagged JSON is always its text, so any text (spaced, or with numbers Boost.JSON would
    // respell) survives.
    if (*t == vt::json) {
        if (!v->is_string()) bad_value(vt::json, "its text as a string when tagged", *v);
        return json_value{std::string(v->get_string())};
    }
    return decode_plain(*v, *t);
}

}  // namespace

boost::json::value encode_value(const value& v, value::type natural) {
    const vt t = v.get_type();
    if (t == vt::null) return nullptr;
    if (t == vt::unchanged) return boost::json::object{{"$unchanged", true}};
    if (is_text_like(t) && !is_valid_utf8(text_of(v))) {
        return boost::json::object{{"$type", to_string(t)}, {"base64", base64_encode(text_of(v))}};
    }
    if (t == vt::json) {
        if (natural == vt::json) {
            if (auto embedded = embeddable_json(text_of(v))) return std::move(*embedded);
        }
        return boost::json::object{{"$type", to_string(t)}, {"value", text_of(v)}};
    }
    if (t == natural) return plain_form(v);
    return boost::json::object{{"$type", to_string(t)}, {"value", plain_form(v)}};
}

value decode_value(const boost::json::value& j, value::type natural) {
    if (j.is_null()) return null_value{};
    if (j.is_object()) {
        const auto& o = j.get_object();
        if (is_tag_object(o)) return decode_tagged(o);
        if (natural != vt::json) bad_value(natural, "a plain value or a {\"$type\":...} tag", j);
    }
    return decode_plain(j, natural);
}

value decode_text(std::string_view text, value::type natural) {
    if (natural == vt::int64 || natural == vt::float64 || natural == vt::boolean)
        return decode_value(parse(text), natural);
    return decode_value(boost::json::string(text), natural);
}

}  // namespace laredo::json
