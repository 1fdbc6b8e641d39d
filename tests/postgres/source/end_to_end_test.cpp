// The source under the engine into indexed memory targets: baseline, then every kind of
// change, compared with the tables in full.

#include "source_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/use_future.hpp>

#include <atomic>
#include <thread>

namespace laredo::sources::postgres::testing {
namespace {

TEST(pg_source_end_to_end, baseline_then_inserts_updates_deletes_and_truncate) {
    drop_slot_and_publication("e2e_a");
    sql("DROP TABLE IF EXISTS e2e_users; CREATE TABLE e2e_users (id serial PRIMARY KEY, name "
        "text NOT NULL, email text, created_at timestamptz DEFAULT now()); INSERT INTO e2e_users "
        "(name, email) SELECT 'user-' || g, 'user' || g || '@example.com' FROM "
        "generate_series(1, 50) g");
    const table_identifier t("public", "e2e_users");
    auto target = std::make_shared<indexed_target>();
    engine_run run(options_for("e2e_a"), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready()) << ::testing::PrintToString(run.observer()->reasons());
    EXPECT_EQ(target->count(), 50u);
    expect_target_matches_table(*target, t);
    // Never analyzed: the source analyzed it for an estimate, which progress bars show.
    EXPECT_EQ(run.observer()->estimated_rows.load(), 50);
    const auto progress = run.source()->progress();
    ASSERT_EQ(progress.size(), 1u);
    EXPECT_EQ(progress[0].rows_done, 50u);
    EXPECT_TRUE(progress[0].done);
    EXPECT_EQ(progress[0].rows_estimated, std::optional<std::uint64_t>(50));

    sql("INSERT INTO e2e_users (name, email) VALUES ('streamed', 's@example.com')");
    sql("UPDATE e2e_users SET email = 'changed@example.com' WHERE id = 1");
    sql("DELETE FROM e2e_users WHERE id BETWEEN 10 AND 19");
    sql("BEGIN; UPDATE e2e_users SET name = name || '!' WHERE id % 2 = 0; UPDATE e2e_users SET "
        "id = 1000 WHERE id = 3; COMMIT");
    expect_target_matches_table(*target, t);
    EXPECT_EQ(target->count(), 41u);

    sql("TRUNCATE e2e_users");
    ASSERT_TRUE(wait_until([&] { return target->count() == 0; }));
    sql("INSERT INTO e2e_users (name) VALUES ('after truncate')");
    expect_target_matches_table(*target, t);
    EXPECT_EQ(run.observer()->baselines_started.load(), 1);
}

TEST(pg_source_end_to_end, an_empty_table_baselines_to_nothing_at_a_real_position) {
    drop_slot_and_publication("e2e_b");
    sql("DROP TABLE IF EXISTS e2e_empty; CREATE TABLE e2e_empty (id int PRIMARY KEY, v text)");
    const table_identifier t("public", "e2e_empty");
    auto target = std::make_shared<indexed_target>();
    engine_run run(options_for("e2e_b"), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    EXPECT_EQ(target->count(), 0u);
    const auto pos = target->confirmed_position();
    ASSERT_TRUE(pos.has_value());
    EXPECT_FALSE(pos->empty());
    sql("INSERT INTO e2e_empty VALUES (1, 'one')");
    expect_target_matches_table(*target, t);
}

TEST(pg_source_end_to_end, truncate_cascade_reaches_every_table_it_names) {
    drop_slot_and_publication("e2e_c");
    sql("DROP TABLE IF EXISTS e2e_child, e2e_parent; CREATE TABLE e2e_parent (id int PRIMARY "
        "KEY); CREATE TABLE e2e_child (id int PRIMARY KEY, parent int REFERENCES e2e_parent); "
        "INSERT INTO e2e_parent SELECT generate_series(1, 5); INSERT INTO e2e_child SELECT g, g "
        "FROM generate_series(1, 5) g");
    const table_identifier parent("public", "e2e_parent");
    const table_identifier child("public", "e2e_child");
    auto p = std::make_shared<indexed_target>();
    auto c = std::make_shared<indexed_target>();
    engine_run run(options_for("e2e_c"), {{parent, p}, {child, c}});
    run.start();
    ASSERT_TRUE(run.ready());
    EXPECT_EQ(p->count(), 5u);
    EXPECT_EQ(c->count(), 5u);
    sql("TRUNCATE e2e_parent CASCADE");
    EXPECT_TRUE(wait_until([&] { return p->count() == 0 && c->count() == 0; }));
    sql("INSERT INTO e2e_parent VALUES (7); INSERT INTO e2e_child VALUES (7, 7)");
    expect_target_matches_table(*p, parent);
    expect_target_matches_table(*c, child);
}

TEST(pg_source_end_to_end, a_transaction_over_two_tables_is_applied_to_both) {
    drop_slot_and_publication("e2e_d");
    sql("DROP TABLE IF EXISTS e2e_x, e2e_y; CREATE TABLE e2e_x (id int PRIMARY KEY, v int); "
        "CREATE TABLE e2e_y (id int PRIMARY KEY, v int)");
    const table_identifier x("public", "e2e_x");
    const table_identifier y("public", "e2e_y");
    auto tx = std::make_shared<indexed_target>();
    auto ty = std::make_shared<indexed_target>();
    auto options = options_for("e2e_d");
    options.change_batch_size = 7;  // transactions go out in several parts
    engine_run run(options, {{x, tx}, {y, ty}});
    run.start();
    ASSERT_TRUE(run.ready());
    for (int round = 0; round < 5; ++round) {
        sql("BEGIN; INSERT INTO e2e_x SELECT g, " + std::to_string(round) +
            " FROM generate_series(" + std::to_string(round * 20) + ", " +
            std::to_string(round * 20 + 19) + ") g; INSERT INTO e2e_y SELECT g, " +
            std::to_string(round) + " FROM generate_series(" + std::to_string(round * 20) + ", " +
            std::to_string(round * 20 + 12) +
            ") g; UPDATE e2e_x SET v = v + 100 WHERE id % 3 = " + "0; COMMIT");
    }
    expect_target_matches_table(*tx, x);
    expect_target_matches_table(*ty, y);
    // Both tables confirm the last commit, so the ACK reaches it.
    const auto last = sql_value("SELECT pg_current_wal_lsn()");
    EXPECT_TRUE(wait_until([&] {
        return sql_value("SELECT confirmed_flush_lsn >= '" + last +
                         "'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'e2e_d'") == "t";
    })) << "the slot's confirmed_flush_lsn did not reach "
        << last;
}

TEST(pg_source_end_to_end, reloading_a_table_while_writes_go_on_leaves_it_equal_to_the_table) {
    drop_slot_and_publication("e2e_reload");
    sql("DROP TABLE IF EXISTS e2e_reload; CREATE TABLE e2e_reload (id int PRIMARY KEY, n int); "
        "INSERT INTO e2e_reload SELECT g, 0 FROM generate_series(1, 3000) g");
    const table_identifier t("public", "e2e_reload");
    auto target = std::make_shared<indexed_target>();
    auto options = options_for("e2e_reload");
    options.baseline_batch_rows = 100;
    engine_run run(options, {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    std::atomic<bool> writing{true};
    std::thread writer([&] {
        for (int i = 0; writing; ++i) {
            sql("BEGIN; UPDATE e2e_reload SET n = n + 1 WHERE id % 7 = " + std::to_string(i % 7) +
                "; INSERT INTO e2e_reload VALUES (" + std::to_string(10000 + i) +
                ", 0); DELETE FROM e2e_reload WHERE id = " + std::to_string(1 + i) + "; COMMIT");
        }
    });
    std::this_thread::sleep_for(300ms);
    run.engine().async_reload("pg", t, boost::asio::use_future).get();
    std::this_thread::sleep_for(300ms);
    writing = false;
    writer.join();
    expect_target_matches_table(*target, t);
    EXPECT_EQ(run.observer()->baselines_started.load(), 2);
}

TEST(pg_source_end_to_end, a_partitioned_table_arrives_under_its_own_name) {
    drop_slot_and_publication("e2e_part");
    sql("DROP TABLE IF EXISTS e2e_part; CREATE TABLE e2e_part (region int, id int, v text, "
        "PRIMARY KEY (region, id)) PARTITION BY LIST (region); CREATE TABLE e2e_part_1 "
        "PARTITION OF e2e_part FOR VALUES IN (1); CREATE TABLE e2e_part_2 PARTITION OF e2e_part "
        "FOR VALUES IN (2); INSERT INTO e2e_part VALUES (1, 1, 'a'), (2, 1, 'b')");
    const table_identifier t("public", "e2e_part");
    auto target = std::make_shared<indexed_target>();
    engine_run run(options_for("e2e_part"), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    EXPECT_EQ(sql_value("SELECT pubviaroot FROM pg_publication WHERE pubname = 'e2e_part_pub'"),
              "t");
    // Changes of the partitions, a row moving between them included.
    sql("INSERT INTO e2e_part VALUES (1, 2, 'c'), (2, 2, 'd'); UPDATE e2e_part SET region = 2, id "
        "= 9 "
        "WHERE region = 1 AND id = 1; DELETE FROM e2e_part WHERE region = 2 AND id = 2");
    expect_target_matches_table(*target, t);
}

TEST(pg_source_end_to_end, a_row_filter_and_a_column_list_apply_to_baseline_and_stream) {
    drop_slot_and_publication("e2e_filter");
    sql("DROP TABLE IF EXISTS e2e_filter; CREATE TABLE e2e_filter (id int PRIMARY KEY, active "
        "bool NOT NULL, name text, secret text); INSERT INTO e2e_filter VALUES (1, true, 'a', "
        "'s1'), (2, false, 'b', 's2')");
    const table_identifier t("public", "e2e_filter");
    auto options = options_for("e2e_filter");
    options.publication.tables[t].row_filter = "active";
    options.publication.tables[t].columns = {"id", "active", "name"};
    options.publication.publish = {"insert", "truncate"};  // a filter on other columns than the
                                                           // key needs no UPDATE/DELETE
    auto target = std::make_shared<indexed_target>();
    engine_run run(options, {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    EXPECT_EQ(target->count(), 1u);
    sql("INSERT INTO e2e_filter VALUES (3, true, 'c', 's3'), (4, false, 'd', 's4')");
    ASSERT_TRUE(wait_until([&] { return target->count() == 2; }));
    const auto schema = target->schema();
    ASSERT_TRUE(schema);
    EXPECT_FALSE(schema->index_of("secret").has_value());
    EXPECT_TRUE(target->get(3).has_value());
    EXPECT_FALSE(target->get(4).has_value());
    EXPECT_FALSE(target->get(2).has_value());
}

TEST(pg_source_end_to_end, over_tls_with_verify_full) {
    drop_slot_and_publication("e2e_tls");
    sql("DROP TABLE IF EXISTS e2e_tls; CREATE TABLE e2e_tls (id int PRIMARY KEY, v text); INSERT "
        "INTO e2e_tls VALUES (1, repeat('t', 20000))");
    const table_identifier t("public", "e2e_tls");
    auto options = options_for("e2e_tls");
    options.connection.host = "localhost";
    options.connection.sslmode = "verify-full";
    options.connection.sslrootcert = shared_pg_cluster().ca_file();
    auto target = std::make_shared<indexed_target>();
    engine_run run(options, {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    // Values over 16 KiB cross several TLS records.
    sql("INSERT INTO e2e_tls VALUES (2, repeat('u', 40000))");
    expect_target_matches_table(*target, t);
    EXPECT_EQ(sql_value("SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
                        "WHERE a.application_name LIKE 'laredo:e2e_tls%' AND s.ssl"),
              "3");  // query, replication and health connections
}

TEST(pg_source_end_to_end, a_bad_password_or_certificate_is_fatal_at_once_not_retried) {
    drop_slot_and_publication("e2e_auth");
    sql("DROP TABLE IF EXISTS e2e_auth; CREATE TABLE e2e_auth (id int PRIMARY KEY)");
    const table_identifier t("public", "e2e_auth");
    for (int variant = 0; variant < 2; ++variant) {
        auto options = options_for("e2e_auth");
        if (variant == 0) {
            options.connection.user = std::string(laredo::testing::pg_cluster::password_user);
            options.connection.password = "not-the-password";
        } else {
            options.connection.host = "localhost";
            options.connection.sslmode = "verify-full";
            options.connection.sslrootcert = shared_pg_cluster().wrong_ca_file();
        }
        auto target = std::make_shared<indexed_target>();
        engine_run run(options, {{t, target}});
        run.start();
        ASSERT_TRUE(wait_until([&] {
            for (const auto& p : run.engine().pipelines())
                if (p.state == pipeline_state::error) return true;
            return false;
        })) << "variant "
            << variant;
        // One failed attempt: no retries with backoff.
        EXPECT_EQ(run.observer()->disconnects.load(), 1) << "variant " << variant;
        const auto reasons = run.observer()->reasons();
        ASSERT_FALSE(reasons.empty());
        EXPECT_THAT(reasons.front(),
                    ::testing::HasSubstr(variant == 0 ? "28P01" : "certificate verify"));
        EXPECT_THAT(reasons.front(), ::testing::Not(::testing::HasSubstr("not-the-password")));
    }
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
