#include "laredo/snapshot/jsonl_serializer.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"
#include "snapshot_test_support.hpp"

#include <boost/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace laredo::snapshots {
namespace {

using namespace laredo::snapshots::testing;
using ::testing::HasSubstr;

class string_sink final : public byte_sink {
  public:
    void write(std::string_view bytes) override {
        text.append(bytes);
        ++writes;
    }
    std::string text;
    int writes = 0;
};

// Hands out at most `chunk` bytes per read, so lines straddle every buffer boundary.
class string_source final : public byte_source {
  public:
    explicit string_source(std::string text, std::size_t chunk = 1 << 20)
        : text_(std::move(text)), chunk_(chunk) {}
    std::size_t read(char* buffer, std::size_t size) override {
        const auto n = std::min({size, chunk_, text_.size() - pos_});
        std::memcpy(buffer, text_.data() + pos_, n);
        pos_ += n;
        return n;
    }

  private:
    std::string text_;
    std::size_t chunk_;
    std::size_t pos_ = 0;
};

std::string write(const snapshot_table& t) {
    string_sink sink;
    jsonl_serializer{}.write(t, sink);
    return sink.text;
}

snapshot_table read(std::string text, std::size_t chunk = 1 << 20) {
    string_source source(std::move(text), chunk);
    return jsonl_serializer{}.read(source, "kinds.jsonl");
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (auto nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
        lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    EXPECT_EQ(start, text.size()) << "the text does not end with a newline";
    return lines;
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << "\"" << from << "\" not found";
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
}

// The error a read throws, for assertions on its code and message.
laredo::error read_error(std::string text) {
    try {
        read(std::move(text));
    } catch (const laredo::error& e) {
        return e;
    }
    ADD_FAILURE() << "the read succeeded";
    return laredo::error(errc::invalid_argument, "no error");
}

TEST(jsonl_serializer, round_trips_every_value_kind) {
    const auto t = every_kind_table();
    const auto loaded = read(write(t));
    expect_same_table(t, loaded);
    EXPECT_TRUE(loaded.rows[2][4].is_unchanged());
    EXPECT_EQ(loaded.rows[2][9].get_type(), value::type::null);
}

TEST(jsonl_serializer, round_trips_when_lines_arrive_a_few_bytes_at_a_time) {
    const auto t = every_kind_table();
    for (const std::size_t chunk : {1, 2, 7, 64}) {
        expect_same_table(t, read(write(t), chunk));
    }
}

TEST(jsonl_serializer, writes_a_header_one_line_per_row_and_a_trailer) {
    const auto t = every_kind_table();
    const auto text = write(t);
    const auto lines = lines_of(text);
    ASSERT_EQ(lines.size(), t.rows.size() + 2);

    const auto header = boost::json::parse(lines.front()).as_object();
    EXPECT_EQ(header.at("format").as_string(), "laredo.snapshot.jsonl");
    EXPECT_EQ(header.at("version").as_int64(), 1);
    EXPECT_EQ(header.at("pipeline_id").as_string(), "pg:public.kinds:memory.indexed");
    EXPECT_EQ(header.at("source_id").as_string(), "pg");
    EXPECT_EQ(header.at("table").at("schema").as_string(), "public");
    EXPECT_EQ(header.at("table").at("table").as_string(), "kinds");
    EXPECT_EQ(header.at("target_type").as_string(), "memory.indexed");
    EXPECT_EQ(header.at("position").as_string(), "0/16B3748:3");
    EXPECT_EQ(header.at("columns").as_array().size(), t.info.columns.size());
    EXPECT_EQ(header.at("schema_fingerprint").as_string(), json::to_hex(t.schema_fingerprint));
    EXPECT_EQ(header.at("indexes").as_array().size(), 2u);

    const auto first = boost::json::parse(lines[1]).as_object();
    EXPECT_EQ(first.at("id").as_int64(), 1);
    EXPECT_EQ(first.at("t").as_string(), "ann");

    const auto trailer = boost::json::parse(lines.back()).as_object();
    EXPECT_EQ(trailer.at("rows").to_number<std::uint64_t>(), t.rows.size());
    const auto body = text.substr(0, text.size() - lines.back().size() - 1);
    EXPECT_EQ(trailer.at("crc32c").as_string(), json::to_hex(json::crc32c(body)));
}

TEST(jsonl_serializer, output_is_valid_utf8_even_for_invalid_text) {
    const auto text = write(every_kind_table());
    EXPECT_TRUE(json::is_valid_utf8(text));
    EXPECT_EQ(text.find('\xff'), std::string::npos);
}

TEST(jsonl_serializer, streams_rows_to_the_sink_one_at_a_time) {
    const auto schema = row_schema::make({column("id", "int8", 1)});
    std::vector<row> rows;
    for (int i = 0; i < 1000; ++i) rows.emplace_back(schema, std::vector<value>{i});
    string_sink sink;
    jsonl_serializer{}.write(make_table("p", "s", {"public", "n"}, "t", "", rows), sink);
    // Header, rows and trailer each reach the sink as they are encoded.
    EXPECT_GE(sink.writes, 1000);
}

TEST(jsonl_serializer, round_trips_an_empty_table) {
    auto t = make_table("p:public.e:t", "p", {"public", "e"}, "t", "", {});
    t.info.columns = {column("id", "int4", 1), column("v", "text")};
    t.schema_fingerprint = row_schema(t.info.columns).fingerprint();
    const auto loaded = read(write(t));
    expect_same_table(t, loaded);
    EXPECT_EQ(lines_of(write(t)).size(), 2u);
}

TEST(jsonl_serializer, round_trips_rows_with_megabytes_of_text) {
    const auto schema = row_schema::make({column("id", "int8", 1), column("body", "text")});
    std::string big(3 * 1024 * 1024 + 17, 'x');
    for (std::size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
    std::vector<row> rows{row(schema, {1, big}), row(schema, {2, "small"}),
                          row(schema, {3, big + "\xe2\x9c\x93"})};
    const auto t = make_table("p", "s", {"public", "big"}, "t", "7", rows);
    expect_same_table(t, read(write(t)));
}

TEST(jsonl_serializer, takes_columns_from_the_rows_when_the_info_has_none) {
    auto t = every_kind_table();
    t.info.columns.clear();
    t.schema_fingerprint = 0;
    const auto loaded = read(write(t));
    EXPECT_EQ(loaded.info.columns, every_kind_columns());
    EXPECT_EQ(loaded.schema_fingerprint, every_kind_schema()->fingerprint());
    expect_same_rows(t.rows, loaded.rows);
}

TEST(jsonl_serializer, rejects_empty_input) {
    const auto e = read_error("");
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(), HasSubstr("kinds.jsonl: the file is empty"));
}

TEST(jsonl_serializer, rejects_a_file_cut_inside_a_line) {
    const auto text = write(every_kind_table());
    const auto e = read_error(text.substr(0, text.size() / 2));
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(), HasSubstr("kinds.jsonl: line "));
    EXPECT_THAT(e.what(), HasSubstr("truncated"));
}

TEST(jsonl_serializer, rejects_a_file_cut_between_lines) {
    const auto text = write(every_kind_table());
    const auto lines = lines_of(text);
    // Without the trailer: the last row is taken for it and refused.
    const auto cut = text.substr(0, text.size() - lines.back().size() - 1);
    const auto e = read_error(cut);
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(), HasSubstr("line 6: the last line is not the trailer"));
    EXPECT_THAT(e.what(), HasSubstr("truncated"));

    const auto header_only = read_error(lines.front() + "\n");
    EXPECT_THAT(header_only.what(), HasSubstr("no trailer after the header"));
}

TEST(jsonl_serializer, rejects_a_flipped_byte) {
    const auto text = write(every_kind_table());
    // "ann" becomes "bnn": still valid JSON and a valid row, so only the checksum sees it.
    const auto e = read_error(replace_once(text, "\"ann\"", "\"bnn\""));
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(), HasSubstr("line 7: checksum mismatch"));
}

TEST(jsonl_serializer, rejects_a_damaged_row_naming_its_line) {
    const auto text = write(every_kind_table());
    const auto e = read_error(replace_once(text, "\"ann\"", "\"ann"));
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(), HasSubstr("kinds.jsonl: line 2: not JSON"));

    const auto missing = read_error(replace_once(text, "\"t\":\"ann\",", ""));
    EXPECT_THAT(missing.what(), HasSubstr("kinds.jsonl: line 2: bad row"));
}

TEST(jsonl_serializer, rejects_a_wrong_row_count) {
    const auto text = write(every_kind_table());
    const auto e = read_error(replace_once(text, "\"rows\":5", "\"rows\":4"));
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(), HasSubstr("row count mismatch: the trailer says 4 rows, the file has 5"));
}

TEST(jsonl_serializer, rejects_a_header_fingerprint_that_does_not_match_its_columns) {
    const auto t = every_kind_table();
    const auto text = write(t);
    const auto e = read_error(replace_once(text, json::to_hex(t.schema_fingerprint),
                                           json::to_hex(t.schema_fingerprint ^ 1)));
    EXPECT_EQ(e.code(), make_error_code(errc::schema_mismatch));
    EXPECT_THAT(e.what(), HasSubstr("kinds.jsonl: line 1: schema fingerprint"));
    EXPECT_THAT(e.what(), HasSubstr("does not match its columns"));
}

TEST(jsonl_serializer, rejects_an_unknown_format_version) {
    const auto text = write(every_kind_table());
    const auto e = read_error(replace_once(text, "\"version\":1", "\"version\":2"));
    EXPECT_EQ(e.code(), make_error_code(errc::corrupt_data));
    EXPECT_THAT(e.what(),
                HasSubstr("line 1: unknown format version 2 (this build reads version 1)"));

    const auto other = read_error(replace_once(text, "laredo.snapshot.jsonl", "something.else"));
    EXPECT_THAT(other.what(), HasSubstr("unknown format \"something.else\""));
}

TEST(jsonl_serializer, write_refuses_rows_of_another_schema) {
    auto t = every_kind_table();
    const auto other = row_schema::make({column("id", "int8", 1)});
    t.rows.emplace_back(other, std::vector<value>{9});
    string_sink sink;
    try {
        jsonl_serializer{}.write(t, sink);
        FAIL() << "the write succeeded";
    } catch (const laredo::error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::schema_mismatch));
        EXPECT_THAT(e.what(), HasSubstr("row 6 does not have the table's columns"));
    }
}

TEST(jsonl_serializer, write_refuses_a_fingerprint_of_other_columns) {
    auto t = every_kind_table();
    t.schema_fingerprint ^= 0x10;
    string_sink sink;
    try {
        jsonl_serializer{}.write(t, sink);
        FAIL() << "the write succeeded";
    } catch (const laredo::error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::schema_mismatch));
        EXPECT_THAT(e.what(), HasSubstr("does not match its columns"));
    }
}

TEST(jsonl_serializer, write_refuses_a_position_that_is_not_utf8) {
    auto t = every_kind_table();
    t.position = "bad\xff";
    string_sink sink;
    try {
        jsonl_serializer{}.write(t, sink);
        FAIL() << "the write succeeded";
    } catch (const laredo::error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
        EXPECT_THAT(e.what(), HasSubstr("the position is not valid UTF-8"));
    }
}

}  // namespace
}  // namespace laredo::snapshots
