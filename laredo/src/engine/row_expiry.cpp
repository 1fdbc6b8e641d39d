#include "row_expiry.hpp"

#include <charconv>
#include <cstdint>

namespace laredo::detail {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// Reads exactly `width` digits at `pos`.
bool digits(std::string_view text, std::size_t& pos, std::size_t width, int& out) {
    if (pos + width > text.size()) return false;
    const char* first = text.data() + pos;
    const auto [end, ec] = std::from_chars(first, first + width, out);
    if (ec != std::errc{} || end != first + width) return false;
    pos += width;
    return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
    if (pos >= text.size() || text[pos] != c) return false;
    ++pos;
    return true;
}

// system_clock counts nanoseconds here (about +/-292 years around 1970): times beyond that
// saturate instead of overflowing.
system_time from_micros(std::int64_t micros) {
    using std::chrono::duration_cast;
    constexpr auto max_micros =
        duration_cast<std::chrono::microseconds>(system_time::duration::max()).count();
    if (micros >= max_micros) return system_time::max();
    if (micros <= -max_micros) return system_time::min();
    return system_time(duration_cast<system_time::duration>(std::chrono::microseconds(micros)));
}

}  // namespace

std::optional<system_time> parse_rfc3339(std::string_view text) {
    std::size_t pos = 0;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!digits(text, pos, 4, year) || !expect(text, pos, '-') || !digits(text, pos, 2, month) ||
        !expect(text, pos, '-') || !digits(text, pos, 2, day))
        return std::nullopt;
    if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' '))
        return std::nullopt;
    ++pos;
    if (!digits(text, pos, 2, hour) || !expect(text, pos, ':') || !digits(text, pos, 2, minute) ||
        !expect(text, pos, ':') || !digits(text, pos, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        return std::nullopt;
    std::int64_t micros = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int scale = 100000;
        const std::size_t start = pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            micros += (text[pos] - '0') * scale;  // digits past microseconds are dropped
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    std::int64_t offset_minutes = 0;
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const int sign = text[pos] == '-' ? -1 : 1;
        ++pos;
        int oh = 0, om = 0;
        if (!digits(text, pos, 2, oh) || !expect(text, pos, ':') || !digits(text, pos, 2, om))
            return std::nullopt;
        offset_minutes = sign * (oh * 60 + om);
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) return std::nullopt;
    const std::int64_t days =
        days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    const std::int64_t seconds =
        days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    return from_micros(seconds * 1'000'000 + micros);
}

std::optional<system_time> row_expires_at(const pipeline_options& options, const row& r) {
    if (options.ttl_function) return options.ttl_function(r);
    if (options.ttl_field.empty()) return std::nullopt;
    const value* v = r.find(options.ttl_field);
    if (!v) return std::nullopt;
    if (const auto* tz = v->get_if<timestamptz_value>()) {
        if (tz->micros == timestamptz_value::plus_infinity) return std::nullopt;
        if (tz->micros == timestamptz_value::minus_infinity) return system_time::min();
        return from_micros(tz->micros);
    }
    if (const auto* ts = v->get_if<timestamp_value>()) {
        // A timestamp without time zone is read as UTC.
        if (ts->micros == timestamp_value::plus_infinity) return std::nullopt;
        if (ts->micros == timestamp_value::minus_infinity) return system_time::min();
        return from_micros(ts->micros);
    }
    if (const auto* text = v->get_if<std::string>()) return parse_rfc3339(*text);
    return std::nullopt;
}

std::string key_text(const row& r) {
    auto values = r.key();
    if (values.empty()) values = r.values();
    std::string out;
    for (const auto& v : values) {
        if (!out.empty()) out += ',';
        out += v.to_string();
    }
    return out;
}

}  // namespace laredo::detail
