#pragma once

// Shared pieces of the snapshot tests: a real temporary directory, a schema with a column of
// every value kind, rows that exercise every alternative, and file helpers for damaging files.

#include "laredo/row.hpp"
#include "laredo/snapshot_store.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace laredo::snapshots::testing {

// A fresh directory, removed with its contents.
class temp_dir : public laredo::testing::temp_dir {
  public:
    temp_dir() : laredo::testing::temp_dir("laredo-snapshot") {}
};

inline std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_all(const std::filesystem::path& p, const std::string& content) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
}

inline column_definition column(std::string name, std::string type, int pk_ordinal = 0) {
    column_definition c;
    c.name = std::move(name);
    c.type = std::move(type);
    c.primary_key = pk_ordinal > 0;
    c.primary_key_ordinal = pk_ordinal;
    c.nullable = pk_ordinal == 0;
    return c;
}

// One column per value kind, named after the PostgreSQL type it stands for.
inline std::vector<column_definition> every_kind_columns() {
    auto id = column("id", "int8", 1);
    id.type_oid = 20;
    id.ordinal_position = 1;
    auto t = column("t", "text");
    t.default_value = "'x'::text";
    t.max_length = 64;
    return {id,
            column("b", "bool"),
            column("i", "int8"),
            column("f", "float8"),
            column("n", "numeric"),
            t,
            column("by", "bytea"),
            column("d", "date"),
            column("tm", "time"),
            column("ts", "timestamp"),
            column("tz", "timestamptz"),
            column("iv", "interval"),
            column("j", "jsonb"),
            column("a", "_int4")};
}

inline schema_ptr every_kind_schema() { return row_schema::make(every_kind_columns()); }

// Rows covering every alternative of laredo::value: plain and extreme values, null,
// unchanged, NaN and infinities, invalid UTF-8 text, bytes with zeros, and values whose
// alternative is not the column's natural one.
inline std::vector<row> every_kind_rows(const schema_ptr& schema) {
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<row> rows;
    rows.emplace_back(
        schema, std::vector<value>{
                    std::int64_t{1}, true, std::int64_t{42}, 1.5, numeric_value{"12.500"},
                    std::string("ann"), bytes_value{std::string("\x00\x01\xff", 3)},
                    date_value{19723}, time_value{47109500000}, timestamp_value{1704164645123456},
                    timestamptz_value{1704164645123456}, interval_value{"1 day 02:00:00"},
                    json_value{R"({"a": [1, 2.50, "x"]})"}, array_value{"{1,2,NULL}"}});
    rows.emplace_back(
        schema, std::vector<value>{std::int64_t{2}, false, std::numeric_limits<std::int64_t>::max(),
                                   std::numeric_limits<double>::quiet_NaN(), numeric_value{"NaN"},
                                   std::string("caf\xc3\xa9 \xff\xfe broken \xe2\x82"),
                                   bytes_value{""}, date_value{date_value::plus_infinity},
                                   time_value{0}, timestamp_value{timestamp_value::minus_infinity},
                                   timestamptz_value{timestamptz_value::plus_infinity},
                                   interval_value{"-3 mons"}, json_value{"[]"}, array_value{"{}"}});
    rows.emplace_back(
        schema,
        std::vector<value>{std::int64_t{3}, value(), std::numeric_limits<std::int64_t>::min(), inf,
                           value::unchanged(), value::unchanged(), value(),
                           date_value{date_value::minus_infinity}, value(), value(),
                           timestamptz_value{timestamptz_value::minus_infinity}, value(),
                           value::unchanged(), value()});
    rows.emplace_back(schema,
                      std::vector<value>{std::int64_t{4}, std::string("not a bool"),
                                         std::string("text in an int column"), -inf, 0.1,
                                         std::int64_t{9007199254740993}, 2.5, timestamptz_value{-1},
                                         std::string("\"quoted\"\n\ttabbed\\"), date_value{-719528},
                                         std::int64_t{7}, json_value{"not json at all"},
                                         std::string("plain"), bytes_value{"\x7f"}});
    rows.emplace_back(schema,
                      std::vector<value>{
                          std::int64_t{5}, true, std::int64_t{-1}, -0.0, numeric_value{"-0.000001"},
                          std::string("\xe2\x9c\x93 \xf0\x9f\x98\x80 \x01\x1f"),
                          bytes_value{std::string(300, '\0')}, date_value{2932896},
                          time_value{86399999999}, timestamp_value{-62135596800000000},
                          timestamptz_value{253402300799999999}, interval_value{"00:00:00.000001"},
                          json_value{"{\"k\":\"\xff\"}"}, array_value{"{\"a b\",NULL}"}});
    return rows;
}

inline snapshot_table make_table(std::string pipeline_id, std::string source_id,
                                 table_identifier table, std::string target_type,
                                 std::string position, std::vector<row> rows) {
    snapshot_table t;
    t.pipeline_id = std::move(pipeline_id);
    t.source_id = std::move(source_id);
    t.info.table = std::move(table);
    t.info.target_type = std::move(target_type);
    t.position = std::move(position);
    if (!rows.empty()) {
        t.info.columns = rows.front().schema()->columns();
        t.schema_fingerprint = rows.front().schema()->fingerprint();
    }
    t.info.row_count = rows.size();
    t.rows = std::move(rows);
    return t;
}

inline snapshot_table every_kind_table() {
    const auto schema = every_kind_schema();
    auto t = make_table("pg:public.kinds:memory.indexed", "pg", {"public", "kinds"},
                        "memory.indexed", "0/16B3748:3", every_kind_rows(schema));
    t.info.indexes = {{"by_i", {"i"}, false}, {"by_t_b", {"t", "b"}, true}};
    return t;
}

// Rows compare by value (NaN equal to NaN); this prints the first difference.
inline void expect_same_rows(const std::vector<row>& expected, const std::vector<row>& actual) {
    ASSERT_EQ(expected.size(), actual.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(expected[i], actual[i])
            << "row " << i << ": expected " << expected[i].debug_string() << ", got "
            << actual[i].debug_string();
    }
}

inline void expect_same_table(const snapshot_table& expected, const snapshot_table& actual) {
    EXPECT_EQ(expected.pipeline_id, actual.pipeline_id);
    EXPECT_EQ(expected.source_id, actual.source_id);
    EXPECT_EQ(expected.info.table, actual.info.table);
    EXPECT_EQ(expected.info.target_type, actual.info.target_type);
    EXPECT_EQ(expected.info.columns, actual.info.columns);
    ASSERT_EQ(expected.info.indexes.size(), actual.info.indexes.size());
    for (std::size_t i = 0; i < expected.info.indexes.size(); ++i) {
        EXPECT_EQ(expected.info.indexes[i].name, actual.info.indexes[i].name);
        EXPECT_EQ(expected.info.indexes[i].fields, actual.info.indexes[i].fields);
        EXPECT_EQ(expected.info.indexes[i].unique, actual.info.indexes[i].unique);
    }
    EXPECT_EQ(expected.rows.size(), actual.info.row_count);
    EXPECT_EQ(expected.position, actual.position);
    EXPECT_EQ(expected.schema_fingerprint, actual.schema_fingerprint);
    expect_same_rows(expected.rows, actual.rows);
}

}  // namespace laredo::snapshots::testing
