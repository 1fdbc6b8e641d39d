// The source under the engine into indexed memory targets: baseline, then every kind of
// change, compared with the tables in full.

#include "source_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace laredo::sources::postgres::testing
