// The replication protocol: IDENTIFY_SYSTEM, START_REPLICATION in CopyBoth mode delivering raw
// CopyData messages, standby status updates the server acts on, and the end of the stream.

#include "pg_test_support.hpp"

#include "laredo/error.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <exception>

namespace laredo::sources::postgres::testing {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;

std::uint64_t be64(std::string_view s, std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
    return v;
}

std::string lsn_text(std::uint64_t lsn) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32),
                  static_cast<unsigned>(lsn));
    return buf;
}

// A standby status update ('r'): write, flush, apply, client time, reply requested.
std::array<std::byte, 34> status_update(std::uint64_t lsn) {
    std::array<std::byte, 34> m{};
    m[0] = std::byte{'r'};
    for (int field = 0; field < 3; ++field) {
        for (int i = 0; i < 8; ++i)
            m[1 + field * 8 + i] = static_cast<std::byte>(lsn >> (56 - 8 * i));
    }
    return m;
}

connection_params replication_params() {
    auto p = superuser_params();
    p.replication = true;
    return p;
}

// Creates table + publication `name`, once per name.
void create_published_table(const std::string& name) {
    shared_pg_cluster().exec("DROP PUBLICATION IF EXISTS " + name + "_pub; DROP TABLE IF EXISTS " +
                             name + "; CREATE TABLE " + name +
                             " (id int PRIMARY KEY, v text); CREATE PUBLICATION " + name +
                             "_pub FOR TABLE " + name);
}

replication_start pgoutput_start(const std::string& slot, const std::string& publication) {
    replication_start s;
    s.slot_name = slot;
    s.plugin_options = {{"proto_version", "1"}, {"publication_names", publication}};
    return s;
}

// What a test saw of one stream: the pgoutput tags of XLogData payloads in order, and the
// last Commit's end LSN.
struct stream_log {
    std::string tags;
    std::uint64_t commit_end = 0;
    int keepalives = 0;

    void add(const copy_data& m) {
        const auto s = m.view();
        if (s.empty()) return;
        if (s[0] == 'k') {
            ++keepalives;
        } else if (s[0] == 'w' && s.size() > 25) {
            tags += s[25];
            if (s[25] == 'C') commit_end = be64(s, 25 + 1 + 1 + 8);
        }
    }
};

TEST(pg_replication, identify_system_describes_the_server) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(replication_params());
        const auto id = co_await c.identify_system();
        EXPECT_FALSE(id.system_id.empty());
        EXPECT_EQ(id.system_id.find_first_not_of("0123456789"), std::string::npos);
        EXPECT_EQ(id.timeline, 1u);
        EXPECT_THAT(id.xlogpos, HasSubstr("/"));
        EXPECT_EQ(id.dbname, "postgres");
    });
}

TEST(pg_replication, streams_raw_copy_data_and_the_server_applies_status_updates) {
    create_published_table("repl_a");
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        const auto& cluster = shared_pg_cluster();
        connection c(ctx.get_executor());
        co_await c.connect(replication_params());
        const auto slot = co_await c.query(
            "CREATE_REPLICATION_SLOT repl_a_slot TEMPORARY LOGICAL pgoutput (SNAPSHOT 'nothing')");
        EXPECT_EQ(slot.value(0, 0), "repl_a_slot");

        cluster.exec("INSERT INTO repl_a VALUES (1, 'one'), (2, 'two'), (3, 'three')");
        co_await c.start_replication(pgoutput_start("repl_a_slot", "repl_a_pub"));

        stream_log log;
        while (log.tags.find('C') == std::string::npos) {
            auto m = co_await c.read_copy_data();
            PG_CO_ASSERT(m.has_value());
            log.add(*m);
        }
        // Begin, Relation, three Inserts, Commit
        EXPECT_EQ(log.tags, "BRIIIC");
        PG_CO_ASSERT(log.commit_end != 0);

        const auto status = status_update(log.commit_end);
        co_await c.send_copy_data(status);
        const std::string confirmed =
            "SELECT confirmed_flush_lsn >= '" + lsn_text(log.commit_end) +
            "'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'repl_a_slot'";
        bool applied = false;
        for (int i = 0; i < 500 && !applied; ++i) {
            applied = cluster.query_value(confirmed) == "t";
            if (!applied) co_await laredo::testing::sleep_for(10ms);
        }
        EXPECT_TRUE(applied) << "confirmed_flush_lsn did not reach " << lsn_text(log.commit_end);

        // The client ends the stream; whatever was in flight still arrives, then the end.
        co_await c.end_copy();
        for (;;) {
            auto m = co_await c.read_copy_data();
            if (!m) break;
        }
        // Back to idle: commands work again.
        const auto id = co_await c.identify_system();
        EXPECT_EQ(id.dbname, "postgres");
    });
}

TEST(pg_replication, batch_reads_hand_over_everything_that_arrived) {
    create_published_table("repl_b");
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        const auto& cluster = shared_pg_cluster();
        connection c(ctx.get_executor());
        co_await c.connect(replication_params());
        co_await c.query(
            "CREATE_REPLICATION_SLOT repl_b_slot TEMPORARY LOGICAL pgoutput (SNAPSHOT 'nothing')");
        cluster.exec("INSERT INTO repl_b SELECT g, 'v' || g FROM generate_series(1, 500) g");
        co_await c.start_replication(pgoutput_start("repl_b_slot", "repl_b_pub"));

        stream_log log;
        std::vector<copy_data> batch;
        std::size_t largest = 0;
        while (log.tags.find('C') == std::string::npos) {
            batch.clear();
            const auto n = co_await c.read_copy_data(batch, 256);
            PG_CO_ASSERT(n > 0);
            PG_CO_ASSERT(batch.size() == n);
            largest = std::max(largest, n);
            for (const auto& m : batch) log.add(m);
        }
        EXPECT_EQ(log.tags, "BR" + std::string(500, 'I') + "C");
        EXPECT_LE(largest, 256u);
        EXPECT_GT(largest, 1u);
    });
}

TEST(pg_replication, unknown_slot_fails_with_42704_and_the_connection_stays_usable) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(replication_params());
        try {
            co_await c.start_replication(pgoutput_start("no_such_slot", "no_pub"));
            ADD_FAILURE() << "streamed from a slot that does not exist";
        } catch (const pg_error& e) {
            EXPECT_EQ(e.sqlstate(), "42704");
            EXPECT_TRUE(laredo::is_fatal(e.code()));
        }
        const auto id = co_await c.identify_system();
        EXPECT_EQ(id.timeline, 1u);
    });
}

TEST(pg_replication, bad_slot_and_option_names_are_refused_before_the_server) {
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(replication_params());
        auto bad_slot = pgoutput_start("Bad-Name\"; DROP", "p");
        try {
            co_await c.start_replication(bad_slot);
            ADD_FAILURE() << "a bad slot name was accepted";
        } catch (const laredo::error& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
            EXPECT_THAT(e.what(), HasSubstr("invalid replication slot name"));
        }
        auto bad_option = pgoutput_start("fine_slot", "p");
        bad_option.plugin_options.emplace_back("x) , y (", "1");
        try {
            co_await c.start_replication(bad_option);
            ADD_FAILURE() << "a bad option name was accepted";
        } catch (const laredo::error& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
        }
        EXPECT_TRUE(c.is_open());
    });
}

TEST(pg_replication, terminated_walsender_is_reported_as_retryable) {
    create_published_table("repl_c");
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(replication_params());
        co_await c.query(
            "CREATE_REPLICATION_SLOT repl_c_slot TEMPORARY LOGICAL pgoutput (SNAPSHOT 'nothing')");
        co_await c.start_replication(pgoutput_start("repl_c_slot", "repl_c_pub"));
        shared_pg_cluster().exec("SELECT pg_terminate_backend(" + std::to_string(c.backend_pid()) +
                                 ")");
        try {
            for (;;) {
                auto m = co_await c.read_copy_data();
                if (!m) break;
            }
            ADD_FAILURE() << "the stream ended cleanly although the walsender was killed";
        } catch (const pg_error& e) {
            EXPECT_TRUE(e.retryable()) << e.what();
            EXPECT_THAT(e.what(), HasSubstr("terminating connection due to administrator command"));
        }
        EXPECT_FALSE(c.is_open());
    });
}

TEST(pg_replication, cancelled_read_leaves_the_stream_usable) {
    create_published_table("repl_d");
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(replication_params());
        co_await c.query(
            "CREATE_REPLICATION_SLOT repl_d_slot TEMPORARY LOGICAL pgoutput (SNAPSHOT 'nothing')");
        co_await c.start_replication(pgoutput_start("repl_d_slot", "repl_d_pub"));

        asio::cancellation_signal signal;
        std::optional<boost::system::error_code> outcome;
        auto on_done = [&outcome](std::exception_ptr e, std::optional<copy_data>) {
            try {
                if (e) std::rethrow_exception(e);
                outcome = boost::system::error_code();
            } catch (const boost::system::system_error& err) {
                outcome = err.code();
            }
        };
        // The walsender may send a keepalive or two after starting: read until a read
        // really waits, then cancel that one.
        for (int attempt = 0; attempt < 20; ++attempt) {
            outcome.reset();
            asio::co_spawn(ctx, c.read_copy_data(),
                           asio::bind_cancellation_slot(signal.slot(), on_done));
            co_await laredo::testing::sleep_for(100ms);
            if (!outcome) break;
            PG_CO_ASSERT(!outcome->failed());
        }
        PG_CO_ASSERT(!outcome.has_value());
        signal.emit(asio::cancellation_type::terminal);
        PG_CO_ASSERT(co_await laredo::testing::eventually([&] { return outcome.has_value(); }));
        EXPECT_EQ(*outcome, asio::error::operation_aborted);
        EXPECT_TRUE(c.is_open());

        shared_pg_cluster().exec("INSERT INTO repl_d VALUES (1, 'after the cancel')");
        stream_log log;
        while (log.tags.find('C') == std::string::npos) {
            auto m = co_await c.read_copy_data();
            PG_CO_ASSERT(m.has_value());
            log.add(*m);
        }
        EXPECT_EQ(log.tags, "BRIC");
    });
}

TEST(pg_replication, queries_are_refused_while_streaming) {
    create_published_table("repl_e");
    run_pg([](asio::io_context& ctx) -> asio::awaitable<void> {
        connection c(ctx.get_executor());
        co_await c.connect(replication_params());
        co_await c.query(
            "CREATE_REPLICATION_SLOT repl_e_slot TEMPORARY LOGICAL pgoutput (SNAPSHOT 'nothing')");
        co_await c.start_replication(pgoutput_start("repl_e_slot", "repl_e_pub"));
        try {
            co_await c.query("SELECT 1");
            ADD_FAILURE() << "a query ran in the middle of CopyBoth";
        } catch (const laredo::error& e) {
            EXPECT_THAT(e.what(), HasSubstr("end it with end_copy"));
        }
        co_await c.end_copy();
        for (;;) {
            auto m = co_await c.read_copy_data();
            if (!m) break;
        }
        const auto r = co_await c.query("SELECT 1");
        EXPECT_EQ(r.value(0, 0), "1");
    });
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
