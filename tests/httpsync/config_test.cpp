// The base URL, option validation and credentials: bad input is refused naming the problem,
// and secrets never appear in a message.
#include "credentials.hpp"
#include "temp_dir.hpp"
#include "url.hpp"

#include "laredo/deadletter/memory_store.hpp"
#include "laredo/error.hpp"
#include "laredo/targets/httpsync/options.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace laredo::targets::httpsync {
namespace {

using detail::parse_base_url;
using ::testing::HasSubstr;
using ::testing::Not;

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_config));
        return e.what();
    }
    return "no error";
}

TEST(base_url, parses_scheme_host_port_and_prefix) {
    auto e = parse_base_url("http://example.com/hooks/laredo/");
    EXPECT_FALSE(e.tls);
    EXPECT_EQ(e.host, "example.com");
    EXPECT_EQ(e.port, "80");
    EXPECT_EQ(e.prefix, "/hooks/laredo");
    EXPECT_EQ(e.host_header, "example.com");

    e = parse_base_url("HTTPS://127.0.0.1:8443");
    EXPECT_TRUE(e.tls);
    EXPECT_EQ(e.port, "8443");
    EXPECT_EQ(e.prefix, "");
    EXPECT_EQ(e.host_header, "127.0.0.1:8443");

    e = parse_base_url("https://[::1]:9000/x");
    EXPECT_EQ(e.host, "::1");
    EXPECT_EQ(e.host_header, "[::1]:9000");
    EXPECT_EQ(parse_base_url("https://h:443").host_header, "h");
}

TEST(base_url, refuses_what_it_cannot_use) {
    EXPECT_THAT(error_of([] { parse_base_url("ftp://h"); }), HasSubstr("http or https"));
    EXPECT_THAT(error_of([] { parse_base_url("example.com"); }), HasSubstr("expected http://"));
    EXPECT_THAT(error_of([] { parse_base_url("http://:80/x"); }), HasSubstr("no host"));
    EXPECT_THAT(error_of([] { parse_base_url("http://h:99999"); }), HasSubstr("bad port"));
    EXPECT_THAT(error_of([] { parse_base_url("http://h:"); }), HasSubstr("empty port"));
    EXPECT_THAT(error_of([] { parse_base_url("http://h/x?y=1"); }), HasSubstr("query"));
    EXPECT_THAT(error_of([] { parse_base_url("http://[::1/x"); }), HasSubstr("IPv6"));
    EXPECT_THAT(error_of([] { parse_base_url("http://h/a b"); }), HasSubstr("percent-encode"));
    // User info would put a password in the URL (and in messages): refused, unquoted.
    const auto msg = error_of([] { parse_base_url("http://u:s3cret@h/"); });
    EXPECT_THAT(msg, HasSubstr("user info"));
}

TEST(options, validation_lists_every_problem) {
    http_sync_options o;
    o.batch_size = 0;
    o.flush_interval = std::chrono::milliseconds(0);
    o.retry_jitter = 2;
    o.headers["Content-Type"] = "text/plain";
    o.headers["X-Bad"] = "a\r\nInjected: 1";
    o.headers["bad name"] = "v";
    o.client_cert_file = "c.pem";
    const auto msg = error_of([&] { o.validate(); });
    EXPECT_THAT(msg, HasSubstr("base_url is required"));
    EXPECT_THAT(msg, HasSubstr("batch_size"));
    EXPECT_THAT(msg, HasSubstr("flush_interval"));
    EXPECT_THAT(msg, HasSubstr("retry_jitter"));
    EXPECT_THAT(msg, HasSubstr("header Content-Type is set by the target"));
    EXPECT_THAT(msg, HasSubstr("header X-Bad: the value contains control characters"));
    EXPECT_THAT(msg, HasSubstr("\"bad name\" is not an HTTP token"));
    EXPECT_THAT(msg, HasSubstr("client_cert_file and client_key_file go together"));
}

TEST(options, defaults_with_a_url_are_valid_and_secrets_are_never_quoted) {
    http_sync_options o;
    o.base_url = "http://127.0.0.1:1/hooks";
    EXPECT_NO_THROW(o.validate());
    o.auth_header = "Basic c2VjcmV0";
    o.bearer_token = "tok-s3cret";
    auto msg = error_of([&] { o.validate(); });
    EXPECT_THAT(msg, HasSubstr("at most one of"));
    EXPECT_THAT(msg, Not(HasSubstr("s3cret")));
    EXPECT_THAT(msg, Not(HasSubstr("c2VjcmV0")));
    o.bearer_token.clear();
    o.auth_header = "Basic a\nb-s3cret";
    msg = error_of([&] { o.validate(); });
    EXPECT_THAT(msg, HasSubstr("control characters"));
    EXPECT_THAT(msg, Not(HasSubstr("s3cret")));
}

TEST(options, a_dead_letter_store_needs_the_pipeline_id_and_tls_files_need_https) {
    http_sync_options o;
    o.base_url = "http://h";
    o.dead_letters = std::make_shared<deadletter::memory_store>();
    EXPECT_THAT(error_of([&] { o.validate(); }), HasSubstr("pipeline_id is required"));
    o.pipeline_id = "pg:public.users:httpsync";
    EXPECT_NO_THROW(o.validate());
    o.ca_file = "ca.pem";
    EXPECT_THAT(error_of([&] { o.validate(); }), HasSubstr("need an https base_url"));
}

TEST(credentials, literal_values_and_bearer_tokens) {
    http_sync_options o;
    o.base_url = "http://h";
    EXPECT_FALSE(detail::credentials(o).header().has_value());
    o.auth_header = "Basic dTpw";
    EXPECT_EQ(detail::credentials(o).header(), "Basic dTpw");
    o.auth_header.clear();
    o.bearer_token = "abc\n";
    EXPECT_EQ(detail::credentials(o).header(), "Bearer abc");
}

TEST(credentials, from_the_environment_naming_a_missing_variable_but_never_a_value) {
    http_sync_options o;
    o.base_url = "http://h";
    o.bearer_token_env = "LAREDO_HTTPSYNC_TEST_TOKEN";
    ::unsetenv("LAREDO_HTTPSYNC_TEST_TOKEN");
    EXPECT_THAT(error_of([&] { detail::credentials c(o); }),
                HasSubstr("LAREDO_HTTPSYNC_TEST_TOKEN is not set"));
    ::setenv("LAREDO_HTTPSYNC_TEST_TOKEN", "env-s3cret", 1);
    EXPECT_EQ(detail::credentials(o).header(), "Bearer env-s3cret");
    ::setenv("LAREDO_HTTPSYNC_TEST_TOKEN", "", 1);
    const auto msg = error_of([&] { detail::credentials c(o); });
    EXPECT_THAT(msg, HasSubstr("is empty"));
    ::unsetenv("LAREDO_HTTPSYNC_TEST_TOKEN");
}

TEST(credentials, from_a_file_read_again_on_refresh) {
    laredo::testing::temp_dir dir("laredo-httpsync");
    const auto file = (dir.path() / "token").string();
    http_sync_options o;
    o.base_url = "http://h";
    o.auth_header_file = file;
    EXPECT_THAT(error_of([&] { detail::credentials c(o); }), HasSubstr(file));
    std::ofstream(file) << "Token one-s3cret\n";
    detail::credentials c(o);
    EXPECT_EQ(c.header(), "Token one-s3cret");
    std::ofstream(file) << "Token two\n";
    EXPECT_TRUE(c.refresh());
    EXPECT_EQ(c.header(), "Token two");
    std::filesystem::remove(file);
    EXPECT_FALSE(c.refresh());  // unreadable now: keeps the last value
    EXPECT_EQ(c.header(), "Token two");
}

}  // namespace
}  // namespace laredo::targets::httpsync
