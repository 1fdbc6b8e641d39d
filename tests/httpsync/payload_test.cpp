// The JSON of each payload, checked field by field and against docs/httpsync/*.schema.json.
#include "batcher.hpp"
#include "payloads.hpp"
#include "schema_check.hpp"

#include "laredo/json/values.hpp"

#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <cmath>

#include <gtest/gtest.h>

namespace laredo::targets::httpsync::detail {
namespace {

using laredo::testing::httpsync::json_schema;
using laredo::testing::httpsync::schema_problems;

const table_identifier users{"public", "users"};

schema_ptr user_schema() {
    return row_schema::make({
        {.name = "id",
         .type = "int8",
         .nullable = false,
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 1},
        {.name = "name", .type = "text", .ordinal_position = 2},
        {.name = "payload", .type = "text", .ordinal_position = 3},
        {.name = "score", .type = "float8", .ordinal_position = 4},
        {.name = "raw", .type = "bytea", .ordinal_position = 5},
    });
}

row user(std::int64_t id, value name, value payload = value(), value score = value()) {
    return row(user_schema(), {value(id), std::move(name), std::move(payload), std::move(score),
                               value(bytes_value{std::string("\x00\x01", 2)})});
}

change_event change(change_action action, std::uint64_t pos, row new_values, row old_values = {}) {
    change_event c;
    c.table = users;
    c.action = action;
    c.pos = position::from_pair(0x16B3748, pos);
    c.transaction_id = 742;
    c.commit_timestamp = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
    c.new_values = std::move(new_values);
    c.old_values = std::move(old_values);
    return c;
}

// The change closed as the batcher would close it, parsed.
boost::json::object encoded(payload_encoder& e, const change_event& c) {
    const auto pos = e.position_json(c.pos);
    auto open = e.open_change(c, pos);
    payload_encoder::close_change(open, pos);
    EXPECT_VALID_PAYLOAD("/changes", "[" + open + "]");
    return json::parse(open).as_object();
}

std::string pg_position(const position& p) {
    return fmt::format("{:X}/{:X}:{}", p.major() >> 32, p.major() & 0xffffffff, p.minor());
}

TEST(payloads, baseline_start_names_the_table_and_its_columns) {
    payload_encoder e(users, nullptr);
    const auto body = e.baseline_start(user_schema()->columns());
    EXPECT_VALID_PAYLOAD("/baseline/start", body);
    const auto j = json::parse(body).as_object();
    EXPECT_EQ(j.at("table"), "public.users");
    const auto& columns = j.at("columns").as_array();
    ASSERT_EQ(columns.size(), 5u);
    EXPECT_EQ(columns[0].at("name"), "id");
    EXPECT_EQ(columns[0].at("primary_key"), true);
    EXPECT_EQ(columns[3].at("type"), "float8");
}

TEST(payloads, baseline_rows_and_completion_validate) {
    payload_encoder e(users, pg_position);
    batcher b("/baseline/batch", e.baseline_batch_prefix(),
              std::string(payload_encoder::baseline_batch_suffix), {100, 1u << 20});
    b.add_item(e.row(user(1, value("ann"), value("x"), value(1.5))), batcher::clock::now());
    b.add_item(e.row(user(2, value(), value(), value(std::nan("")))), batcher::clock::now());
    b.flush_all();
    const auto batch = b.pop_ready();
    EXPECT_VALID_PAYLOAD("/baseline/batch", batch.body);
    const auto rows = json::parse(batch.body).at("rows").as_array();
    EXPECT_EQ(rows[0].at("name"), "ann");
    EXPECT_EQ(rows[0].at("raw"), "AAE=");   // bytes are base64
    EXPECT_EQ(rows[1].at("score"), "NaN");  // laredo's JSON form
    EXPECT_TRUE(rows[1].at("name").is_null());

    const auto complete = e.baseline_complete(position::from_pair(0x16B3748, 0), 2);
    EXPECT_VALID_PAYLOAD("/baseline/complete", complete);
    EXPECT_EQ(json::parse(complete).at("position"), "0/16B3748:0");
    EXPECT_EQ(json::parse(complete).at("rows"), 2);
}

TEST(payloads, an_insert_carries_table_position_transaction_and_commit) {
    payload_encoder e(users, pg_position);
    const auto j = encoded(e, change(change_action::insert, 1, user(7, value("ann"))));
    EXPECT_EQ(j.at("action"), "INSERT");
    EXPECT_EQ(j.at("table"), "public.users");
    EXPECT_EQ(j.at("position"), "0/16B3748:1");
    EXPECT_EQ(j.at("commit_position"), "0/16B3748:1");
    EXPECT_EQ(j.at("transaction_id"), 742);
    EXPECT_EQ(j.at("commit_time"), "2023-11-14T22:13:20.000000Z");
    EXPECT_EQ(j.at("row").at("id"), 7);
    EXPECT_FALSE(j.contains("identity"));
}

TEST(payloads, an_update_lists_unchanged_columns_and_leaves_them_out_of_the_row) {
    payload_encoder e(users, pg_position);
    auto c =
        change(change_action::update, 2, user(7, value("bob"), value::unchanged()),
               row(user_schema(), {value(std::int64_t{6}), value(), value(), value(), value()}));
    const auto j = encoded(e, c);
    EXPECT_EQ(j.at("action"), "UPDATE");
    EXPECT_EQ(j.at("unchanged").as_array(), boost::json::array{"payload"});
    EXPECT_FALSE(j.at("row").as_object().contains("payload"));
    EXPECT_EQ(j.at("row").at("name"), "bob");
    // The identity is the old key (the key changed from 6 to 7), and only the key.
    EXPECT_EQ(j.at("identity").as_object(), (boost::json::object{{"id", 6}}));
}

TEST(payloads, an_update_without_old_values_is_identified_by_its_new_key) {
    payload_encoder e(users, nullptr);
    const auto j = encoded(e, change(change_action::update, 2, user(7, value("bob"))));
    EXPECT_EQ(j.at("identity").as_object(), (boost::json::object{{"id", 7}}));
    EXPECT_TRUE(j.at("unchanged").as_array().empty());
    EXPECT_EQ(j.at("position"), "23803720:2");  // the neutral form without a formatter
}

TEST(payloads, a_delete_and_a_truncate_validate) {
    payload_encoder e(users, pg_position);
    const auto d = encoded(e, change(change_action::delete_, 3, row(), user(7, value("bob"))));
    EXPECT_EQ(d.at("identity").as_object(), (boost::json::object{{"id", 7}}));
    EXPECT_FALSE(d.contains("row"));
    auto t = change(change_action::truncate, 4, row());
    t.transaction_id = 0;
    t.commit_timestamp.reset();
    const auto j = encoded(e, t);
    EXPECT_TRUE(j.at("transaction_id").is_null());
    EXPECT_TRUE(j.at("commit_time").is_null());
}

TEST(payloads, transaction_ids_beyond_2_pow_53_are_strings) {
    payload_encoder e(users, nullptr);
    auto c = change(change_action::insert, 1, user(1, value("a")));
    c.transaction_id = (std::uint64_t{1} << 53) + 1;
    EXPECT_EQ(encoded(e, c).at("transaction_id"), "9007199254740993");
}

TEST(payloads, the_schemas_catch_a_malformed_payload) {
    // Guards against schemas that accept anything.
    EXPECT_NE(schema_problems("/changes", "[]"), "");
    EXPECT_NE(schema_problems("/changes", R"([{"action":"INSERT","table":"public.users"}])"), "");
    EXPECT_NE(schema_problems("/changes",
                              R"([{"action":"UPSERT","table":"public.users","position":"1",
                                   "transaction_id":1,"commit_time":null,
                                   "commit_position":"1","row":{}}])"),
              "");
    EXPECT_NE(schema_problems("/changes",
                              R"([{"action":"INSERT","table":"public.users","position":"1",
                                   "transaction_id":1,"commit_time":null,"commit_position":"1",
                                   "row":{"payload":{"$unchanged":true}}}])"),
              "");
    EXPECT_NE(schema_problems("/baseline/complete", R"({"table":"public.users","rows":1})"), "");
    EXPECT_NE(schema_problems("/baseline/start", R"({"table":"users","columns":[]})"), "");
    EXPECT_NE(schema_problems("/baseline/batch", R"({"table":"public.users","rows":[1]})"), "");
}

TEST(json_schema_subset, refuses_keywords_it_does_not_check) {
    EXPECT_THROW(json_schema(json::parse(R"({"type":"object","maxProperties":3})")),
                 std::invalid_argument);
    EXPECT_THROW(json_schema(json::parse(R"({"$ref":"#/$defs/missing"})")), std::invalid_argument);
    const json_schema s(json::parse(
        R"({"type":"object","required":["a"],"additionalProperties":false,
            "properties":{"a":{"oneOf":[{"type":"integer","minimum":1},{"type":"null"}]}}})"));
    EXPECT_TRUE(s.validate(json::parse(R"({"a":3})")).empty());
    EXPECT_TRUE(s.validate(json::parse(R"({"a":null})")).empty());
    EXPECT_EQ(s.validate(json::parse(R"({"a":0})")).size(), 1u);
    EXPECT_EQ(s.validate(json::parse(R"({"a":1,"b":2})")).size(), 1u);
    EXPECT_EQ(s.validate(json::parse(R"({})")).size(), 1u);
}

}  // namespace
}  // namespace laredo::targets::httpsync::detail
