#include "laredo/table_identifier.hpp"
#include "laredo/error.hpp"

#include <gtest/gtest.h>

#include <unordered_set>

using laredo::table_identifier;

TEST(table_identifier, parses_schema_dot_table) {
    const auto t = table_identifier::parse("public.users");
    EXPECT_EQ(t.schema, "public");
    EXPECT_EQ(t.table, "users");
    EXPECT_EQ(t.to_string(), "public.users");
}

TEST(table_identifier, splits_on_the_first_dot) {
    const auto t = table_identifier::parse("a.b.c");
    EXPECT_EQ(t.schema, "a");
    EXPECT_EQ(t.table, "b.c");
}

TEST(table_identifier, rejects_malformed_text_naming_it) {
    for (const char* bad : {"", "users", ".users", "public.", "."}) {
        try {
            (void)table_identifier::parse(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const laredo::error& e) {
            EXPECT_EQ(e.code(), laredo::errc::invalid_argument);
            EXPECT_NE(std::string(e.what()).find(std::string("\"") + bad + "\""), std::string::npos)
                << e.what();
        }
    }
}

TEST(table_identifier, is_usable_as_a_key) {
    std::unordered_set<table_identifier> set{{"a", "b"}, {"a", "c"}, {"a", "b"}};
    EXPECT_EQ(set.size(), 2u);
    EXPECT_LT(table_identifier("a", "b"), table_identifier("a", "c"));
}
