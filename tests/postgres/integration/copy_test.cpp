// COPY ... TO STDOUT streamed in bounded chunks.

#include "pg_test_support.hpp"

#include "laredo/error.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <stdexcept>

namespace laredo::sources::postgres::testing {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;

constexpr std::uint64_t copy_rows = 100000;

// The benchmark row shape (bench/memory/bench_rows.hpp): (id bigint PK, name text, value float8,
// payload text 100 B, updated_at timestamptz).
void create_copy_table() {
    static bool created = false;
    if (created) return;
    shared_pg_cluster().exec(
        "DROP TABLE IF EXISTS copy_src; "
        "CREATE TABLE copy_src (id bigint PRIMARY KEY, name text NOT NULL, value float8, "
        "payload text, updated_at timestamptz NOT NULL); "
        "INSERT INTO copy_src SELECT g, 'name-' || g, g * 1.25, "
        "rpad(md5(g::text), 100, md5((g + 7)::text)), now() - g * interval '1 second' "
        "FROM generate_series(1, " +
        std::to_string(copy_rows) + ") g");
    created = true;
}

// Counts rows and sums the first column of COPY text lines.
struct copy_tally {
    std::uint64_t rows = 0;
    std::uint64_t id_sum = 0;
    std::uint64_t bytes = 0;
    std::size_t chunks = 0;
    std::size_t max_chunk = 0;
    std::size_t messages = 0;
    bool whole_lines = true;

    void add(const copy_chunk& c) {
        ++chunks;
        messages += c.messages;
        bytes += c.data.size();
        max_chunk = std::max(max_chunk, c.data.size());
        if (c.data.empty() || c.data.back() != '\n') whole_lines = false;
        std::size_t pos = 0;
        while (pos < c.data.size()) {
            const auto eol = c.data.find('\n', pos);
            const auto line = c.data.substr(pos, eol - pos);
            std::uint64_t id = 0;
            std::from_chars(line.data(), line.data() + line.size(), id);
            id_sum += id;
            ++rows;
            pos = eol == std::string_view::npos ? c.data.size() : eol + 1;
        }
    }
};

TEST(pg_copy, streams_100000_rows_in_bounded_chunks) {
    create_copy_table();
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        copy_tally tally;
        connection::chunk_handler handler = [&tally](copy_chunk chunk) -> asio::awaitable<void> {
            tally.add(chunk);
            co_return;
        };
        constexpr std::size_t limit = 64 * 1024;
        const auto reported = co_await c.copy_out("COPY copy_src TO STDOUT", handler, limit);
        EXPECT_EQ(reported, copy_rows);
        EXPECT_EQ(tally.rows, copy_rows);
        EXPECT_EQ(tally.messages, copy_rows);  // text COPY: one message per row
        EXPECT_EQ(tally.id_sum, copy_rows * (copy_rows + 1) / 2);
        EXPECT_TRUE(tally.whole_lines);
        // Streamed: never more than `limit` at a time, out of ~16 MB in total.
        EXPECT_LE(tally.max_chunk, limit);
        EXPECT_GT(tally.bytes, 100 * limit);
        EXPECT_GT(tally.chunks, 100u);
        // and the connection is idle again
        const auto r = co_await c.query("SELECT count(*) FROM copy_src");
        EXPECT_EQ(r.value(0, 0), std::to_string(copy_rows));
    });
}

TEST(pg_copy, runs_on_a_strand_of_a_four_thread_context_and_awaits_the_handler) {
    create_copy_table();
    laredo::testing::run_async(4, 60s, [](asio::io_context& ctx) -> asio::awaitable<void> {
        auto strand = asio::make_strand(ctx);
        copy_tally tally;
        bool off_strand = false;
        auto body = [&]() -> asio::awaitable<void> {
            connection c(strand);
            co_await c.connect(superuser_params());
            connection::chunk_handler handler = [&](copy_chunk chunk) -> asio::awaitable<void> {
                if (!strand.running_in_this_thread()) off_strand = true;
                tally.add(chunk);
                // A slow consumer: the COPY waits for it (backpressure) instead of buffering.
                if (tally.chunks % 50 == 0) co_await laredo::testing::sleep_for(1ms);
            };
            const auto sql = "COPY (SELECT * FROM copy_src WHERE id <= 20000) TO STDOUT";
            const auto reported = co_await c.copy_out(sql, handler);
            EXPECT_EQ(reported, 20000u);
        };
        co_await asio::co_spawn(strand, body(), asio::use_awaitable);
        EXPECT_EQ(tally.rows, 20000u);
        EXPECT_FALSE(off_strand);
    });
}

TEST(pg_copy, binary_format_arrives_as_concatenated_messages) {
    create_copy_table();
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        std::string all;
        connection::chunk_handler handler = [&all](copy_chunk chunk) -> asio::awaitable<void> {
            all.append(chunk.data);
            co_return;
        };
        const auto reported = co_await c.copy_out(
            "COPY (SELECT id FROM copy_src WHERE id <= 10) TO STDOUT (FORMAT binary)", handler);
        EXPECT_EQ(reported, 10u);
        // header (19) + 10 rows x (2 + 4 + 8) + trailer (2)
        EXPECT_EQ(all.size(), 19u + 10u * 14u + 2u);
        EXPECT_EQ(all.substr(0, 5), "PGCOP");
    });
}

TEST(pg_copy, unknown_table_fails_with_42P01_and_the_connection_stays_usable) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        int calls = 0;
        connection::chunk_handler handler = [&calls](copy_chunk) -> asio::awaitable<void> {
            ++calls;
            co_return;
        };
        try {
            co_await c.copy_out("COPY no_such_copy_table TO STDOUT", handler);
            ADD_FAILURE() << "COPY of a missing table succeeded";
        } catch (const pg_error& e) {
            EXPECT_EQ(e.sqlstate(), "42P01");
        }
        EXPECT_EQ(calls, 0);
        const auto r = co_await c.query("SELECT 5");
        EXPECT_EQ(r.value(0, 0), "5");
    });
}

TEST(pg_copy, error_in_the_middle_is_reported_after_the_rows_before_it) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        copy_tally tally;
        connection::chunk_handler handler = [&tally](copy_chunk chunk) -> asio::awaitable<void> {
            tally.add(chunk);
            co_return;
        };
        try {
            co_await c.copy_out(
                "COPY (SELECT 1 / (50000 - g) FROM generate_series(1, 100000) g) TO STDOUT",
                handler);
            ADD_FAILURE() << "a division by zero went unnoticed";
        } catch (const pg_error& e) {
            EXPECT_EQ(e.sqlstate(), "22012");
        }
        EXPECT_LT(tally.rows, 50000u);
        const auto r = co_await c.query("SELECT 6");
        EXPECT_EQ(r.value(0, 0), "6");
    });
}

TEST(pg_copy, handler_exception_ends_the_copy_and_closes_the_connection) {
    create_copy_table();
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        connection::chunk_handler handler = [](copy_chunk) -> asio::awaitable<void> {
            throw std::runtime_error("target is full");
            co_return;
        };
        try {
            co_await c.copy_out("COPY copy_src TO STDOUT", handler);
            ADD_FAILURE() << "the handler's exception was lost";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "target is full");
        }
        EXPECT_FALSE(c.is_open());
    });
}

TEST(pg_copy, a_statement_that_is_not_copy_to_stdout_is_refused) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(superuser_params());
        connection::chunk_handler handler = [](copy_chunk) -> asio::awaitable<void> { co_return; };
        try {
            co_await c.copy_out("SELECT 1", handler);
            ADD_FAILURE() << "copy_out ran a SELECT";
        } catch (const laredo::error& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
            EXPECT_THAT(e.what(), HasSubstr("not a COPY"));
        }
        const auto r = co_await c.query("SELECT 4");
        EXPECT_EQ(r.value(0, 0), "4");
    });
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
