#pragma once

// Shared bits of the PostgreSQL client integration tests: connection parameters for the
// shared test cluster and a coroutine runner.

#include "pg_cluster_environment.hpp"

#include "laredo/sources/postgres/connection.hpp"
#include "laredo/sources/postgres/connection_params.hpp"
#include "laredo/sources/postgres/pg_error.hpp"
#include "laredo/testing/async.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <string>

// ASSERT_* cannot be used in a coroutine (it expands to `return`): this fails and leaves.
#define PG_CO_ASSERT(condition)                           \
    if (!(condition)) {                                   \
        ADD_FAILURE() << "assertion failed: " #condition; \
        co_return;                                        \
    }

namespace laredo::sources::postgres::testing {

using namespace std::chrono_literals;
using laredo::testing::pg_cluster;
using laredo::testing::shared_pg_cluster;

// The superuser over plain TCP (trust).
inline connection_params superuser_params(std::string dbname = "postgres") {
    const auto& c = shared_pg_cluster();
    connection_params p;
    p.host = c.host();
    p.port = c.port();
    p.user = "postgres";
    p.dbname = std::move(dbname);
    p.sslmode = "disable";
    p.application_name = "laredo-client-test";
    p.connect_timeout = 20s;
    return p;
}

// The superuser over TLS, verifying the server certificate against the test CA by name.
inline connection_params tls_params() {
    const auto& c = shared_pg_cluster();
    auto p = superuser_params();
    p.host = "localhost";
    p.sslmode = "verify-full";
    p.sslrootcert = c.ca_file();
    return p;
}

// The password role (scram-sha-256), without a password set.
inline connection_params password_role_params() {
    auto p = superuser_params();
    p.user = std::string(pg_cluster::password_user);
    return p;
}

// Runs a coroutine test body on a fresh io_context (one thread) with a deadline.
inline void run_pg(std::function<boost::asio::awaitable<void>(boost::asio::io_context&)> body,
                   std::chrono::milliseconds deadline = 60s) {
    laredo::testing::run_async(1, deadline, std::move(body));
}

}  // namespace laredo::sources::postgres::testing
