#include "text_parsers.hpp"

#include <limits>

namespace laredo::sources::postgres::detail {

namespace {

constexpr std::int64_t micros_per_second = 1'000'000;
constexpr std::int64_t micros_per_day = 86'400 * micros_per_second;

// Proleptic Gregorian days since 1970-01-01 (H. Hinnant's algorithm); y is the astronomical
// year (1 BC = 0), exact far outside time_t's range.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

constexpr bool is_leap(std::int64_t y) noexcept {
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
    constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// A forward reader over the text; every failure reports through invalid_text.
struct cursor {
    const char* p;
    const char* end;
    value_kind kind;
    std::string_view text;

    [[noreturn]] void fail(std::string_view why) const { invalid_text(kind, text, why); }

    bool at_end() const noexcept { return p == end; }
    bool peek(char c) const noexcept { return p != end && *p == c; }

    void expect(char c, std::string_view why) {
        if (p == end || *p != c) fail(why);
        ++p;
    }

    // Between min and max decimal digits (max <= 18, so no overflow).
    std::int64_t digits(int min, int max, std::string_view why) {
        std::int64_t v = 0;
        int n = 0;
        while (p != end && n < max && *p >= '0' && *p <= '9') {
            v = v * 10 + (*p - '0');
            ++p;
            ++n;
        }
        if (n < min || (p != end && *p >= '0' && *p <= '9')) fail(why);
        return v;
    }
};

// Strips a trailing " BC"; returns whether it was there.
bool strip_bc(cursor& c) noexcept {
    const std::size_t n = static_cast<std::size_t>(c.end - c.p);
    if (n >= 3 && std::string_view(c.end - 3, 3) == " BC") {
        c.end -= 3;
        return true;
    }
    return false;
}

// "YYYY-MM-DD" (4 to 7 year digits) -> days; `bc` turns year Y into astronomical 1 - Y.
std::int64_t read_date(cursor& c, bool bc) {
    const std::int64_t year = c.digits(4, 7, "expected a year of 4 to 7 digits");
    c.expect('-', "expected '-' after the year");
    const auto month = static_cast<unsigned>(c.digits(2, 2, "expected a 2-digit month"));
    c.expect('-', "expected '-' after the month");
    const auto day = static_cast<unsigned>(c.digits(2, 2, "expected a 2-digit day"));
    if (year == 0) c.fail("year 0 does not exist (1 BC precedes 1 AD)");
    const std::int64_t y = bc ? 1 - year : year;
    if (month < 1 || month > 12) c.fail("month out of range");
    if (day < 1 || day > days_in_month(y, month)) c.fail("day out of range for its month");
    return days_from_civil(y, month, day);
}

// "HH:MM:SS[.ffffff]" -> µs; 24:00:00 only when `allow_24`.
std::int64_t read_time_of_day(cursor& c, bool allow_24) {
    const std::int64_t h = c.digits(2, 2, "expected a 2-digit hour");
    c.expect(':', "expected ':' after the hour");
    const std::int64_t m = c.digits(2, 2, "expected 2-digit minutes");
    c.expect(':', "expected ':' after the minutes");
    const std::int64_t s = c.digits(2, 2, "expected 2-digit seconds");
    std::int64_t frac = 0;
    if (c.peek('.')) {
        ++c.p;
        const char* start = c.p;
        frac = c.digits(1, 6, "expected 1 to 6 digits of fractional seconds");
        for (auto n = c.p - start; n < 6; ++n) frac *= 10;
    }
    if (m > 59 || s > 59) c.fail("minutes or seconds out of range");
    if (h > 24 || (h == 24 && (!allow_24 || m != 0 || s != 0 || frac != 0))) {
        c.fail("hour out of range");
    }
    return ((h * 60 + m) * 60 + s) * micros_per_second + frac;
}

// "+HH", "+HH:MM", "+HH:MM:SS" (or '-') -> seconds east of UTC.
std::int64_t read_offset(cursor& c) {
    if (!c.peek('+') && !c.peek('-')) c.fail("expected a UTC offset (+HH[:MM[:SS]])");
    const bool negative = *c.p == '-';
    ++c.p;
    const std::int64_t h = c.digits(2, 2, "expected a 2-digit offset hour");
    std::int64_t m = 0;
    std::int64_t s = 0;
    if (c.peek(':')) {
        ++c.p;
        m = c.digits(2, 2, "expected 2-digit offset minutes");
        if (c.peek(':')) {
            ++c.p;
            s = c.digits(2, 2, "expected 2-digit offset seconds");
        }
    }
    if (h > 15 || m > 59 || s > 59) c.fail("UTC offset out of range");
    const std::int64_t secs = (h * 60 + m) * 60 + s;
    return negative ? -secs : secs;
}

// days * µs/day + tod - offset, refusing what overflows or lands on an infinity sentinel.
std::int64_t combine(cursor& c, std::int64_t days, std::int64_t tod, std::int64_t offset_secs) {
    std::int64_t v = 0;
    if (__builtin_mul_overflow(days, micros_per_day, &v) || __builtin_add_overflow(v, tod, &v) ||
        __builtin_sub_overflow(v, offset_secs * micros_per_second, &v) ||
        v == std::numeric_limits<std::int64_t>::min() ||
        v == std::numeric_limits<std::int64_t>::max()) {
        c.fail(
            "out of the range of microseconds since 1970 that laredo holds (up to year "
            "294247)");
    }
    return v;
}

}  // namespace

std::int32_t parse_date_text(std::string_view text) {
    if (text == "infinity") return date_value::plus_infinity;
    if (text == "-infinity") return date_value::minus_infinity;
    cursor c{text.data(), text.data() + text.size(), value_kind::date, text};
    const bool bc = strip_bc(c);
    const std::int64_t days = read_date(c, bc);
    if (!c.at_end()) c.fail("unexpected text after the date");
    if (days <= std::numeric_limits<std::int32_t>::min() ||
        days >= std::numeric_limits<std::int32_t>::max()) {
        c.fail("out of the range of days since 1970 that laredo holds");
    }
    return static_cast<std::int32_t>(days);
}

std::int64_t parse_time_text(std::string_view text) {
    cursor c{text.data(), text.data() + text.size(), value_kind::time, text};
    const std::int64_t tod = read_time_of_day(c, true);
    if (!c.at_end()) c.fail("unexpected text after the time");
    return tod;
}

std::int64_t parse_timestamp_text(std::string_view text) {
    if (text == "infinity") return timestamp_value::plus_infinity;
    if (text == "-infinity") return timestamp_value::minus_infinity;
    cursor c{text.data(), text.data() + text.size(), value_kind::timestamp, text};
    const bool bc = strip_bc(c);
    const std::int64_t days = read_date(c, bc);
    c.expect(' ', "expected ' ' between date and time");
    const std::int64_t tod = read_time_of_day(c, false);
    if (!c.at_end()) c.fail("unexpected text after the time");
    return combine(c, days, tod, 0);
}

std::int64_t parse_timestamptz_text(std::string_view text) {
    if (text == "infinity") return timestamptz_value::plus_infinity;
    if (text == "-infinity") return timestamptz_value::minus_infinity;
    cursor c{text.data(), text.data() + text.size(), value_kind::timestamptz, text};
    const bool bc = strip_bc(c);
    const std::int64_t days = read_date(c, bc);
    c.expect(' ', "expected ' ' between date and time");
    const std::int64_t tod = read_time_of_day(c, false);
    const std::int64_t offset = read_offset(c);
    if (!c.at_end()) c.fail("unexpected text after the UTC offset");
    return combine(c, days, tod, offset);
}

}  // namespace laredo::sources::postgres::detail
