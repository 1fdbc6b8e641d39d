#pragma once

#include <boost/system/error_code.hpp>

#include <chrono>
#include <optional>
#include <string_view>

namespace laredo::targets::httpsync::detail {

// What an attempt's outcome means for its batch.
enum class verdict { delivered, retry, give_up };

// 2xx delivered; 408, 429 and 5xx worth retrying; anything else (other 4xx, 3xx, 1xx) not.
verdict judge_status(int status) noexcept;

// A failure without a response: connection refused, reset, closed early and timeouts are
// worth retrying; TLS failures (certificate verification, handshake) and bad input are not.
verdict judge_error(const boost::system::error_code& ec) noexcept;

// The delay before retry number `retry` (1 for the first retry): initial doubling up to max,
// then spread by +-jitter using `unit` (a uniform random number in [0, 1)).
std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double jitter,
                                        double unit) noexcept;

// A Retry-After header value: delay-seconds ("120") or an IMF-fixdate HTTP date ("Sun, 06
// Nov 1994 08:49:37 GMT", counted from `now`; a date in the past is 0). nullopt when it is
// neither.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) noexcept;

}  // namespace laredo::targets::httpsync::detail
