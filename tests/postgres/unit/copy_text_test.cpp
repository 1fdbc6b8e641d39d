// copy_text_parser: COPY ... TO STDOUT text format, escapes and NULLs.

#include "laredo/sources/postgres/copy_text.hpp"
#include "laredo/error.hpp"

#include <gtest/gtest.h>

#include <string>

namespace laredo::sources::postgres {
namespace {

TEST(copy_text, splits_fields_and_reads_null) {
    copy_text_parser p;
    const auto& f = p.parse("1\tann\t\\N\t");
    ASSERT_EQ(f.size(), 4u);
    EXPECT_EQ(f[0], "1");
    EXPECT_EQ(f[1], "ann");
    EXPECT_FALSE(f[2].has_value());
    ASSERT_TRUE(f[3].has_value());
    EXPECT_EQ(*f[3], "");  // an empty string is not NULL
}

TEST(copy_text, undoes_every_escape) {
    copy_text_parser p;
    const auto& f = p.parse("a\\tb\\nc\\\\d\\r\\b\\f\\v\tx\\101\\7y\t\\x41\\x4a\\xg\t\\N\\q");
    ASSERT_EQ(f.size(), 4u);
    EXPECT_EQ(*f[0], std::string("a\tb\nc\\d\r\b\f\v"));
    EXPECT_EQ(*f[1], std::string("xA\7y"));
    EXPECT_EQ(*f[2], std::string("AJxg"));
    EXPECT_EQ(*f[3], std::string("Nq"));  // only a field of exactly \N is NULL
}

TEST(copy_text, unescaped_fields_view_the_line_and_escaped_ones_stay_valid_together) {
    copy_text_parser p;
    const std::string line = "plain\tone\\ttab\ttwo\\\\slashes\tmore";
    const auto& f = p.parse(line);
    ASSERT_EQ(f.size(), 4u);
    EXPECT_EQ(f[0]->data(), line.data());
    EXPECT_EQ(*f[1], "one\ttab");
    EXPECT_EQ(*f[2], "two\\slashes");
    EXPECT_EQ(*f[3], "more");
}

TEST(copy_text, many_escaped_fields_in_one_line) {
    copy_text_parser p;
    std::string line;
    for (int i = 0; i < 40; ++i) line += (i ? "\t" : "") + std::to_string(i) + "\\n";
    const auto& f = p.parse(line, 40);
    ASSERT_EQ(f.size(), 40u);
    for (int i = 0; i < 40; ++i) EXPECT_EQ(*f[i], std::to_string(i) + "\n");
}

TEST(copy_text, a_wrong_field_count_or_a_dangling_escape_is_corrupt_data) {
    copy_text_parser p;
    try {
        p.parse("1\t2", 3);
        FAIL() << "accepted 2 fields where 3 were expected";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), errc::corrupt_data);
        EXPECT_NE(std::string(e.what()).find("2 fields, expected 3"), std::string::npos);
    }
    EXPECT_THROW(p.parse("abc\\"), error);
}

TEST(copy_text, takes_whole_lines_and_refuses_a_partial_one) {
    std::string_view chunk = "1\ta\n2\tb\n";
    auto first = copy_text_parser::take_line(chunk);
    auto second = copy_text_parser::take_line(chunk);
    EXPECT_EQ(first, "1\ta");
    EXPECT_EQ(second, "2\tb");
    EXPECT_FALSE(copy_text_parser::take_line(chunk).has_value());
    std::string_view partial = "3\tc";
    EXPECT_THROW(copy_text_parser::take_line(partial), error);
}

}  // namespace
}  // namespace laredo::sources::postgres
