#include "time_text.hpp"

#include "../core/calendar.hpp"

#include <fmt/format.h>

namespace laredo::json::detail {

namespace {

constexpr std::int64_t pow10(int n) noexcept {
    std::int64_t r = 1;
    while (n-- > 0) r *= 10;
    return r;
}

bool is_leap(std::int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
    static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// A cursor over text that reads fixed fields; every read checks bounds.
struct cursor {
    std::string_view s;
    std::size_t i = 0;

    bool done() const noexcept { return i == s.size(); }
    bool eat(char c) noexcept {
        if (i < s.size() && s[i] == c) {
            ++i;
            return true;
        }
        return false;
    }
    // Reads between min and max decimal digits.
    std::optional<std::int64_t> digits(std::size_t min, std::size_t max,
                                       std::size_t* count = nullptr) {
        std::int64_t v = 0;
        std::size_t n = 0;
        while (i < s.size() && n < max && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (s[i] - '0');
            ++i;
            ++n;
        }
        if (n < min) return std::nullopt;
        if (count) *count = n;
        return v;
    }
    bool at_digit() const noexcept { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }
};

std::optional<std::int64_t> read_date(cursor& c) {
    std::int64_t sign = 1;
    bool expanded = false;
    if (c.eat('-')) {
        sign = -1;
        expanded = true;
    } else if (c.eat('+')) {
        expanded = true;
    }
    // Expanded years are 4 or more digits (an int32 of days spans about ±5.9 million years).
    const auto year = c.digits(4, expanded ? 9 : 4);
    if (!year) return std::nullopt;
    if (!c.eat('-')) return std::nullopt;
    const auto month = c.digits(2, 2);
    if (!month || !c.eat('-')) return std::nullopt;
    const auto day = c.digits(2, 2);
    if (!day) return std::nullopt;
    const std::int64_t y = sign * *year;
    if (*month < 1 || *month > 12) return std::nullopt;
    const auto m = static_cast<unsigned>(*month);
    if (*day < 1 || *day > days_in_month(y, m)) return std::nullopt;
    return laredo::detail::days_from_civil(y, m, static_cast<unsigned>(*day));
}

// HH:MM:SS[.f...] in units of 10^-digits seconds; `any_hours` allows a sign and hours past 23.
std::optional<std::int64_t> read_clock(cursor& c, int digits, bool any_hours) {
    const bool negative = any_hours && c.eat('-');
    const auto h = c.digits(2, any_hours ? 12 : 2);
    if (!h || !c.eat(':')) return std::nullopt;
    const auto m = c.digits(2, 2);
    if (!m || !c.eat(':')) return std::nullopt;
    const auto s = c.digits(2, 2);
    if (!s) return std::nullopt;
    if ((!any_hours && *h > 23) || *m > 59 || *s > 59) return std::nullopt;
    std::int64_t frac = 0;
    if (c.eat('.')) {
        std::size_t n = 0;
        const auto f = c.digits(1, static_cast<std::size_t>(digits), &n);
        if (!f) return std::nullopt;
        frac = *f * pow10(digits - static_cast<int>(n));
        if (c.at_digit()) return std::nullopt;  // more precision than the value can hold
    }
    const std::int64_t unit = pow10(digits);
    std::int64_t total = 0;
    if (__builtin_mul_overflow(*h * 3600 + *m * 60 + *s, unit, &total) ||
        __builtin_add_overflow(total, frac, &total)) {
        return std::nullopt;
    }
    return negative ? -total : total;
}

}  // namespace

std::string format_date(std::int64_t days) {
    const auto c = laredo::detail::civil_from_days(days);
    if (c.year < 0) return fmt::format("-{:04}-{:02}-{:02}", -c.year, c.month, c.day);
    if (c.year > 9999) return fmt::format("+{}-{:02}-{:02}", c.year, c.month, c.day);
    return fmt::format("{:04}-{:02}-{:02}", c.year, c.month, c.day);
}

std::string format_clock(std::int64_t units, int digits) {
    // Through unsigned so INT64_MIN has a magnitude.
    const bool negative = units < 0;
    const std::uint64_t mag =
        negative ? 0 - static_cast<std::uint64_t>(units) : static_cast<std::uint64_t>(units);
    const auto unit = static_cast<std::uint64_t>(pow10(digits));
    const std::uint64_t secs = mag / unit, frac = mag % unit;
    return fmt::format("{}{:02}:{:02}:{:02}.{:0{}}", negative ? "-" : "", secs / 3600,
                       (secs / 60) % 60, secs % 60, frac, digits);
}

std::string format_date_time(std::int64_t units, int digits, bool utc) {
    const std::int64_t per_day = 86'400 * pow10(digits);
    const std::int64_t days = laredo::detail::floor_div(units, per_day);
    // Remainder, not units - days * per_day: that product overflows near INT64_MIN.
    std::int64_t tod = units % per_day;
    if (tod < 0) tod += per_day;
    return fmt::format("{}T{}{}", format_date(days), format_clock(tod, digits), utc ? "Z" : "");
}

std::optional<std::int64_t> parse_date(std::string_view text) {
    cursor c{text};
    const auto d = read_date(c);
    if (!d || !c.done()) return std::nullopt;
    return d;
}

std::optional<std::int64_t> parse_clock(std::string_view text, int max_digits) {
    cursor c{text};
    const auto t = read_clock(c, max_digits, true);
    if (!t || !c.done()) return std::nullopt;
    return t;
}

std::optional<std::int64_t> parse_date_time(std::string_view text, int digits, bool offset) {
    cursor c{text};
    const auto days = read_date(c);
    if (!days) return std::nullopt;
    if (!c.eat('T') && !c.eat('t') && !c.eat(' ')) return std::nullopt;
    const auto tod = read_clock(c, digits, false);
    if (!tod) return std::nullopt;
    std::int64_t shift = 0;  // units to subtract to reach UTC
    if (offset) {
        if (c.eat('Z') || c.eat('z')) {
            shift = 0;
        } else {
            std::int64_t sign = 0;
            if (c.eat('+'))
                sign = 1;
            else if (c.eat('-'))
                sign = -1;
            else
                return std::nullopt;
            const auto oh = c.digits(2, 2);
            if (!oh || !c.eat(':')) return std::nullopt;
            const auto om = c.digits(2, 2);
            if (!om || *oh > 23 || *om > 59) return std::nullopt;
            shift = sign * (*oh * 3600 + *om * 60) * pow10(digits);
        }
    }
    if (!c.done()) return std::nullopt;
    // Negative days count from the day after, so an instant near INT64_MIN units does not
    // overflow on the way (days * per_day alone would).
    const std::int64_t per_day = 86'400 * pow10(digits);
    const std::int64_t whole_days = *days < 0 ? *days + 1 : *days;
    const std::int64_t rest = *days < 0 ? *tod - per_day : *tod;
    std::int64_t units = 0;
    if (__builtin_mul_overflow(whole_days, per_day, &units) ||
        __builtin_add_overflow(units, rest, &units) ||
        __builtin_sub_overflow(units, shift, &units)) {
        return std::nullopt;
    }
    return units;
}

}  // namespace laredo::json::detail
