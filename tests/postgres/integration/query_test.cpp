// Queries, their errors, cancelling a statement through pg_cancel_backend, Asio cancellation,
// and connections the server kills.

#include "pg_test_support.hpp"

#include "laredo/error.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <exception>
#include <optional>

namespace laredo::sources::postgres::testing {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;

// Waits until backend `pid` runs a statement that waits on `wait_event` (e.g. PgSleep).
asio::awaitable<bool> wait_until_waiting(connection& observer, int pid,
                                         std::string_view wait_event) {
    const std::string sql =
        "SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid) +
        " AND state = 'active' AND wait_event = '" + std::string(wait_event) + "'";
    for (int i = 0; i < 1000; ++i) {
        const auto r = co_await observer.query(sql);
        if (r.value(0, 0) == "1") co_return true;
        co_await laredo::testing::sleep_for(10ms);
    }
    co_return false;
}

asio::awaitable<bool> wait_until_gone(connection& observer, int pid) {
    const std::string sql =
        "SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid);
    for (int i = 0; i < 1000; ++i) {
        const auto r = co_await observer.query(sql);
        if (r.value(0, 0) == "0") co_return true;
        co_await laredo::testing::sleep_for(10ms);
    }
    co_return false;
}

TEST(pg_query, returns_columns_types_and_nulls) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        const auto r = co_await c.query(
            "SELECT 1::int4 AS a, NULL::text AS b, 'x y'::text AS c, '\\x00ff'::bytea AS d "
            "UNION ALL SELECT 2, 'two', '', NULL");
        PG_CO_ASSERT(r.rows() == 2);
        PG_CO_ASSERT(r.columns() == 4);
        EXPECT_EQ(r.column_name(0), "a");
        EXPECT_EQ(r.column_type(0), 23u);  // int4
        EXPECT_EQ(r.column_type(1), 25u);  // text
        EXPECT_EQ(r.column_type(3), 17u);  // bytea
        EXPECT_EQ(r.find_column("c"), std::optional<std::size_t>(2));
        EXPECT_EQ(r.find_column("nope"), std::nullopt);
        EXPECT_EQ(r.value(0, 0), "1");
        EXPECT_TRUE(r.is_null(0, 1));
        EXPECT_EQ(r.get(0, 1), std::nullopt);
        EXPECT_EQ(r.get(1, 1), std::optional<std::string_view>("two"));
        EXPECT_EQ(r.value(0, 2), "x y");
        EXPECT_FALSE(r.is_null(1, 2));
        EXPECT_EQ(r.value(1, 2), "");
        EXPECT_EQ(r.value(0, 3), "\\x00ff");
        EXPECT_EQ(r.command_tag(), "SELECT 2");
        EXPECT_EQ(r.affected_rows(), 2u);
        EXPECT_THROW(r.value(2, 0), laredo::error);
        EXPECT_THROW(r.value(0, 4), laredo::error);
    });
}

TEST(pg_query, binds_text_parameters_and_nulls) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        const std::array<query_param, 3> params{query_param("41"), std::nullopt,
                                                query_param("it's; DROP TABLE x")};
        const auto r = co_await c.query("SELECT $1::int + 1, $2::text IS NULL, length($3)", params);
        EXPECT_EQ(r.value(0, 0), "42");
        EXPECT_EQ(r.value(0, 1), "t");
        EXPECT_EQ(r.value(0, 2), "18");
    });
}

TEST(pg_query, several_statements_return_the_last_result) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        const auto r = co_await c.query(
            "CREATE TEMP TABLE multi(x int); INSERT INTO multi VALUES (1), (2), (3); "
            "UPDATE multi SET x = x + 1 WHERE x > 1");
        EXPECT_EQ(r.command_tag(), "UPDATE 2");
        EXPECT_EQ(r.affected_rows(), 2u);
    });
}

TEST(pg_query, error_carries_sqlstate_and_the_connection_stays_usable) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        try {
            co_await c.query("SELECT * FROM no_such_table_abc");
            ADD_FAILURE() << "query on a missing table succeeded";
        } catch (const pg_error& e) {
            EXPECT_EQ(e.sqlstate(), "42P01");
            EXPECT_EQ(e.severity(), "ERROR");
            EXPECT_EQ(e.server_message(), "relation \"no_such_table_abc\" does not exist");
            EXPECT_TRUE(laredo::is_fatal(e.code()));
            EXPECT_THAT(e.what(), HasSubstr("ERROR 42P01: relation \"no_such_table_abc\""));
            EXPECT_THAT(e.what(), HasSubstr("query [host=127.0.0.1"));
        }
        const auto r = co_await c.query("SELECT 7");
        EXPECT_EQ(r.value(0, 0), "7");
    });
}

TEST(pg_query, error_detail_and_hint_are_kept) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        try {
            co_await c.query(
                "DO $$ BEGIN RAISE EXCEPTION 'boom' USING DETAIL = 'some detail', "
                "HINT = 'some hint', ERRCODE = '40001'; END $$");
            ADD_FAILURE() << "RAISE did not fail";
        } catch (const pg_error& e) {
            EXPECT_EQ(e.sqlstate(), "40001");
            EXPECT_EQ(e.detail(), "some detail");
            EXPECT_EQ(e.hint(), "some hint");
            EXPECT_TRUE(e.retryable());  // serialization failure
        }
    });
}

TEST(pg_query, refuses_copy_to_stdout_and_stays_usable) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        EXPECT_THROW(co_await c.query("COPY (SELECT generate_series(1, 50000)) TO STDOUT"),
                     laredo::error);
        EXPECT_THROW(co_await c.query("CREATE TEMP TABLE cin(x int); COPY cin FROM STDIN"),
                     laredo::error);
        const auto r = co_await c.query("SELECT 8");
        EXPECT_EQ(r.value(0, 0), "8");
    });
}

TEST(pg_query, cancel_backend_stops_a_long_query_and_keeps_the_connection) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection worker(ctx.get_executor());
        connection control(ctx.get_executor());
        co_await worker.connect(superuser_params());
        co_await control.connect(superuser_params());

        std::optional<std::string> outcome;
        auto on_done = [&outcome](std::exception_ptr e, query_result) {
            try {
                if (e) std::rethrow_exception(e);
                outcome = "finished";
            } catch (const pg_error& err) {
                outcome = err.sqlstate();
            } catch (const std::exception& err) {
                outcome = err.what();
            }
        };
        asio::co_spawn(ctx, worker.query("SELECT pg_sleep(60)"), on_done);

        PG_CO_ASSERT(co_await wait_until_waiting(control, worker.backend_pid(), "PgSleep"));
        EXPECT_TRUE(co_await control.cancel_backend(worker.backend_pid()));
        PG_CO_ASSERT(co_await laredo::testing::eventually([&] { return outcome.has_value(); }));
        EXPECT_EQ(*outcome, "57014");  // query_canceled
        const auto r = co_await worker.query("SELECT 9");
        EXPECT_EQ(r.value(0, 0), "9");
    });
}

TEST(pg_query, cancel_query_opens_its_own_connection) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection worker(ctx.get_executor());
        connection observer(ctx.get_executor());
        co_await worker.connect(superuser_params());
        co_await observer.connect(superuser_params());

        std::optional<std::string> outcome;
        auto on_done = [&outcome](std::exception_ptr e, query_result) {
            try {
                if (e) std::rethrow_exception(e);
                outcome = "finished";
            } catch (const pg_error& err) {
                outcome = err.sqlstate();
            }
        };
        asio::co_spawn(ctx, worker.query("SELECT pg_sleep(60)"), on_done);
        PG_CO_ASSERT(co_await wait_until_waiting(observer, worker.backend_pid(), "PgSleep"));
        const bool sent =
            co_await cancel_query(ctx.get_executor(), superuser_params(), worker.backend_pid());
        EXPECT_TRUE(sent);
        PG_CO_ASSERT(co_await laredo::testing::eventually([&] { return outcome.has_value(); }));
        EXPECT_EQ(*outcome, "57014");
    });
}

TEST(pg_query, terminal_cancellation_aborts_the_wait_and_closes_the_connection) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection worker(ctx.get_executor());
        connection observer(ctx.get_executor());
        co_await worker.connect(superuser_params());
        co_await observer.connect(superuser_params());
        const int pid = worker.backend_pid();

        asio::cancellation_signal signal;
        std::optional<boost::system::error_code> outcome;
        auto on_done = [&outcome](std::exception_ptr e, query_result) {
            try {
                if (e) std::rethrow_exception(e);
                outcome = boost::system::error_code();
            } catch (const boost::system::system_error& err) {
                outcome = err.code();
            }
        };
        asio::co_spawn(ctx, worker.query("SELECT pg_sleep(60)"),
                       asio::bind_cancellation_slot(signal.slot(), on_done));
        PG_CO_ASSERT(co_await wait_until_waiting(observer, pid, "PgSleep"));
        signal.emit(asio::cancellation_type::terminal);
        PG_CO_ASSERT(co_await laredo::testing::eventually([&] { return outcome.has_value(); }));
        EXPECT_EQ(*outcome, asio::error::operation_aborted);
        // The statement may still run on the server: the connection cannot be reused.
        EXPECT_FALSE(worker.is_open());
        // Closing sent Terminate; the backend goes once pg_sleep notices.
        co_await observer.cancel_backend(pid);
        EXPECT_TRUE(co_await wait_until_gone(observer, pid));
    });
}

TEST(pg_query, backend_terminated_during_a_query_is_retryable) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection worker(ctx.get_executor());
        connection control(ctx.get_executor());
        co_await worker.connect(superuser_params());
        co_await control.connect(superuser_params());

        std::optional<std::string> outcome;
        bool retryable = false;
        auto on_done = [&](std::exception_ptr e, query_result) {
            try {
                if (e) std::rethrow_exception(e);
                outcome = "finished";
            } catch (const pg_error& err) {
                outcome = err.what();
                retryable = err.retryable();
            }
        };
        asio::co_spawn(ctx, worker.query("SELECT pg_sleep(60)"), on_done);
        PG_CO_ASSERT(co_await wait_until_waiting(control, worker.backend_pid(), "PgSleep"));
        co_await control.query("SELECT pg_terminate_backend(" +
                               std::to_string(worker.backend_pid()) + ")");
        PG_CO_ASSERT(co_await laredo::testing::eventually([&] { return outcome.has_value(); }));
        EXPECT_TRUE(retryable) << *outcome;
        EXPECT_THAT(*outcome, HasSubstr("terminating connection due to administrator command"));
        EXPECT_FALSE(worker.is_open());
    });
}

TEST(pg_query, backend_terminated_while_idle_is_retryable_on_next_use) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection worker(ctx.get_executor());
        connection control(ctx.get_executor());
        co_await worker.connect(superuser_params());
        co_await control.connect(superuser_params());
        const int pid = worker.backend_pid();
        co_await control.query("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
        PG_CO_ASSERT(co_await wait_until_gone(control, pid));
        try {
            co_await worker.query("SELECT 1");
            ADD_FAILURE() << "query on a terminated backend succeeded";
        } catch (const pg_error& e) {
            EXPECT_TRUE(e.retryable()) << e.what();
            EXPECT_EQ(e.code(), make_error_code(errc::transient));
        }
        // and so is every later use
        try {
            co_await worker.query("SELECT 1");
            ADD_FAILURE() << "query on a lost connection succeeded";
        } catch (const pg_error& e) {
            EXPECT_TRUE(e.retryable()) << e.what();
        }
    });
}

TEST(pg_query, one_operation_at_a_time_is_enforced) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        connection control(ctx.get_executor());
        co_await c.connect(superuser_params());
        co_await control.connect(superuser_params());
        std::optional<std::string> first;
        auto on_done = [&first](std::exception_ptr e, query_result) {
            try {
                if (e) std::rethrow_exception(e);
                first = "finished";
            } catch (const pg_error& err) {
                first = err.sqlstate();
            }
        };
        asio::co_spawn(ctx, c.query("SELECT pg_sleep(60)"), on_done);
        PG_CO_ASSERT(co_await wait_until_waiting(control, c.backend_pid(), "PgSleep"));
        try {
            co_await c.query("SELECT 1");
            ADD_FAILURE() << "a second query started while one was running";
        } catch (const laredo::error& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
            EXPECT_THAT(e.what(), HasSubstr("another operation is in progress"));
        }
        co_await control.cancel_backend(c.backend_pid());
        PG_CO_ASSERT(co_await laredo::testing::eventually([&] { return first.has_value(); }));
        EXPECT_EQ(*first, "57014");
    });
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
