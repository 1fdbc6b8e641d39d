// What is retried, how long each retry waits, and Retry-After.
#include "retry.hpp"

#include "laredo/error.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <gtest/gtest.h>

namespace laredo::targets::httpsync::detail {
namespace {

using namespace std::chrono_literals;

TEST(retry, statuses) {
    EXPECT_EQ(judge_status(200), verdict::delivered);
    EXPECT_EQ(judge_status(204), verdict::delivered);
    for (int s : {408, 429, 500, 502, 503, 504, 599})
        EXPECT_EQ(judge_status(s), verdict::retry) << s;
    for (int s : {301, 304, 400, 401, 403, 404, 409, 413, 422, 100})
        EXPECT_EQ(judge_status(s), verdict::give_up) << s;
}

TEST(retry, network_failures_are_retried_tls_failures_are_not) {
    namespace asio = boost::asio;
    EXPECT_EQ(judge_error(asio::error::connection_refused), verdict::retry);
    EXPECT_EQ(judge_error(asio::error::connection_reset), verdict::retry);
    EXPECT_EQ(judge_error(asio::error::eof), verdict::retry);
    EXPECT_EQ(judge_error(asio::error::host_not_found), verdict::retry);
    EXPECT_EQ(judge_error(boost::beast::error::timeout), verdict::retry);
    EXPECT_EQ(judge_error(boost::beast::http::error::partial_message), verdict::retry);
    EXPECT_EQ(judge_error(asio::ssl::error::stream_truncated), verdict::retry);
    const boost::system::error_code verify_failed(
        static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_CERTIFICATE_VERIFY_FAILED)),
        asio::error::get_ssl_category());
    EXPECT_EQ(judge_error(verify_failed), verdict::give_up);
    EXPECT_EQ(judge_error(make_error_code(errc::invalid_config)), verdict::give_up);
}

TEST(retry, backoff_doubles_up_to_the_maximum) {
    EXPECT_EQ(backoff_delay(1, 100ms, 5s, 0.0, 0.5), 100ms);
    EXPECT_EQ(backoff_delay(2, 100ms, 5s, 0.0, 0.5), 200ms);
    EXPECT_EQ(backoff_delay(4, 100ms, 5s, 0.0, 0.5), 800ms);
    EXPECT_EQ(backoff_delay(10, 100ms, 5s, 0.0, 0.5), 5s);
    EXPECT_EQ(backoff_delay(1000, 100ms, 5s, 0.0, 0.5), 5s);
}

TEST(retry, jitter_spreads_each_delay_within_its_fraction) {
    EXPECT_EQ(backoff_delay(3, 100ms, 5s, 0.2, 0.0), 320ms);  // 400 ms - 20%
    EXPECT_EQ(backoff_delay(3, 100ms, 5s, 0.2, 0.5), 400ms);
    EXPECT_EQ(backoff_delay(3, 100ms, 5s, 0.2, 0.999999), 480ms);
    EXPECT_EQ(backoff_delay(1, 100ms, 5s, 1.0, 0.0), 0ms);
}

TEST(retry, retry_after_in_seconds_or_as_an_http_date) {
    const auto now = std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + 8h + 49min + 30s;
    EXPECT_EQ(parse_retry_after("120", now), 120s);
    EXPECT_EQ(parse_retry_after(" 0 ", now), 0s);
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), 7s);
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now), 0s);  // in the past
    EXPECT_EQ(parse_retry_after("99999999999999", now), std::chrono::milliseconds(24h * 365));
    EXPECT_FALSE(parse_retry_after("", now));
    EXPECT_FALSE(parse_retry_after("-5", now));
    EXPECT_FALSE(parse_retry_after("1.5", now));
    EXPECT_FALSE(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now));
    EXPECT_FALSE(parse_retry_after("Sun, 31 Feb 1994 08:49:37 GMT", now));
}

}  // namespace
}  // namespace laredo::targets::httpsync::detail
