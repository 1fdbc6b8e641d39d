#include "laredo/row.hpp"
#include "laredo/error.hpp"

#include <gtest/gtest.h>

using namespace laredo;

namespace {
schema_ptr users_schema() {
    return row_schema::make({
        {.name = "tenant",
         .type = "text",
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 2},
        {.name = "id",
         .type = "int8",
         .primary_key = true,
         .ordinal_position = 2,
         .primary_key_ordinal = 1},
        {.name = "name", .type = "text", .ordinal_position = 3},
    });
}
}  // namespace

TEST(row, looks_up_values_through_the_shared_schema) {
    const auto schema = users_schema();
    const row r = row_builder(schema).set("id", 7).set("tenant", "acme").set("name", "ann").build();
    EXPECT_EQ(r.at("name"), value("ann"));
    EXPECT_EQ(r.find("missing"), nullptr);
    EXPECT_THROW((void)r.at("missing"), error);
    EXPECT_EQ(r.schema().get(), schema.get());
}

TEST(row, key_follows_primary_key_ordinals) {
    const row r = row_builder(users_schema()).set("id", 7).set("tenant", "acme").build();
    const std::vector<value> expected{value(7), value("acme")};
    EXPECT_EQ(r.key(), expected);
}

TEST(row, rejects_value_count_mismatch_and_duplicate_columns) {
    EXPECT_THROW(row(users_schema(), {value(1)}), error);
    EXPECT_THROW(row_schema::make({{.name = "a"}, {.name = "a"}}), error);
    EXPECT_THROW(row_schema::make({{.name = ""}}), error);
}

TEST(row, completeness_and_equality) {
    const auto schema = users_schema();
    row a = row_builder(schema).set("id", 1).build();
    EXPECT_TRUE(a.is_complete());
    row b = a;
    b.set(2, value::unchanged());
    EXPECT_FALSE(b.is_complete());
    EXPECT_NE(a, b);
    EXPECT_EQ(a, row_builder(users_schema()).set("id", 1).build());  // equal schemas, other ptr
}

TEST(row_schema, fingerprint_is_stable_and_shape_sensitive) {
    EXPECT_EQ(users_schema()->fingerprint(), users_schema()->fingerprint());
    EXPECT_NE(users_schema()->fingerprint(),
              row_schema::make({{.name = "id", .type = "int8"}})->fingerprint());
}
