// TLS: verify-full by host name, a wrong CA or name refused, client certificates, and large
// values (over one 16 KiB TLS record) streamed without stalling.

#include "pg_test_support.hpp"

#include "laredo/error.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>

namespace laredo::sources::postgres::testing {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;

TEST(pg_tls, verify_full_connects_by_host_name) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(tls_params());
        EXPECT_TRUE(c.uses_tls());
        const auto r =
            co_await c.query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
        EXPECT_EQ(r.value(0, 0), "t");
        EXPECT_THAT(std::string(r.value(0, 1)), HasSubstr("TLS"));
    });
}

TEST(pg_tls, verify_full_refuses_a_server_signed_by_another_ca) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        auto p = tls_params();
        p.sslrootcert = shared_pg_cluster().wrong_ca_file();
        connection c(ctx.get_executor());
        try {
            co_await c.connect(p);
            ADD_FAILURE() << "connected although the CA did not sign the server certificate";
        } catch (const pg_error& e) {
            EXPECT_THAT(e.what(), HasSubstr("certificate verify failed"));
            // Retrying cannot fix a certificate: the engine must not retry this.
            EXPECT_TRUE(laredo::is_fatal(e.code())) << e.code().message();
        }
        EXPECT_FALSE(c.is_open());
    });
}

TEST(pg_tls, verify_full_refuses_a_host_name_the_certificate_does_not_name) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        auto p = tls_params();
        // The right address under a name the certificate does not carry.
        p.host = "not-the-server.invalid";
        p.extra.emplace_back("hostaddr", shared_pg_cluster().host());
        connection c(ctx.get_executor());
        try {
            co_await c.connect(p);
            ADD_FAILURE() << "connected although the certificate names another host";
        } catch (const pg_error& e) {
            EXPECT_THAT(e.what(), HasSubstr("does not match host name"));
            EXPECT_TRUE(laredo::is_fatal(e.code())) << e.code().message();
        }
    });
}

TEST(pg_tls, client_certificate_authenticates_its_role) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        const auto& cluster = shared_pg_cluster();
        auto p = tls_params();
        p.user = std::string(pg_cluster::cert_user);
        p.sslcert = cluster.client_cert_file();
        p.sslkey = cluster.client_key_file();
        connection c(ctx.get_executor());
        co_await c.connect(p);
        const auto r = co_await c.query(
            "SELECT current_user, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
        EXPECT_EQ(r.value(0, 0), "laredo_cert");
        EXPECT_EQ(r.value(0, 1), "/CN=laredo_cert");
    });
}

TEST(pg_tls, cert_role_without_a_certificate_is_refused) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        auto p = tls_params();
        p.user = std::string(pg_cluster::cert_user);
        connection c(ctx.get_executor());
        EXPECT_THROW(co_await c.connect(p), pg_error);
    });
}

// Values from 8 KiB to ~160 KiB, so messages end at many offsets inside TLS records and span
// several of them. (A PostgreSQL 15 server writes records of at most 8 KiB, which libpq always
// reads whole; the SSL_pending drain in the client is for servers that write 16 KiB records.)
TEST(pg_tls, copy_over_tls_delivers_values_larger_than_16_kib) {
    shared_pg_cluster().exec(
        "DROP TABLE IF EXISTS tls_big; "
        "CREATE TABLE tls_big AS SELECT g AS id, repeat(chr(65 + g % 26), 8000 + g * 997) AS v "
        "FROM generate_series(1, 150) g");
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(tls_params());
        PG_CO_ASSERT(c.uses_tls());
        std::size_t rows = 0;
        std::size_t bad = 0;
        std::string pending;
        connection::chunk_handler handler = [&](copy_chunk chunk) -> asio::awaitable<void> {
            pending.append(chunk.data);
            std::size_t pos = 0;
            for (;;) {
                const auto eol = pending.find('\n', pos);
                if (eol == std::string::npos) break;
                const std::string_view line(pending.data() + pos, eol - pos);
                const auto tab = line.find('\t');
                int id = 0;
                std::from_chars(line.data(), line.data() + tab, id);
                const auto value = line.substr(tab + 1);
                const char expected = static_cast<char>('A' + id % 26);
                if (value.size() != static_cast<std::size_t>(8000 + id * 997) ||
                    value.find_first_not_of(expected) != std::string_view::npos)
                    ++bad;
                ++rows;
                pos = eol + 1;
            }
            pending.erase(0, pos);
            co_return;
        };
        const auto reported = co_await c.copy_out("COPY tls_big TO STDOUT", handler, 64 * 1024);
        EXPECT_EQ(reported, 150u);
        EXPECT_EQ(rows, 150u);
        EXPECT_EQ(bad, 0u);
        EXPECT_TRUE(pending.empty());

        // and a single large result through query()
        const auto r = co_await c.query("SELECT repeat('z', 1000000)");
        EXPECT_EQ(r.value(0, 0).size(), 1000000u);
    });
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
