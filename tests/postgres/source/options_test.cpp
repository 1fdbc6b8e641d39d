// source_options: defaults and validation, without a server.

#include "laredo/error.hpp"
#include "laredo/sources/postgres/source_options.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace laredo::sources::postgres {
namespace {

using ::testing::HasSubstr;

TEST(pg_source_options, defaults_are_those_of_the_go_original) {
    const source_options o;
    EXPECT_EQ(o.slot_name, "laredo_slot");
    EXPECT_EQ(o.mode, slot_mode::ephemeral);
    EXPECT_FALSE(o.always_baseline);
    EXPECT_TRUE(o.publication.create);
    EXPECT_EQ(o.publication_name(), "laredo_slot_pub");
    EXPECT_EQ(o.publication.publish,
              (std::vector<std::string>{"insert", "update", "delete", "truncate"}));
    EXPECT_NO_THROW(o.validate());
}

TEST(pg_source_options, every_problem_is_listed_at_once) {
    source_options o;
    o.slot_name = "Bad-Slot";
    o.publication.publish = {"insert", "upsert"};
    o.status_interval = std::chrono::milliseconds(0);
    o.change_batch_size = 0;
    o.key_columns[table_identifier("public", "t")] = {};
    try {
        o.validate();
        FAIL() << "accepted bad options";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), errc::invalid_config);
        const std::string what = e.what();
        EXPECT_THAT(what, HasSubstr("slot_name \"Bad-Slot\""));
        EXPECT_THAT(what, HasSubstr("unknown operation \"upsert\""));
        EXPECT_THAT(what, HasSubstr("status_interval must be positive"));
        EXPECT_THAT(what, HasSubstr("change_batch_size"));
        EXPECT_THAT(what, HasSubstr("key_columns.public.t"));
    }
}

TEST(pg_source_options, slot_modes_parse_and_print) {
    EXPECT_EQ(parse_slot_mode("stateful"), slot_mode::stateful);
    EXPECT_EQ(parse_slot_mode("ephemeral"), slot_mode::ephemeral);
    EXPECT_EQ(to_string(slot_mode::stateful), "stateful");
    EXPECT_THROW(parse_slot_mode("durable"), error);
}

TEST(pg_source_options, a_row_filter_is_one_expression) {
    source_options o;
    o.publication.tables[table_identifier("public", "t")].row_filter = "true; DROP TABLE t";
    EXPECT_THROW(o.validate(), error);
}

}  // namespace
}  // namespace laredo::sources::postgres
