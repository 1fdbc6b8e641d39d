// init: what the source discovers about tables (columns, types, keys, replica identity) and
// what it refuses, with the error text an operator acts on.

#include "source_test_support.hpp"

#include "laredo/error.hpp"
#include "laredo/testing/async.hpp"

#include <boost/asio/use_awaitable.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace laredo::sources::postgres::testing {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;

// Runs init for `tables` on a new ephemeral source; returns the schemas, or the error text.
struct init_outcome {
    table_schemas schemas;
    std::string error;
    bool fatal = false;
};

init_outcome init_source(source_options options, std::vector<table_identifier> tables) {
    init_outcome out;
    laredo::testing::run_async(1, 60s, [&](asio::io_context& ctx) -> asio::awaitable<void> {
        auto source = std::make_shared<postgres_source>(ctx.get_executor(), options);
        const source_config config{tables};
        try {
            out.schemas = co_await asio::co_spawn(source->get_executor(), source->init(config),
                                                  asio::use_awaitable);
        } catch (const boost::system::system_error& e) {
            out.error = e.what();
            out.fatal = is_fatal(e.code());
        }
        co_await asio::co_spawn(source->get_executor(), source->close(), asio::use_awaitable);
    });
    return out;
}

const column_definition& column(const table_schemas& s, const table_identifier& t,
                                const std::string& name) {
    for (const auto& c : s.at(t))
        if (c.name == name) return c;
    throw std::runtime_error("no column " + name);
}

TEST(pg_source_discovery, reports_columns_types_nullability_defaults_and_a_composite_key) {
    drop_slot_and_publication("disc_a");
    sql("DROP TABLE IF EXISTS disc_orders; CREATE TABLE disc_orders (region text, id bigint, "
        "note varchar(40), total numeric(10,2) NOT NULL DEFAULT 0, created timestamptz, "
        "doubled bigint GENERATED ALWAYS AS (id * 2) STORED, PRIMARY KEY (region, id))");
    const table_identifier t("public", "disc_orders");
    const auto out = init_source(options_for("disc_a"), {t});
    ASSERT_TRUE(out.error.empty()) << out.error;
    const auto& cols = out.schemas.at(t);
    // The generated column is not published, so it is not replicated either.
    ASSERT_EQ(cols.size(), 5u);
    EXPECT_EQ(cols[0].name, "region");
    EXPECT_EQ(cols[0].type, "text");
    EXPECT_EQ(cols[0].type_oid, 25u);
    EXPECT_TRUE(cols[0].primary_key);
    EXPECT_EQ(cols[0].primary_key_ordinal, 1);
    EXPECT_FALSE(cols[0].nullable);
    EXPECT_EQ(cols[1].name, "id");
    EXPECT_EQ(cols[1].type_oid, 20u);
    EXPECT_EQ(cols[1].primary_key_ordinal, 2);
    EXPECT_EQ(column(out.schemas, t, "note").max_length, 40);
    EXPECT_TRUE(column(out.schemas, t, "note").nullable);
    EXPECT_FALSE(column(out.schemas, t, "note").primary_key);
    EXPECT_EQ(column(out.schemas, t, "total").default_value, std::optional<std::string>("0"));
    EXPECT_FALSE(column(out.schemas, t, "total").nullable);
    EXPECT_EQ(column(out.schemas, t, "created").type, "timestamptz");
    EXPECT_EQ(column(out.schemas, t, "created").ordinal_position, 5);
}

TEST(pg_source_discovery, keys_a_table_by_its_replica_identity_index) {
    drop_slot_and_publication("disc_b");
    sql("DROP TABLE IF EXISTS disc_accounts; CREATE TABLE disc_accounts (id int PRIMARY KEY, "
        "email text NOT NULL, name text); CREATE UNIQUE INDEX disc_accounts_email ON "
        "disc_accounts (email); ALTER TABLE disc_accounts REPLICA IDENTITY USING INDEX "
        "disc_accounts_email");
    const table_identifier t("public", "disc_accounts");
    const auto out = init_source(options_for("disc_b"), {t});
    ASSERT_TRUE(out.error.empty()) << out.error;
    EXPECT_TRUE(column(out.schemas, t, "email").primary_key);
    EXPECT_EQ(column(out.schemas, t, "email").primary_key_ordinal, 1);
    EXPECT_FALSE(column(out.schemas, t, "id").primary_key);
}

TEST(pg_source_discovery, keys_a_full_identity_table_without_key_by_configured_columns) {
    drop_slot_and_publication("disc_c");
    sql("DROP TABLE IF EXISTS disc_events; CREATE TABLE disc_events (a int, b text, c text); "
        "ALTER TABLE disc_events REPLICA IDENTITY FULL");
    const table_identifier t("public", "disc_events");
    auto options = options_for("disc_c");
    options.key_columns[t] = {"b", "a"};
    const auto out = init_source(options, {t});
    ASSERT_TRUE(out.error.empty()) << out.error;
    EXPECT_EQ(column(out.schemas, t, "b").primary_key_ordinal, 1);
    EXPECT_EQ(column(out.schemas, t, "a").primary_key_ordinal, 2);
    EXPECT_FALSE(column(out.schemas, t, "c").primary_key);
}

TEST(pg_source_discovery, refuses_a_table_without_any_key_saying_what_to_do) {
    drop_slot_and_publication("disc_d");
    sql("DROP TABLE IF EXISTS disc_nokey; CREATE TABLE disc_nokey (a int, b text)");
    const auto out = init_source(options_for("disc_d"), {table_identifier("public", "disc_nokey")});
    EXPECT_THAT(out.error, HasSubstr("public.disc_nokey"));
    EXPECT_THAT(out.error, HasSubstr("no primary key"));
    EXPECT_THAT(out.error, HasSubstr("key_columns"));
    EXPECT_TRUE(out.fatal);
}

TEST(pg_source_discovery, refuses_a_table_whose_identity_would_break_application_writes) {
    drop_slot_and_publication("disc_e");
    sql("DROP TABLE IF EXISTS disc_noident; CREATE TABLE disc_noident (a int PRIMARY KEY, b "
        "text); ALTER TABLE disc_noident REPLICA IDENTITY NOTHING");
    const table_identifier t("public", "disc_noident");
    const auto out = init_source(options_for("disc_e"), {t});
    EXPECT_THAT(out.error, HasSubstr("REPLICA IDENTITY NOTHING"));
    EXPECT_THAT(out.error, HasSubstr("application's own UPDATE and DELETE"));
    EXPECT_TRUE(out.fatal);
    // Nothing was published: the application's writes still work.
    EXPECT_EQ(sql_value("SELECT count(*) FROM pg_publication WHERE pubname = 'disc_e_pub'"), "0");
    sql("INSERT INTO disc_noident VALUES (1, 'x'); UPDATE disc_noident SET b = 'y'");

    // A configured key does not help a DEFAULT identity without a primary key either.
    drop_slot_and_publication("disc_e2");
    sql("DROP TABLE IF EXISTS disc_nopk; CREATE TABLE disc_nopk (a int, b text)");
    auto options = options_for("disc_e2");
    options.key_columns[table_identifier("public", "disc_nopk")] = {"a"};
    const auto again = init_source(options, {table_identifier("public", "disc_nopk")});
    EXPECT_THAT(again.error, HasSubstr("REPLICA IDENTITY DEFAULT but no primary key"));
    // Publishing only inserts is fine.
    options.publication.publish = {"insert", "truncate"};
    const auto inserts_only = init_source(options, {table_identifier("public", "disc_nopk")});
    EXPECT_TRUE(inserts_only.error.empty()) << inserts_only.error;
}

TEST(pg_source_discovery, an_unknown_table_or_a_view_is_an_error_naming_it) {
    drop_slot_and_publication("disc_f");
    const auto missing =
        init_source(options_for("disc_f"), {table_identifier("public", "no_such")});
    EXPECT_THAT(missing.error, HasSubstr("public.no_such"));
    EXPECT_THAT(missing.error, HasSubstr("does not exist"));
    EXPECT_TRUE(missing.fatal);

    sql("DROP VIEW IF EXISTS disc_view; CREATE VIEW disc_view AS SELECT 1 AS a");
    const auto view = init_source(options_for("disc_f"), {table_identifier("public", "disc_view")});
    EXPECT_THAT(view.error, HasSubstr("is a view"));
}

TEST(pg_source_discovery, a_role_without_replication_is_told_the_grant_it_needs) {
    drop_slot_and_publication("disc_g");
    sql("DROP ROLE IF EXISTS disc_reader; CREATE ROLE disc_reader LOGIN PASSWORD 'reader-pw'");
    auto options = options_for("disc_g");
    options.connection.user = "disc_reader";
    options.connection.password = "reader-pw";
    const auto out = init_source(options, {table_identifier("public", "disc_orders")});
    EXPECT_THAT(out.error, HasSubstr("ALTER ROLE \"disc_reader\" REPLICATION"));
    EXPECT_THAT(out.error, ::testing::Not(HasSubstr("reader-pw")));
    EXPECT_TRUE(out.fatal);
}

TEST(pg_source_discovery, a_column_list_limits_the_columns_and_must_keep_the_key) {
    drop_slot_and_publication("disc_h");
    sql("DROP TABLE IF EXISTS disc_wide; CREATE TABLE disc_wide (id int PRIMARY KEY, a text, "
        "secret text)");
    const table_identifier t("public", "disc_wide");
    auto options = options_for("disc_h");
    options.publication.tables[t].columns = {"id", "a"};
    const auto out = init_source(options, {t});
    ASSERT_TRUE(out.error.empty()) << out.error;
    ASSERT_EQ(out.schemas.at(t).size(), 2u);
    EXPECT_EQ(out.schemas.at(t)[1].name, "a");

    drop_slot_and_publication("disc_h");
    options.publication.tables[t].columns = {"a", "secret"};
    const auto keyless = init_source(options, {t});
    EXPECT_THAT(keyless.error, HasSubstr("key column \"id\""));
}

TEST(pg_source_discovery, no_free_replication_slot_is_an_error_naming_the_setting) {
    drop_slot_and_publication("disc_slots");
    sql("DROP TABLE IF EXISTS disc_slots; CREATE TABLE disc_slots (id int PRIMARY KEY)");
    // Take every free slot.
    const int free_slots =
        std::stoi(sql_value("SELECT current_setting('max_replication_slots')::int - count(*) FROM "
                            "pg_replication_slots"));
    for (int i = 0; i < free_slots; ++i)
        sql("SELECT pg_create_physical_replication_slot('disc_fill_" + std::to_string(i) + "')");
    const auto out =
        init_source(options_for("disc_slots"), {table_identifier("public", "disc_slots")});
    sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name "
        "LIKE 'disc_fill_%'");
    EXPECT_THAT(out.error, HasSubstr("no free replication slot"));
    EXPECT_THAT(out.error, HasSubstr("max_replication_slots"));
    EXPECT_TRUE(out.fatal);
}

TEST(pg_source_discovery, wal_level_below_logical_is_an_error_naming_the_setting) {
    // A cluster of its own, without logical decoding.
    laredo::testing::pg_cluster_options o;
    o.name = "wal-replica";
    o.settings = {"wal_level = replica"};
    laredo::testing::pg_cluster replica_only(o);
    auto options = options_for("disc_wal");
    options.connection.port = replica_only.port();
    const auto out = init_source(options, {table_identifier("public", "anything")});
    EXPECT_THAT(out.error, HasSubstr("wal_level is 'replica'"));
    EXPECT_THAT(out.error, HasSubstr("ALTER SYSTEM SET wal_level = logical"));
    EXPECT_TRUE(out.fatal);
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
