// Values through the source: unchanged TOAST values kept through updates, every type the
// converter knows equal between baseline and stream, a column added mid-stream.

#include "source_test_support.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace laredo::sources::postgres::testing {
namespace {

// Text that does not compress, so PostgreSQL stores it out of line (TOAST) and an UPDATE that
// does not touch it sends it as 'u' (unchanged).
const std::string big_value_sql =
    "(SELECT string_agg(md5(random()::text || g::text), '') FROM generate_series(1, 200) g)";

void toast_case(const std::string& name, const std::string& identity) {
    drop_slot_and_publication(name);
    sql("DROP TABLE IF EXISTS " + name + "; CREATE TABLE " + name +
        " (id int PRIMARY KEY, small text, big text); ALTER TABLE " + name + " REPLICA IDENTITY " +
        identity + "; INSERT INTO " + name + " VALUES (1, 'a', " + big_value_sql + ")");
    const table_identifier t("public", name);
    auto target = std::make_shared<indexed_target>();
    engine_run run(options_for(name), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    sql("INSERT INTO " + name + " VALUES (2, 'b', " + big_value_sql + ")");
    // Neither update touches `big`: the stream sends it as unchanged.
    sql("UPDATE " + name + " SET small = 'changed' WHERE id IN (1, 2)");
    sql("UPDATE " + name + " SET small = 'again' WHERE id = 2");
    expect_target_matches_table(*target, t);
    const auto row = target->get(2);
    ASSERT_TRUE(row.has_value());
    EXPECT_GT(row->at("big").get<std::string>().size(), 2000u);
    run.stop();
}

TEST(pg_source_values, unchanged_toast_values_survive_updates_with_default_identity) {
    toast_case("val_toast_default", "DEFAULT");
}

TEST(pg_source_values, unchanged_toast_values_survive_updates_with_full_identity) {
    toast_case("val_toast_full", "FULL");
}

TEST(pg_source_values, every_known_type_reads_the_same_from_the_baseline_and_the_stream) {
    drop_slot_and_publication("val_types");
    sql("DROP TABLE IF EXISTS val_types; DROP TYPE IF EXISTS val_mood; DROP DOMAIN IF EXISTS "
        "val_positive; CREATE TYPE val_mood AS ENUM ('sad', 'happy'); CREATE DOMAIN val_positive "
        "AS int CHECK (VALUE > 0); CREATE TABLE val_types (id int PRIMARY KEY, b bool, i2 "
        "smallint, i4 int, i8 bigint, f4 real, f8 double precision, num numeric, t text, vc "
        "varchar(10), bp char(5), nm name, by bytea, d date, tm time, tmtz timetz, ts timestamp, "
        "tstz timestamptz, iv interval, u uuid, j json, jb jsonb, ai int[], at text[], mood "
        "val_mood, pos val_positive, ip inet, oid_ oid)");
    const std::string values =
        "true, -32768, 2147483647, -9223372036854775808, 1.5e-30, 'NaN', "
        "'12345678901234567890.000000001', E'tab\\there \\\\ \"quoted\" é', 'short', 'ab', "
        "'a_name', '\\x00ff10', '2024-02-29', '24:00:00', '13:05:09.5+05:30', "
        "'2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456+09', '1 year 2 mons 3 days "
        "04:05:06', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2]}', '{\"b\": {\"c\": "
        "null}}', '{1,NULL,3}', '{\"x y\",z}', 'happy', 42, '192.168.0.1/24', 4711";
    sql("INSERT INTO val_types VALUES (1, " + values +
        "); INSERT INTO val_types (id) VALUES (2); "
        "INSERT INTO val_types (id, f8, tstz, d) VALUES (3, '-Infinity', 'infinity', "
        "'-infinity')");
    const table_identifier t("public", "val_types");
    auto target = std::make_shared<indexed_target>();
    engine_run run(options_for("val_types"), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    expect_target_matches_table(*target, t);
    const auto from_baseline = target_contents(*target);
    // The same rows again, through the stream this time.
    sql("DELETE FROM val_types; INSERT INTO val_types VALUES (1, " + values +
        "); INSERT INTO val_types (id) VALUES (2); INSERT INTO val_types (id, f8, tstz, d) VALUES "
        "(3, '-Infinity', 'infinity', '-infinity')");
    // Wait for the re-insert, then compare the two readings value by value.
    ASSERT_TRUE(wait_until([&] {
        const auto now = target_contents(*target);
        return now.size() == 3 && now == from_baseline;
    })) << "after the stream: "
        << ::testing::PrintToString(target_contents(*target))
        << "\nfrom the baseline: " << ::testing::PrintToString(from_baseline);
    run.stop();
}

TEST(pg_source_values, a_column_added_mid_stream_reaches_the_target) {
    drop_slot_and_publication("val_ddl");
    sql("DROP TABLE IF EXISTS val_ddl; CREATE TABLE val_ddl (id int PRIMARY KEY, a text); INSERT "
        "INTO val_ddl VALUES (1, 'x'), (2, 'y')");
    const table_identifier t("public", "val_ddl");
    auto target = std::make_shared<indexed_target>();
    engine_run run(options_for("val_ddl"), {{t, target}});
    run.start();
    ASSERT_TRUE(run.ready());
    sql("ALTER TABLE val_ddl ADD COLUMN b int DEFAULT 7");
    sql("INSERT INTO val_ddl VALUES (3, 'z', 9)");
    ASSERT_TRUE(wait_until([&] {
        const auto s = target->schema();
        return s && s->index_of("b").has_value();
    })) << "the target never saw column b: "
        << ::testing::PrintToString(run.observer()->reasons()) << " schema changes "
        << run.observer()->schema_changes.load() << " rebaselines "
        << run.observer()->rebaselines.load() << " baselines "
        << run.observer()->baselines_started.load() << " target "
        << ::testing::PrintToString(target_contents(*target));
    // Rows stored before the change have b's default too (the table is reloaded).
    expect_target_matches_table(*target, t);
    EXPECT_GE(run.observer()->schema_changes.load(), 1);
    run.stop();
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
