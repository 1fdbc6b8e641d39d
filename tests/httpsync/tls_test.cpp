// HTTPS: the server's certificate is verified against a CA file (chain and host name), a
// failed verification is given up at once, and a client certificate is presented.
#include "httpsync_test_support.hpp"
#include "temp_dir.hpp"
#include "test_pki.hpp"

#include "laredo/error.hpp"
#include "laredo/testing/async.hpp"

#include <boost/asio/io_context.hpp>

#include <fstream>

namespace laredo::testing::httpsync {
namespace {

using boost::asio::awaitable;

const test_pki& pki() {
    static const test_pki p = make_test_pki();
    return p;
}

std::string write_file(const temp_dir& dir, const std::string& name, const std::string& text) {
    const auto path = (dir.path() / name).string();
    std::ofstream(path) << text;
    return path;
}

// Sends one change and closes; returns the failure's message ("" when it was delivered).
std::string deliver_one(const http_sync_options& o) {
    std::string message;
    run_async(1, 30s, [&](boost::asio::io_context&) -> awaitable<void> {
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        std::vector<change_event> changes{insert_change(1, 1)};
        co_await t.on_changes(users, changes);
        try {
            co_await t.on_close(users);
        } catch (const error& e) {
            message = e.what();
            EXPECT_EQ(e.code(), make_error_code(errc::target_failed));
        }
        EXPECT_EQ(t.metrics().retries, 0u);
    });
    return message;
}

TEST(httpsync_tls, delivers_over_tls_verified_with_a_custom_ca) {
    test_server server(tls_identity{pki().server_cert_pem, pki().server_key_pem, ""});
    temp_dir dir("laredo-httpsync-tls");
    auto o = fast_options(server);
    EXPECT_EQ(o.base_url.rfind("https://127.0.0.1:", 0), 0u);
    o.ca_file = write_file(dir, "ca.pem", pki().ca_pem);
    EXPECT_EQ(deliver_one(o), "");
    EXPECT_EQ(server.request_count(), 1u);
    EXPECT_EQ(server.failed_handshakes(), 0u);
    expect_all_valid(server);
}

TEST(httpsync_tls, a_server_the_ca_does_not_vouch_for_fails_at_once_without_retries) {
    test_server server(tls_identity{pki().server_cert_pem, pki().server_key_pem, ""});
    temp_dir dir("laredo-httpsync-tls");
    auto o = fast_options(server);
    o.max_retries = 5;
    o.ca_file = write_file(dir, "other-ca.pem", pki().other_ca_pem);
    const auto message = deliver_one(o);
    EXPECT_NE(message.find("retrying cannot help"), std::string::npos) << message;
    EXPECT_NE(message.find("certificate verify failed"), std::string::npos) << message;
    EXPECT_EQ(server.request_count(), 0u);
    // The server counts the handshake the client broke off once it reads the client's alert,
    // which can be just after the client has given up.
    EXPECT_TRUE(laredo::testing::wait_until([&] { return server.failed_handshakes() >= 1; }));
    EXPECT_EQ(server.failed_handshakes(), 1u);
}

TEST(httpsync_tls, a_certificate_for_another_host_name_is_refused) {
    test_server server(tls_identity{pki().elsewhere_cert_pem, pki().elsewhere_key_pem, ""});
    temp_dir dir("laredo-httpsync-tls");
    auto o = fast_options(server);
    o.ca_file = write_file(dir, "ca.pem", pki().ca_pem);
    const auto message = deliver_one(o);
    EXPECT_NE(message.find("retrying cannot help"), std::string::npos) << message;
    EXPECT_EQ(server.request_count(), 0u);
}

TEST(httpsync_tls, a_client_certificate_is_presented_when_the_server_requires_one) {
    test_server server(tls_identity{pki().server_cert_pem, pki().server_key_pem, pki().ca_pem});
    temp_dir dir("laredo-httpsync-tls");
    auto o = fast_options(server);
    o.ca_file = write_file(dir, "ca.pem", pki().ca_pem);
    EXPECT_NE(deliver_one(o), "");  // without one the server refuses the handshake
    o.client_cert_file = write_file(dir, "client.pem", pki().client_cert_pem);
    o.client_key_file = write_file(dir, "client.key", pki().client_key_pem);
    EXPECT_EQ(deliver_one(o), "");
    EXPECT_EQ(server.request_count(), 1u);
}

TEST(httpsync_tls, an_unreadable_ca_file_is_refused_when_the_target_is_built) {
    http_sync_options o;
    o.base_url = "https://127.0.0.1:1";
    o.ca_file = "/nonexistent/ca.pem";
    try {
        http_sync_target t(o);
        ADD_FAILURE() << "no error";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_config));
        EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos);
    }
}

}  // namespace
}  // namespace laredo::testing::httpsync
