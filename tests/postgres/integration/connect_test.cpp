// Connecting: session settings, name resolution, authentication failures, passfile,
// refused and silent servers.

#include "pg_test_support.hpp"

#include "laredo/error.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace laredo::sources::postgres::testing {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;
using ::testing::Not;

// A loopback TCP socket that listens (so connects succeed) but never answers.
struct silent_server {
    int fd = -1;
    std::uint16_t port = 0;
    silent_server() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(fd, 8);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
    }
    ~silent_server() { ::close(fd); }
};

// A loopback port nobody listens on.
std::uint16_t closed_port() {
    silent_server s;
    const auto port = s.port;
    return port;  // the socket closes here
}

std::string write_passfile(const std::string& name, const std::string& line) {
    const std::string path = shared_pg_cluster().base_dir() + "/" + name;
    std::ofstream(path) << line << "\n";
    ::chmod(path.c_str(), 0600);
    return path;
}

TEST(pg_connect, connects_and_applies_the_session_settings) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        EXPECT_TRUE(c.is_open());
        EXPECT_GT(c.backend_pid(), 0);
        EXPECT_GE(c.server_version(), 150000);
        EXPECT_FALSE(c.uses_tls());
        const auto r = co_await c.query(
            "SELECT current_setting('TimeZone'), current_setting('DateStyle'), "
            "current_setting('IntervalStyle'), current_setting('extra_float_digits'), "
            "current_setting('bytea_output'), current_setting('client_encoding'), "
            "(SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid())");
        EXPECT_EQ(r.value(0, 0), "UTC");
        EXPECT_EQ(r.value(0, 1), "ISO, MDY");
        EXPECT_EQ(r.value(0, 2), "postgres");
        EXPECT_EQ(r.value(0, 3), "3");
        EXPECT_EQ(r.value(0, 4), "hex");
        EXPECT_EQ(r.value(0, 5), "UTF8");
        EXPECT_EQ(r.value(0, 6), "laredo-client-test");
        c.close();
        EXPECT_FALSE(c.is_open());
        EXPECT_EQ(c.backend_pid(), 0);
    });
}

TEST(pg_connect, caller_options_come_before_the_session_settings_which_win) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        auto p = superuser_params();
        p.options = "-c TimeZone=Asia/Tokyo -c work_mem=7MB";
        connection c(ctx.get_executor());
        co_await c.connect(p);
        const auto r =
            co_await c.query("SELECT current_setting('TimeZone'), current_setting('work_mem')");
        EXPECT_EQ(r.value(0, 0), "UTC");
        EXPECT_EQ(r.value(0, 1), "7MB");
    });
}

TEST(pg_connect, resolves_a_host_name_with_asio_and_connects_to_its_address) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        auto p = superuser_params();
        p.host = "localhost";
        connection c(ctx.get_executor());
        co_await c.connect(p);
        const auto r = co_await c.query("SELECT host(inet_server_addr())");
        EXPECT_EQ(r.value(0, 0), "127.0.0.1");
    });
}

TEST(pg_connect, from_conninfo_parameters_connect) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        const auto p = connection_params::from_conninfo(shared_pg_cluster().conninfo());
        connection c(ctx.get_executor());
        co_await c.connect(p);
        const auto r = co_await c.query("SELECT current_user");
        EXPECT_EQ(r.value(0, 0), "postgres");
    });
}

TEST(pg_connect, unknown_database_is_a_fatal_error_naming_it) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        try {
            co_await c.connect(superuser_params("no_such_database_xyz"));
            ADD_FAILURE() << "connected to a database that does not exist";
        } catch (const pg_error& e) {
            EXPECT_EQ(e.sqlstate(), "3D000");
            EXPECT_EQ(e.severity(), "FATAL");
            EXPECT_TRUE(laredo::is_fatal(e.code()));
            EXPECT_THAT(e.what(), HasSubstr("\"no_such_database_xyz\" does not exist"));
            EXPECT_THAT(e.what(), Not(HasSubstr("LOCATION")));
        }
        EXPECT_FALSE(c.is_open());
    });
}

TEST(pg_connect, bad_password_is_a_fatal_error_that_never_shows_a_password) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        auto p = password_role_params();
        p.password = "Wrong-Pass-9931-marker";
        connection c(ctx.get_executor());
        try {
            co_await c.connect(p);
            ADD_FAILURE() << "connected with a wrong password";
        } catch (const pg_error& e) {
            EXPECT_EQ(e.sqlstate(), "28P01");
            EXPECT_TRUE(laredo::is_fatal(e.code()));
            EXPECT_THAT(e.what(), HasSubstr("password authentication failed"));
            EXPECT_THAT(e.what(), HasSubstr("laredo_pw"));
            EXPECT_THAT(e.what(), Not(HasSubstr("Wrong-Pass-9931-marker")));
            EXPECT_THAT(e.what(), Not(HasSubstr(std::string(pg_cluster::password))));
        }
    });
}

TEST(pg_connect, missing_password_is_a_clear_error) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        auto p = password_role_params();
        p.passfile = "/nonexistent/passfile";
        connection c(ctx.get_executor());
        try {
            co_await c.connect(p);
            ADD_FAILURE() << "connected without a password";
        } catch (const pg_error& e) {
            EXPECT_THAT(e.what(), HasSubstr("password"));
        }
    });
}

TEST(pg_connect, correct_password_connects) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        auto p = password_role_params();
        p.password = std::string(pg_cluster::password);
        connection c(ctx.get_executor());
        co_await c.connect(p);
        const auto r = co_await c.query("SELECT current_user");
        EXPECT_EQ(r.value(0, 0), "laredo_pw");
        EXPECT_THAT(c.description(), Not(HasSubstr(std::string(pg_cluster::password))));
    });
}

TEST(pg_connect, passfile_supplies_the_password) {
    const auto& cluster = shared_pg_cluster();
    const auto passfile = write_passfile(
        "passfile_ip", "127.0.0.1:" + std::to_string(cluster.port()) +
                           ":postgres:laredo_pw:" + std::string(pg_cluster::password));
    run_pg([&](asio::io_context& ctx) -> asio::awaitable<void> {
        auto p = password_role_params();
        p.passfile = passfile;
        connection c(ctx.get_executor());
        co_await c.connect(p);
        const auto r = co_await c.query("SELECT current_user");
        EXPECT_EQ(r.value(0, 0), "laredo_pw");
    });
}

// libpq matches passfile lines on `host`; we pass the resolved address as `hostaddr`
// beside it, so a line for the host name still applies.
TEST(pg_connect, passfile_matches_the_host_name_not_the_resolved_address) {
    const auto& cluster = shared_pg_cluster();
    const auto passfile = write_passfile(
        "passfile_name", "localhost:" + std::to_string(cluster.port()) +
                             ":postgres:laredo_pw:" + std::string(pg_cluster::password));
    run_pg([&](asio::io_context& ctx) -> asio::awaitable<void> {
        auto p = password_role_params();
        p.host = "localhost";
        p.passfile = passfile;
        connection c(ctx.get_executor());
        co_await c.connect(p);
        EXPECT_TRUE(c.is_open());
    });
}

TEST(pg_connect, pgpassfile_environment_variable_is_honoured) {
    const auto& cluster = shared_pg_cluster();
    const auto passfile =
        write_passfile("passfile_env", "*:" + std::to_string(cluster.port()) +
                                           ":*:laredo_pw:" + std::string(pg_cluster::password));
    ::setenv("PGPASSFILE", passfile.c_str(), 1);
    struct unset_on_exit {
        ~unset_on_exit() { ::unsetenv("PGPASSFILE"); }
    } unset;
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(password_role_params());
        const auto r = co_await c.query("SELECT current_user");
        EXPECT_EQ(r.value(0, 0), "laredo_pw");
    });
}

TEST(pg_connect, refused_connection_is_retryable) {
    const auto port = closed_port();
    run_pg([port](asio::io_context& ctx) -> asio::awaitable<void> {
        auto p = superuser_params();
        p.port = port;
        connection c(ctx.get_executor());
        try {
            co_await c.connect(p);
            ADD_FAILURE() << "connected to a closed port";
        } catch (const pg_error& e) {
            EXPECT_FALSE(laredo::is_fatal(e.code()));
            EXPECT_TRUE(e.retryable());
            EXPECT_THAT(e.what(), HasSubstr("refused"));
        }
    });
}

TEST(pg_connect, times_out_when_the_server_never_answers) {
    silent_server server;
    run_pg([&server](asio::io_context& ctx) -> asio::awaitable<void> {
        auto p = superuser_params();
        p.port = server.port;
        p.connect_timeout = 1s;
        connection c(ctx.get_executor());
        try {
            co_await c.connect(p);
            ADD_FAILURE() << "connected to a server that never answers";
        } catch (const laredo::error& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::timeout));
            EXPECT_FALSE(laredo::is_fatal(e.code()));
            EXPECT_THAT(e.what(), HasSubstr("timed out after 1 s"));
        }
        EXPECT_FALSE(c.is_open());
    });
}

TEST(pg_connect, close_during_connect_ends_it_at_once_not_at_the_timeout) {
    silent_server server;
    bool ended = false;
    // The deadline (10 s) is far below connect_timeout (120 s): a connect that waited for its
    // timeout after close() fails the test.
    run_pg(
        [&](asio::io_context& ctx) -> asio::awaitable<void> {
            auto p = superuser_params();
            p.port = server.port;
            p.connect_timeout = 120s;
            connection c(ctx.get_executor());
            auto closer = [&]() -> asio::awaitable<void> {
                co_await laredo::testing::sleep_for(200ms);
                c.close();
            };
            asio::co_spawn(ctx, closer(), asio::detached);
            try {
                co_await c.connect(p);
                ADD_FAILURE() << "connected to a server that never answers";
            } catch (const boost::system::system_error&) {
                ended = true;
            }
            EXPECT_FALSE(c.is_open());
        },
        10s);
    EXPECT_TRUE(ended);
}

TEST(pg_connect, operations_on_a_closed_connection_fail_clearly) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        try {
            co_await c.query("SELECT 1");
            ADD_FAILURE() << "query on a connection that was never opened";
        } catch (const laredo::error& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::not_started));
        }
    });
}

TEST(pg_connect, notices_reach_the_handler) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        std::vector<std::string> seen;
        c.set_notice_handler([&seen](const pg_notice& n) {
            seen.push_back(std::string(n.severity) + " " + std::string(n.sqlstate) + " " +
                           std::string(n.message));
        });
        co_await c.connect(superuser_params());
        co_await c.query("DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$");
        PG_CO_ASSERT(seen.size() == 1u);
        EXPECT_EQ(seen[0], "NOTICE 00000 hello 42");
    });
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
