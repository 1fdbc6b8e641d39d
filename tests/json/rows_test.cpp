#include "laredo/json/values.hpp"

#include "laredo/error.hpp"

#include <boost/json/serialize.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

namespace laredo::json {
namespace {

using ::testing::HasSubstr;

template <class F>
std::pair<boost::system::error_code, std::string> failure_of(F&& f) {
    try {
        f();
    } catch (const laredo::error& e) {
        return {e.code(), e.what()};
    }
    ADD_FAILURE() << "no laredo::error thrown";
    return {};
}

column_definition column(std::string name, std::string type, int key_ordinal = 0) {
    column_definition c;
    c.name = std::move(name);
    c.type = std::move(type);
    c.primary_key = key_ordinal > 0;
    c.primary_key_ordinal = key_ordinal;
    c.nullable = key_ordinal == 0;
    return c;
}

schema_ptr users_schema() {
    return row_schema::make({column("id", "int8", 1), column("name", "text"),
                             column("score", "float8"), column("born", "date")});
}

// A table with a column of every type, and a row holding one of each kind of value.
schema_ptr wide_schema() {
    return row_schema::make({
        column("id", "int4", 1),
        column("flag", "bool"),
        column("big", "int8"),
        column("ratio", "float8"),
        column("amount", "numeric"),
        column("name", "text"),
        column("blob", "bytea"),
        column("day", "date"),
        column("at", "time"),
        column("ts", "timestamp"),
        column("tstz", "timestamptz"),
        column("span", "interval"),
        column("doc", "jsonb"),
        column("tags", "_text"),
        column("bad", "varchar"),
        column("toasted", "text"),
        column("nothing", "text"),
        column("odd", "text"),
    });
}

row wide_row(const schema_ptr& schema) {
    return row(
        schema,
        {
            value(std::int64_t{1}), value(true), value(std::numeric_limits<std::int64_t>::min()),
            value(std::numeric_limits<double>::quiet_NaN()), value(numeric_value{"12.500"}),
            value(std::string("caf\xC3\xA9\0x", 7)), value(bytes_value{std::string("\0\xFF", 2)}),
            value(date_value{date_value::minus_infinity}), value(time_value{86'400'000'000}),
            value(timestamp_value{timestamp_value::plus_infinity}),
            value(timestamptz_value{1'704'164'645'123'456}), value(interval_value{"1 day"}),
            value(json_value{R"({"a": [1, 2]})"}), value(array_value{"{x,y}"}),
            value("bad \xC3 utf-8"), value::unchanged(), value(null_value{}),
            value(std::int64_t{7}),  // an int64 in a text column
        });
}

TEST(encode_row, writes_columns_in_schema_order_with_natural_forms) {
    const auto schema = users_schema();
    const row r = row_builder(schema)
                      .set("id", std::int64_t{1})
                      .set("name", "ann")
                      .set("score", 2.5)
                      .set("born", date_value{19724})
                      .build();
    EXPECT_EQ(boost::json::serialize(encode_row(r)),
              R"({"id":1,"name":"ann","score":2.5E0,"born":"2024-01-02"})");
    EXPECT_TRUE(encode_row(row{}).empty());
}

TEST(decode_row, round_trips_every_kind_of_value) {
    const auto schema = wide_schema();
    const row r = wide_row(schema);
    const auto text = boost::json::serialize(encode_row(r));
    const row back = decode_row(parse(text).as_object(), schema);
    EXPECT_EQ(back, r) << text;
    EXPECT_TRUE(back[15].is_unchanged());
}

TEST(decode_row, names_a_missing_an_unknown_column_or_a_bad_value) {
    const auto schema = users_schema();
    const std::pair<std::string_view, std::string_view> cases[] = {
        {R"({"id":1,"name":"a","score":1})", "row is missing column \"born\""},
        {R"({"id":1,"name":"a","score":1,"born":null,"extra":2})", "unknown column \"extra\""},
        {R"({"id":"x","name":"a","score":1,"born":null})", "column \"id\": invalid int64 value"},
        {R"({"id":1,"name":"a","score":1,"born":"2024-13-01"})",
         "column \"born\": invalid date value"},
    };
    for (const auto& [json, message] : cases) {
        const auto [code, what] = failure_of([&] { decode_row(parse(json).as_object(), schema); });
        EXPECT_EQ(code, errc::corrupt_data) << json;
        EXPECT_THAT(what, HasSubstr(message)) << json;
    }
}

TEST(encode_columns, round_trips_every_field) {
    std::vector<column_definition> columns = {column("id", "int4", 1), column("note", "varchar")};
    columns[0].type_oid = 23;
    columns[0].ordinal_position = 1;
    columns[0].default_value = "nextval('users_id_seq'::regclass)";
    columns[1].type_oid = 1043;
    columns[1].ordinal_position = 2;
    columns[1].max_length = 200;
    columns[1].default_value = "";
    const auto j = encode_columns(columns);
    EXPECT_EQ(boost::json::serialize(j[1]),
              R"({"name":"note","type":"varchar","type_oid":1043,"nullable":true,)"
              R"("primary_key":false,"ordinal_position":2,"primary_key_ordinal":0,)"
              R"("default_value":"","max_length":200})");
    EXPECT_EQ(decode_columns(parse(boost::json::serialize(j))), columns);
}

TEST(decode_columns, fills_defaults_for_absent_fields_and_rejects_bad_ones) {
    const auto minimal = decode_columns(parse(R"([{"name":"a","type":"text"}])"));
    ASSERT_EQ(minimal.size(), 1u);
    EXPECT_EQ(minimal[0], column("a", "text"));

    const std::pair<std::string_view, std::string_view> cases[] = {
        {R"({"name":"a"})", "columns: expected an array"},
        {R"([1])", "column 1: expected an object"},
        {R"([{"type":"text"}])", "column 1: missing \"name\""},
        {R"([{"name":"a"}])", "column \"a\": missing \"type\""},
        {R"([{"name":"a","type":"text","nullable":1}])", "\"nullable\" must be true or false"},
        {R"([{"name":"a","type":"text","type_oid":-1}])", "\"type_oid\" must be an integer"},
        {R"([{"name":"a","type":"text","max_length":1.5}])", "\"max_length\" must be an integer"},
        {R"([{"name":"a","type":"text","colour":"red"}])", "unknown field \"colour\""},
    };
    for (const auto& [json, message] : cases) {
        const auto [code, what] = failure_of([&] { decode_columns(parse(json)); });
        EXPECT_EQ(code, errc::corrupt_data) << json;
        EXPECT_THAT(what, HasSubstr(message)) << json;
    }
}

TEST(encode_columns, refuses_a_name_that_is_not_utf8_instead_of_renaming_it) {
    const auto [code, what] = failure_of([] { encode_columns({column("a\xFF", "text")}); });
    EXPECT_EQ(code, errc::invalid_argument);
    EXPECT_THAT(what, HasSubstr("not valid UTF-8"));
}

change_event update_of_every_kind() {
    using namespace std::chrono;
    const auto schema = wide_schema();
    change_event c;
    c.table = {"my.schema", "wide"};  // a dot inside the schema name survives
    c.action = change_action::update;
    c.timestamp = system_clock::time_point{nanoseconds(1'704'164'645'123'456'789)};
    c.commit_timestamp = system_clock::time_point{microseconds(1'704'164'645'000'001)};
    c.transaction_id = std::numeric_limits<std::uint64_t>::max();
    c.ends_transaction = false;
    c.new_values = wide_row(schema);
    std::vector<value> old(schema->size(), value(null_value{}));
    old[0] = value(std::int64_t{1});
    c.old_values = row(schema, std::move(old));
    return c;
}

void expect_same_change(const change_event& a, const change_event& b) {
    EXPECT_EQ(a.table, b.table);
    EXPECT_EQ(a.action, b.action);
    EXPECT_EQ(a.timestamp, b.timestamp);
    EXPECT_EQ(a.commit_timestamp, b.commit_timestamp);
    EXPECT_EQ(a.transaction_id, b.transaction_id);
    EXPECT_EQ(a.ends_transaction, b.ends_transaction);
    EXPECT_EQ(a.new_values, b.new_values);
    EXPECT_EQ(a.old_values, b.old_values);
}

TEST(encode_change, round_trips_every_field_and_every_kind_of_value) {
    const auto c = update_of_every_kind();
    const auto text = boost::json::serialize(encode_change(c));
    EXPECT_TRUE(is_valid_utf8(text));
    const auto back = decode_change(parse(text).as_object());
    expect_same_change(back, c);
    // Rows with equal columns share one schema after reading.
    EXPECT_EQ(back.new_values.schema(), back.old_values.schema());
    EXPECT_TRUE(back.new_values[15].is_unchanged());
}

TEST(encode_change, writes_a_self_describing_object_without_the_position) {
    using namespace std::chrono;
    const auto schema = row_schema::make({column("id", "int4", 1)});
    change_event c;
    c.table = {"public", "t"};
    c.action = change_action::delete_;
    c.pos = position::from_sequence(99);
    c.timestamp = system_clock::time_point{seconds(1'704'164'645)};
    c.transaction_id = 7;
    c.old_values = row(schema, {value(std::int64_t{3})});
    const auto o = encode_change(c);
    EXPECT_EQ(boost::json::serialize(o),
              R"({"table":{"schema":"public","table":"t"},"action":"DELETE",)"
              R"("timestamp":"2024-01-02T03:04:05.000000Z","commit_timestamp":null,)"
              R"("transaction_id":7,"ends_transaction":true,"new_values":null,)"
              R"("old_values":{"columns":[{"name":"id","type":"int4","type_oid":0,)"
              R"("nullable":false,"primary_key":true,"ordinal_position":0,)"
              R"("primary_key_ordinal":1,"default_value":null,"max_length":0}],)"
              R"("fingerprint":")" +
                  to_hex(schema->fingerprint()) + R"(","values":{"id":3}}})");
    const auto back = decode_change(o);
    EXPECT_TRUE(back.pos.empty());
    EXPECT_TRUE(back.new_values.empty());
    EXPECT_EQ(back.old_values, c.old_values);
}

TEST(decode_change, reads_a_table_written_as_text) {
    auto o = encode_change(update_of_every_kind());
    o["table"] = "public.t";
    EXPECT_EQ(decode_change(o).table, table_identifier("public", "t"));
}

TEST(decode_change, rejects_malformed_changes_naming_the_field) {
    const auto good = encode_change(update_of_every_kind());
    const std::pair<std::function<void(boost::json::object&)>, std::string_view> cases[] = {
        {[](auto& o) { o.erase("table"); }, "change: missing \"table\""},
        {[](auto& o) { o["table"] = "nodot"; }, "invalid table identifier"},
        {[](auto& o) { o["action"] = "UPSERT"; }, "\"action\" must be one of"},
        {[](auto& o) { o["timestamp"] = "yesterday"; }, "invalid time \"yesterday\""},
        {[](auto& o) { o["commit_timestamp"] = 5; }, "\"commit_timestamp\" must be a string"},
        {[](auto& o) { o["transaction_id"] = -1; }, "\"transaction_id\" must be an unsigned"},
        {[](auto& o) { o["ends_transaction"] = "yes"; }, "\"ends_transaction\" must be true"},
        {[](auto& o) { o.erase("old_values"); }, "missing \"old_values\""},
        {[](auto& o) { o["new_values"] = 3; }, "change \"new_values\": expected an object"},
        {[](auto& o) { o["new_values"].as_object()["fingerprint"] = "0000000000000000"; },
         "does not match its columns"},
        {[](auto& o) { o["new_values"].as_object()["values"].as_object().erase("id"); },
         "change \"new_values\": row is missing column \"id\""},
        {[](auto& o) { o["old_values"].as_object()["values"].as_object()["big"] = "x"; },
         "change \"old_values\": column \"big\": invalid int64 value"},
        {[](auto& o) {
             o["new_values"].as_object()["columns"].as_array().emplace_back(
                 boost::json::object{{"name", "id"}, {"type", "int4"}});
         },
         "appears twice"},
    };
    for (const auto& [mutate, message] : cases) {
        auto o = good;
        mutate(o);
        const auto [code, what] = failure_of([&] { decode_change(o); });
        EXPECT_EQ(code, errc::corrupt_data) << message;
        EXPECT_THAT(what, HasSubstr(message));
    }
}

}  // namespace
}  // namespace laredo::json
