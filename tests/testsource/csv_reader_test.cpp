// The RFC 4180 splitter and the change-log line format of the CSV example source.
#include "csv_reader.hpp"
#include "change_log.hpp"

#include "laredo/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace laredo::examples {
namespace {

using fields = std::vector<std::string>;

std::vector<fields> read_all(std::string_view text) {
    csv_reader reader{std::string(text)};
    std::vector<fields> out;
    while (auto record = reader.next()) out.push_back(*record);
    return out;
}

boost::system::error_code code_of_reading(std::string_view text, std::string* message = nullptr) {
    try {
        read_all(text);
    } catch (const laredo::error& e) {
        if (message) *message = e.what();
        return e.code();
    }
    return {};
}

TEST(csv_reader, splits_plain_records_on_commas_and_line_ends) {
    EXPECT_EQ(read_all("a,b,c\n1,2,3\n"), (std::vector<fields>{{"a", "b", "c"}, {"1", "2", "3"}}));
    EXPECT_EQ(read_all("a,b\r\n1,2"), (std::vector<fields>{{"a", "b"}, {"1", "2"}}));
    EXPECT_TRUE(read_all("").empty());
}

TEST(csv_reader, keeps_empty_fields_including_a_trailing_one) {
    EXPECT_EQ(read_all(",x,\n"), (std::vector<fields>{{"", "x", ""}}));
    EXPECT_EQ(read_all("a,"), (std::vector<fields>{{"a", ""}}));
    EXPECT_EQ(read_all("\n"), (std::vector<fields>{{""}})) << "a blank line is one empty field";
}

TEST(csv_reader, quoted_fields_hold_commas_doubled_quotes_and_line_breaks) {
    EXPECT_EQ(read_all("\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\n3,\"\",x\n"),
              (std::vector<fields>{{"a,b", "say \"hi\"", "two\nlines"}, {"3", "", "x"}}));
    EXPECT_EQ(read_all("\"\"\"\""), (std::vector<fields>{{"\""}}));
}

TEST(csv_reader, a_quote_inside_an_unquoted_field_is_kept) {
    EXPECT_EQ(read_all("5\" disk,x\n"), (std::vector<fields>{{"5\" disk", "x"}}));
}

TEST(csv_reader, counts_records_not_lines) {
    csv_reader reader(std::string("\"a\nb\",1\nc,2\n"));
    reader.next();
    reader.next();
    EXPECT_EQ(reader.record_number(), 2u);
}

TEST(csv_reader, an_unterminated_quote_is_corrupt_data_naming_the_record) {
    std::string message;
    EXPECT_EQ(code_of_reading("a,b\n\"open,c\n", &message), errc::corrupt_data);
    EXPECT_NE(message.find("record 2"), std::string::npos) << message;
    EXPECT_NE(message.find("unterminated"), std::string::npos) << message;
}

TEST(csv_reader, text_after_a_closing_quote_is_corrupt_data) {
    std::string message;
    EXPECT_EQ(code_of_reading("\"a\"b,c\n", &message), errc::corrupt_data);
    EXPECT_NE(message.find("after the closing quote"), std::string::npos) << message;
}

// ---- change-log lines ----

class change_line : public ::testing::Test {
  protected:
    const table_identifier users{"public", "users"};
    const schema_ptr schema = row_schema::make({
        {"id", "text", 0, false, true, 1, 1},
        {"name", "text", 0, true, false, 2, 0},
        {"note", "text", 0, true, false, 3, 0},
    });
    const std::map<table_identifier, schema_ptr> schemas{{users, schema}};

    std::string problem_of(std::string_view line) {
        try {
            parse_change_line(line, 7, schemas);
        } catch (const laredo::error& e) {
            EXPECT_EQ(e.code(), errc::corrupt_data);
            return e.what();
        }
        ADD_FAILURE() << "accepted: " << line;
        return {};
    }
};

TEST_F(change_line, insert_sets_named_columns_and_leaves_the_rest_null) {
    const auto e = parse_change_line("INSERT,public.users,id=1,\"name=Ann, Jr.\"", 1, schemas);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->action, change_action::insert);
    EXPECT_EQ(e->table, users);
    EXPECT_EQ(e->new_values, row(schema, {"1", "Ann, Jr.", value{}}));
    EXPECT_TRUE(e->old_values.empty());
    EXPECT_TRUE(e->pos.empty());
}

TEST_F(change_line, update_leaves_unnamed_columns_unchanged) {
    const auto e = parse_change_line("UPDATE,public.users,id=1,\"note=a \"\"b\"\"\"", 1, schemas);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->action, change_action::update);
    EXPECT_TRUE(e->new_values.at("name").is_unchanged());
    EXPECT_EQ(e->new_values.at("note"), value("a \"b\""));
}

TEST_F(change_line, delete_carries_the_key_as_old_values_and_truncate_nothing) {
    const auto d = parse_change_line("DELETE,public.users,id=9", 1, schemas);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->action, change_action::delete_);
    EXPECT_TRUE(d->new_values.empty());
    EXPECT_EQ(d->identity().at("id"), value("9"));
    const auto t = parse_change_line("TRUNCATE,public.users", 1, schemas);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->action, change_action::truncate);
}

TEST_F(change_line, lines_of_other_tables_are_skipped) {
    EXPECT_FALSE(parse_change_line("INSERT,public.other,id=1", 1, schemas).has_value());
}

TEST_F(change_line, malformed_lines_name_their_number_and_problem) {
    EXPECT_NE(problem_of("UPSERT,public.users,id=1").find("line 7: unknown action \"UPSERT\""),
              std::string::npos);
    EXPECT_NE(problem_of("INSERT").find("line 7: no table"), std::string::npos);
    EXPECT_NE(problem_of("INSERT,users,id=1").find("\"users\" is not schema.table"),
              std::string::npos);
    EXPECT_NE(problem_of("INSERT,public.users,id").find("\"id\" is not column=value"),
              std::string::npos);
    EXPECT_NE(problem_of("INSERT,public.users,id=1,age=3").find("no column \"age\""),
              std::string::npos);
    EXPECT_NE(problem_of("DELETE,public.users,name=x").find("needs the key column \"id\""),
              std::string::npos);
    EXPECT_NE(problem_of("TRUNCATE,public.users,id=1").find("TRUNCATE takes no columns"),
              std::string::npos);
    EXPECT_NE(problem_of("INSERT,public.users,\"id=1").find("line 7: record 1: unterminated"),
              std::string::npos);
}

}  // namespace
}  // namespace laredo::examples
