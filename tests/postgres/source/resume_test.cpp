// Stateful slots across runs (resume, always_baseline, a table added on restart, reset), and
// the publication kept in line with the configuration.

#include "source_test_support.hpp"

#include "laredo/error.hpp"
#include "laredo/testing/async.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace laredo::sources::postgres::testing {
namespace {

namespace asio = boost::asio;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::shared_ptr<indexed_target> kept_target() {
    laredo::targets::memory::indexed_target_options o;
    o.keep_position_across_engines = true;
    return std::make_shared<indexed_target>(o);
}

std::vector<std::string> published_tables(const std::string& publication) {
    std::vector<std::string> out;
    for (const auto& r : sql_query("SELECT schemaname || '.' || tablename FROM "
                                   "pg_publication_tables WHERE pubname = '" +
                                   publication + "' ORDER BY 1")
                             .rows)
        out.push_back(*r[0]);
    return out;
}

TEST(pg_source_resume, a_stateful_restart_resumes_without_a_baseline_and_misses_nothing) {
    drop_slot_and_publication("res_a");
    sql("DROP TABLE IF EXISTS res_a; CREATE TABLE res_a (id int PRIMARY KEY, v text); INSERT INTO "
        "res_a SELECT g, 'v' || g FROM generate_series(1, 30) g");
    const table_identifier t("public", "res_a");
    auto target = kept_target();
    {
        engine_run run(options_for("res_a", slot_mode::stateful), {{t, target}});
        run.start();
        ASSERT_TRUE(run.ready());
        sql("INSERT INTO res_a VALUES (31, 'streamed'); UPDATE res_a SET v = 'u' WHERE id = 2");
        expect_target_matches_table(*target, t);
        run.stop();
    }
    // While nothing runs: the slot keeps these for the next run.
    sql("INSERT INTO res_a VALUES (32, 'offline'); DELETE FROM res_a WHERE id = 5; UPDATE res_a "
        "SET v = 'offline' WHERE id = 7");
    EXPECT_EQ(sql_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'res_a'"),
              "1");
    {
        engine_run run(options_for("res_a", slot_mode::stateful), {{t, target}});
        run.start();
        ASSERT_TRUE(run.ready());
        expect_target_matches_table(*target, t);
        EXPECT_EQ(run.observer()->baselines_started.load(), 0) << "resumed with a baseline";
        sql("INSERT INTO res_a VALUES (33, 'after restart')");
        expect_target_matches_table(*target, t);
    }
    drop_slot_and_publication("res_a");
}

TEST(pg_source_resume, always_baseline_takes_a_baseline_on_an_existing_slot) {
    drop_slot_and_publication("res_b");
    sql("DROP TABLE IF EXISTS res_b; CREATE TABLE res_b (id int PRIMARY KEY, v text); INSERT INTO "
        "res_b VALUES (1, 'a'), (2, 'b')");
    const table_identifier t("public", "res_b");
    // The target keeps its rows and position: the restart could resume, but must not.
    auto target = kept_target();
    {
        engine_run run(options_for("res_b", slot_mode::stateful), {{t, target}});
        run.start();
        ASSERT_TRUE(run.ready());
        sql("INSERT INTO res_b VALUES (3, 'c')");
        expect_target_matches_table(*target, t);
    }
    sql("INSERT INTO res_b VALUES (4, 'd')");
    auto options = options_for("res_b", slot_mode::stateful);
    options.always_baseline = true;
    engine_run run(options, {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    EXPECT_EQ(run.observer()->baselines_started.load(), 1);
    EXPECT_EQ(target->count(), 4u);
    sql("INSERT INTO res_b VALUES (5, 'e')");
    expect_target_matches_table(*target, t);
    run.stop();
    drop_slot_and_publication("res_b");
}

TEST(pg_source_resume, a_table_added_on_restart_is_baselined_alone_and_joins_the_publication) {
    drop_slot_and_publication("res_c");
    sql("DROP TABLE IF EXISTS res_c1, res_c2; CREATE TABLE res_c1 (id int PRIMARY KEY, v text); "
        "CREATE TABLE res_c2 (id int PRIMARY KEY, v text); INSERT INTO res_c1 VALUES (1, 'a'); "
        "INSERT INTO res_c2 VALUES (1, 'b'), (2, 'c')");
    const table_identifier t1("public", "res_c1");
    const table_identifier t2("public", "res_c2");
    auto first = kept_target();
    {
        engine_run run(options_for("res_c", slot_mode::stateful), {{t1, first}});
        run.start();
        ASSERT_TRUE(run.ready());
        EXPECT_THAT(published_tables("res_c_pub"), ElementsAre("public.res_c1"));
    }
    sql("INSERT INTO res_c1 VALUES (2, 'offline'); INSERT INTO res_c2 VALUES (3, 'offline')");
    auto second = std::make_shared<indexed_target>();
    {
        engine_run run(options_for("res_c", slot_mode::stateful), {{t1, first}, {t2, second}});
        run.start();
        ASSERT_TRUE(run.ready());
        EXPECT_THAT(published_tables("res_c_pub"), ElementsAre("public.res_c1", "public.res_c2"));
        {
            std::lock_guard lock(run.observer()->mutex);
            EXPECT_THAT(run.observer()->baseline_tables, ElementsAre("public.res_c2"));
        }
        sql("INSERT INTO res_c1 VALUES (3, 'x'); INSERT INTO res_c2 VALUES (4, 'y')");
        expect_target_matches_table(*first, t1);
        expect_target_matches_table(*second, t2);
    }
    // Back to one table: ours, so laredo removes the other one (and drops nothing else).
    {
        engine_run run(options_for("res_c", slot_mode::stateful), {{t1, first}});
        run.start();
        ASSERT_TRUE(run.ready());
        EXPECT_THAT(published_tables("res_c_pub"), ElementsAre("public.res_c1"));
    }
    drop_slot_and_publication("res_c");
}

TEST(pg_source_resume, a_foreign_publication_is_used_as_it_is_and_never_changed) {
    drop_slot_and_publication("res_d");
    // A generated column is never published (and PostgreSQL 15 lists it among a table's
    // published columns all the same).
    sql("DROP TABLE IF EXISTS res_d1, res_d2; CREATE TABLE res_d1 (id int PRIMARY KEY, v text, "
        "doubled int GENERATED ALWAYS AS (id * 2) STORED); "
        "CREATE TABLE res_d2 (id int PRIMARY KEY); CREATE PUBLICATION res_d_pub FOR TABLE res_d1, "
        "res_d2; INSERT INTO res_d1 VALUES (1, 'a')");
    const table_identifier t("public", "res_d1");
    auto target = std::make_shared<indexed_target>();
    {
        engine_run run(options_for("res_d"), {{t, target}});
        run.start();
        ASSERT_TRUE(run.ready());
        sql("INSERT INTO res_d1 VALUES (2, 'b'); INSERT INTO res_d2 VALUES (1)");
        expect_target_matches_table(*target, t);
    }
    // Untouched: both tables still there, no laredo comment.
    EXPECT_THAT(published_tables("res_d_pub"), ElementsAre("public.res_d1", "public.res_d2"));
    EXPECT_EQ(sql_value("SELECT coalesce(obj_description(oid, 'pg_publication'), '') FROM "
                        "pg_publication WHERE pubname = 'res_d_pub'"),
              "");
    // A configured table it lacks is an error naming the fix.
    sql("DROP TABLE IF EXISTS res_d3; CREATE TABLE res_d3 (id int PRIMARY KEY)");
    auto missing = std::make_shared<indexed_target>();
    engine_run run(options_for("res_d"), {{table_identifier("public", "res_d3"), missing}});
    run.start();
    EXPECT_TRUE(wait_until([&] { return !run.observer()->reasons().empty(); }));
    const auto reasons = run.observer()->reasons();
    ASSERT_FALSE(reasons.empty());
    EXPECT_THAT(reasons.front(), HasSubstr("ALTER PUBLICATION \"res_d_pub\" ADD TABLE"));
    EXPECT_THAT(published_tables("res_d_pub"), ElementsAre("public.res_d1", "public.res_d2"));
    run.stop();
    drop_slot_and_publication("res_d");
}

// What an operator's reset does: a source of its own, not running, resets the slot.
void reset_with_a_source_of_its_own(const std::string& slot, bool drop_publication) {
    laredo::testing::run_async(1, 30s, [&](asio::io_context& ctx) -> asio::awaitable<void> {
        auto source = std::make_shared<postgres_source>(ctx.get_executor(),
                                                        options_for(slot, slot_mode::stateful));
        co_await asio::co_spawn(source->get_executor(), source->reset_source(drop_publication),
                                asio::use_awaitable);
        co_await asio::co_spawn(source->get_executor(), source->close(), asio::use_awaitable);
    });
}

TEST(pg_source_resume, reset_drops_the_slot_so_the_next_start_baselines) {
    drop_slot_and_publication("res_e");
    sql("DROP TABLE IF EXISTS res_e; CREATE TABLE res_e (id int PRIMARY KEY); INSERT INTO res_e "
        "VALUES (1), (2)");
    const table_identifier t("public", "res_e");
    auto target = kept_target();
    {
        engine_run run(options_for("res_e", slot_mode::stateful), {{t, target}});
        run.start();
        ASSERT_TRUE(run.ready());
    }
    EXPECT_EQ(sql_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'res_e'"),
              "1");
    reset_with_a_source_of_its_own("res_e", true);
    EXPECT_EQ(sql_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'res_e'"),
              "0");
    EXPECT_EQ(sql_value("SELECT count(*) FROM pg_publication WHERE pubname = 'res_e_pub'"), "0");
    sql("INSERT INTO res_e VALUES (3)");
    engine_run run(options_for("res_e", slot_mode::stateful), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    EXPECT_EQ(run.observer()->baselines_started.load(), 1);
    expect_target_matches_table(*target, t);
    run.stop();
    drop_slot_and_publication("res_e");
}

TEST(pg_source_resume, reset_keeping_the_publication_drops_only_the_slot) {
    drop_slot_and_publication("res_g");
    sql("DROP TABLE IF EXISTS res_g; CREATE TABLE res_g (id int PRIMARY KEY); INSERT INTO res_g "
        "VALUES (1)");
    const table_identifier t("public", "res_g");
    auto target = kept_target();
    {
        engine_run run(options_for("res_g", slot_mode::stateful), {{t, target}});
        run.start();
        ASSERT_TRUE(run.ready());
    }
    reset_with_a_source_of_its_own("res_g", false);
    EXPECT_EQ(sql_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'res_g'"),
              "0");
    EXPECT_EQ(sql_value("SELECT count(*) FROM pg_publication_tables WHERE pubname = 'res_g_pub' "
                        "AND tablename = 'res_g'"),
              "1");
    sql("INSERT INTO res_g VALUES (2)");
    engine_run run(options_for("res_g", slot_mode::stateful), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    EXPECT_EQ(run.observer()->baselines_started.load(), 1);
    expect_target_matches_table(*target, t);
    run.stop();
    drop_slot_and_publication("res_g");
}

TEST(pg_source_resume, reset_is_refused_while_another_process_holds_the_slot) {
    drop_slot_and_publication("res_f");
    sql("DROP TABLE IF EXISTS res_f; CREATE TABLE res_f (id int PRIMARY KEY)");
    const table_identifier t("public", "res_f");
    auto target = std::make_shared<indexed_target>();
    engine_run run(options_for("res_f", slot_mode::stateful), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    std::string failure;
    laredo::testing::run_async(1, 30s, [&](asio::io_context& ctx) -> asio::awaitable<void> {
        auto other = std::make_shared<postgres_source>(ctx.get_executor(),
                                                       options_for("res_f", slot_mode::stateful));
        try {
            co_await asio::co_spawn(other->get_executor(), other->reset_source(false),
                                    asio::use_awaitable);
        } catch (const std::exception& e) {
            failure = e.what();
        }
        co_await asio::co_spawn(other->get_executor(), other->close(), asio::use_awaitable);
    });
    EXPECT_THAT(failure, HasSubstr("in use by process"));
    EXPECT_EQ(sql_value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'res_f'"),
              "1");
    sql("INSERT INTO res_f VALUES (1)");
    expect_target_matches_table(*target, t);
    run.stop();
    drop_slot_and_publication("res_f");
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
