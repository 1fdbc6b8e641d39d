#include "retry.hpp"

#include "laredo/error.hpp"

#include <boost/asio/ssl/error.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace laredo::targets::httpsync::detail {

verdict judge_status(int status) noexcept {
    if (status >= 200 && status < 300) return verdict::delivered;
    if (status == 408 || status == 429 || (status >= 500 && status < 600)) return verdict::retry;
    return verdict::give_up;
}

verdict judge_error(const boost::system::error_code& ec) noexcept {
    // A server cut off in the middle of TLS is a network failure; anything else TLS reports
    // (an untrusted certificate, a wrong host name, no common protocol) stays wrong however
    // often it is tried.
    if (ec == boost::asio::ssl::error::stream_truncated) return verdict::retry;
    if (ec.category() == boost::asio::error::get_ssl_category()) return verdict::give_up;
    return is_fatal(ec) ? verdict::give_up : verdict::retry;
}

std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double jitter,
                                        double unit) noexcept {
    double delay = static_cast<double>(initial.count());
    for (int i = 1; i < retry && delay < static_cast<double>(max.count()); ++i) delay *= 2;
    delay = std::min(delay, static_cast<double>(max.count()));
    delay *= 1.0 + jitter * (2.0 * unit - 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(std::max(delay, 0.0))));
}

namespace {

bool parse_int(std::string_view s, int& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

std::optional<std::chrono::system_clock::time_point> parse_imf_fixdate(std::string_view v) {
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    if (v.size() != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' ||
        v[16] != ' ' || v[19] != ':' || v[22] != ':' || v[25] != ' ' || v.substr(26) != "GMT")
        return std::nullopt;
    static constexpr std::array<std::string_view, 12> months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto m = std::find(months.begin(), months.end(), v.substr(8, 3));
    int day = 0, year = 0, hour = 0, minute = 0, second = 0;
    if (m == months.end() || !parse_int(v.substr(5, 2), day) || !parse_int(v.substr(12, 4), year) ||
        !parse_int(v.substr(17, 2), hour) || !parse_int(v.substr(20, 2), minute) ||
        !parse_int(v.substr(23, 2), second))
        return std::nullopt;
    const std::chrono::year_month_day date{
        std::chrono::year(year), std::chrono::month(static_cast<unsigned>(m - months.begin() + 1)),
        std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(second);
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) noexcept {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        // Anything beyond a day is capped by the caller anyway; keep the arithmetic in range.
        if (value.size() > 9) return std::chrono::milliseconds(std::chrono::hours(24 * 365));
        int seconds = 0;
        if (!parse_int(value, seconds)) return std::nullopt;
        return std::chrono::seconds(seconds);
    }
    const auto when = parse_imf_fixdate(value);
    if (!when) return std::nullopt;
    if (*when <= now) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(*when - now);
}

}  // namespace laredo::targets::httpsync::detail
