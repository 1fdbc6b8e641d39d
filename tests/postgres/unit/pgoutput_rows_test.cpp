#include "capture_data.hpp"
#include "expect_error.hpp"
#include "message_builder.hpp"

#include "laredo/sources/postgres/pgoutput_relations.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace laredo;
using namespace laredo::sources::postgres;
using namespace laredo::sources::postgres::testing;

namespace {

constexpr std::int64_t day_us = 86'400'000'000LL;

// Replays Type and Relation messages of a capture into a converter and cache, and keeps
// the decoded row messages.
struct replay {
    std::vector<std::string> payloads;
    value_converter types;
    relation_cache relations;
    std::vector<relation_change> changes_of_dml_default;
    std::vector<row> inserted;  // converted in stream order, with the relation of the time

    explicit replay(std::string_view file,
                    const std::vector<std::pair<table_identifier, schema_ptr>>& catalog = {})
        : payloads(load_payloads(file)) {
        for (const auto& [t, s] : catalog) relations.set_catalog_schema(t, s);
        for (const auto& p : payloads) {
            const auto m = decode_pgoutput(p);
            if (const auto* y = std::get_if<type_message>(&m)) types.apply(*y);
            if (const auto* r = std::get_if<relation_message>(&m)) {
                const auto u = relations.apply(*r, types);
                if (r->relation_id == relation_id_of("dml_default")) {
                    changes_of_dml_default.push_back(u.change);
                }
            }
            if (const auto* i = std::get_if<insert_message>(&m)) {
                inserted.push_back(insert_rows(relations.at(i->relation_id), *i).new_values);
            }
        }
    }

    std::uint32_t relation_id_of(std::string_view name) const {
        for (const auto& p : payloads) {
            const auto m = decode_pgoutput(p);
            if (const auto* r = std::get_if<relation_message>(&m))
                if (r->relation_name == name) return r->relation_id;
        }
        return 0;
    }

    template <class T>
    std::vector<T> messages() const {
        std::vector<T> out;
        for (const auto& p : payloads) {
            const auto m = decode_pgoutput(p);
            if (const auto* t = std::get_if<T>(&m)) out.push_back(*t);
        }
        return out;
    }

    const std::vector<row>& inserted_rows() const { return inserted; }
};

}  // namespace

TEST(relation_cache, builds_a_schema_with_type_names_and_the_key_from_the_relation) {
    replay r("dml.hex");
    const auto& rel = r.relations.at(r.relation_id_of("dml_composite"));
    EXPECT_EQ(rel.table, table_identifier("public", "dml_composite"));
    EXPECT_EQ(rel.identity, replica_identity::default_);
    const auto& s = *rel.schema;
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s.column(0).name, "a");
    EXPECT_EQ(s.column(0).type, "int4");
    EXPECT_EQ(s.column(0).type_oid, 23u);
    EXPECT_EQ(s.column(0).ordinal_position, 1);
    EXPECT_EQ(s.column(1).type, "text");
    EXPECT_TRUE(s.column(0).primary_key);
    EXPECT_TRUE(s.column(1).primary_key);
    EXPECT_FALSE(s.column(2).primary_key);
    EXPECT_EQ(s.key_indexes(), (std::vector<std::size_t>{0, 1}));
}

TEST(relation_cache, uses_the_catalog_schema_itself_when_the_columns_match) {
    // PRIMARY KEY (b, a): the catalog knows the key order, the Relation message does not.
    const auto catalog = row_schema::make({
        {.name = "a",
         .type = "int4",
         .type_oid = 23,
         .nullable = false,
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 2},
        {.name = "b",
         .type = "text",
         .type_oid = 25,
         .nullable = false,
         .primary_key = true,
         .ordinal_position = 2,
         .primary_key_ordinal = 1},
        {.name = "c", .type = "text", .type_oid = 25, .ordinal_position = 3},
    });
    const table_identifier table("public", "dml_composite");
    replay r("dml.hex", {{table, catalog}});
    const auto& rel = r.relations.at(r.relation_id_of("dml_composite"));
    EXPECT_EQ(rel.schema, catalog) << "the very same schema object";
    EXPECT_EQ(rel.schema->key_indexes(), (std::vector<std::size_t>{1, 0}));
    const auto rows = r.inserted_rows();
    const auto it =
        std::find_if(rows.begin(), rows.end(), [&](const row& x) { return x.schema() == catalog; });
    ASSERT_NE(it, rows.end());
    EXPECT_EQ(it->key(), (std::vector<value>{value("k"), value(1)}));
}

TEST(relation_cache, takes_catalog_keys_and_metadata_by_name_when_the_columns_differ) {
    // REPLICA IDENTITY FULL flags every column; the catalog says the key is id.
    const auto catalog = row_schema::make({
        {.name = "id",
         .type = "int4",
         .type_oid = 23,
         .nullable = false,
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 1},
        {.name = "name", .type = "text", .type_oid = 25, .ordinal_position = 2},
        {.name = "gone", .type = "text", .type_oid = 25, .ordinal_position = 3},
    });
    replay r("dml.hex", {{table_identifier("public", "dml_full"), catalog}});
    const auto& rel = r.relations.at(r.relation_id_of("dml_full"));
    EXPECT_NE(rel.schema, catalog);
    ASSERT_EQ(rel.schema->size(), 3u);
    EXPECT_EQ(rel.schema->key_indexes(), (std::vector<std::size_t>{0}));
    EXPECT_FALSE(rel.schema->column(0).nullable) << "from the catalog";
    EXPECT_EQ(rel.schema->column(2).name, "big");
    EXPECT_EQ(rel.schema->column(2).type, "text");
    EXPECT_FALSE(rel.schema->column(2).primary_key);
}

TEST(relation_cache, full_identity_without_catalog_keys_on_every_column) {
    replay r("dml.hex");
    const auto& rel = r.relations.at(r.relation_id_of("dml_full"));
    EXPECT_EQ(rel.identity, replica_identity::full);
    EXPECT_EQ(rel.schema->key_indexes(), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(relation_cache, reports_added_unchanged_and_changed_relations) {
    replay r("dml.hex");
    // First use, then ADD COLUMN, ALTER COLUMN TYPE, DROP COLUMN and RENAME.
    EXPECT_EQ(r.changes_of_dml_default,
              (std::vector<relation_change>{relation_change::added, relation_change::changed,
                                            relation_change::changed, relation_change::changed,
                                            relation_change::changed}));
    const auto& rel = r.relations.at(r.relation_id_of("dml_default"));
    EXPECT_EQ(rel.table, table_identifier("public", "dml_renamed"));
    EXPECT_EQ(rel.columns.size(), 3u);

    // The same Relation message again (as before TRUNCATE, or after a reconnect).
    relation_cache cache;
    value_converter types;
    const auto rels = r.messages<relation_message>();
    const auto first = cache.apply(rels[0], types);
    EXPECT_EQ(first.change, relation_change::added);
    const auto schema = first.relation.schema;
    const auto again = cache.apply(rels[0], types);
    EXPECT_EQ(again.change, relation_change::unchanged);
    EXPECT_EQ(again.relation.schema, schema) << "rows keep sharing one schema";
}

TEST(relation_cache, detects_a_retyped_column) {
    replay r("dml.hex");
    std::vector<std::uint32_t> extra_types;
    for (const auto& m : r.messages<relation_message>())
        for (const auto& c : m.columns)
            if (c.name == "extra") extra_types.push_back(c.type_oid);
    EXPECT_EQ(extra_types, (std::vector<std::uint32_t>{23, 20}));
}

TEST(relation_cache, a_change_for_an_unknown_relation_is_a_protocol_error) {
    relation_cache cache;
    expect_error([&] { (void)cache.at(4242); }, errc::corrupt_data, "relation 4242",
                 "before any Relation message");
    EXPECT_EQ(cache.find(4242), nullptr);
}

TEST(relation_cache, a_relation_with_duplicate_column_names_is_corrupt) {
    const auto bytes = message_builder('R')
                           .u32(7)
                           .str("public")
                           .str("t")
                           .u8('d')
                           .u16(2)
                           .u8(1)
                           .str("a")
                           .u32(23)
                           .u32(0xFFFFFFFF)
                           .u8(0)
                           .str("a")
                           .u32(25)
                           .u32(0xFFFFFFFF);
    relation_cache cache;
    value_converter types;
    const auto m = std::get<relation_message>(decode_pgoutput(bytes));
    expect_error([&] { (void)cache.apply(m, types); }, errc::corrupt_data,
                 "Relation message for relation 7 (public.t)", "appears twice");
}

TEST(tuple_rows, an_unchanged_toast_column_stays_unchanged_without_an_old_row) {
    replay r("dml.hex");
    const auto u = r.messages<update_message>()[0];  // SET name = 'a2' WHERE id = 1
    const auto rows = update_rows(r.relations.at(u.relation_id), u);
    EXPECT_TRUE(rows.old_values.empty());
    EXPECT_EQ(rows.new_values.at("id"), value(1));
    EXPECT_EQ(rows.new_values.at("name"), value("a2"));
    EXPECT_TRUE(rows.new_values.at("big").is_unchanged());
    EXPECT_FALSE(rows.new_values.is_complete());
}

TEST(tuple_rows, an_unchanged_toast_column_is_filled_from_a_full_old_row) {
    replay r("dml.hex");
    const auto full_id = r.relation_id_of("dml_full");
    update_message u;
    for (const auto& m : r.messages<update_message>())
        if (m.relation_id == full_id) u = m;
    const auto rows = update_rows(r.relations.at(full_id), u);
    EXPECT_EQ(rows.new_values.at("name"), value("f2"));
    EXPECT_EQ(rows.new_values.at("big"), value(std::string(2500, 'y')));
    EXPECT_TRUE(rows.new_values.is_complete());
    EXPECT_EQ(rows.old_values.at("name"), value("f"));
}

TEST(tuple_rows, key_only_old_rows_hold_the_key_and_nulls) {
    replay r("dml.hex");
    const auto u = r.messages<update_message>()[1];  // SET id = 20 WHERE id = 2
    const auto rows = update_rows(r.relations.at(u.relation_id), u);
    EXPECT_EQ(rows.old_values.key(), (std::vector<value>{value(2)}));
    EXPECT_TRUE(rows.old_values.at("name").is_null());
    EXPECT_EQ(rows.new_values.key(), (std::vector<value>{value(20)}));

    const auto d = r.messages<delete_message>()[0];
    const auto del = delete_rows(r.relations.at(d.relation_id), d);
    EXPECT_TRUE(del.new_values.empty());
    EXPECT_EQ(del.old_values.key(), (std::vector<value>{value(3)}));
}

TEST(tuple_rows, replica_identity_index_keys_by_the_index_columns) {
    replay r("dml.hex");
    const auto id = r.relation_id_of("dml_index");
    update_message u;
    for (const auto& m : r.messages<update_message>())
        if (m.relation_id == id) u = m;
    const auto rows = update_rows(r.relations.at(id), u);
    EXPECT_EQ(rows.old_values.key(), (std::vector<value>{value("c1")}));
    EXPECT_EQ(rows.new_values.key(), (std::vector<value>{value("c2")}));
}

TEST(tuple_rows, refuses_a_message_for_another_relation) {
    replay r("dml.hex");
    const auto i = r.messages<insert_message>()[0];
    const auto& other = r.relations.at(r.relation_id_of("dml_index"));
    expect_error([&] { (void)insert_rows(other, i); }, errc::invalid_argument,
                 "the relation given is");
}

TEST(tuple_rows, refuses_a_tuple_with_the_wrong_column_count) {
    replay r("dml.hex");
    const auto id = r.relation_id_of("trunc_parent");
    const auto bytes = message_builder('I').u32(id).u8('N').u16(2).text("1").text("2");
    const auto m = std::get<insert_message>(decode_pgoutput(bytes));
    expect_error([&] { (void)insert_rows(r.relations.at(id), m); }, errc::corrupt_data,
                 "Insert for relation", "(public.trunc_parent) has 2 columns",
                 "its Relation message has 1");
}

TEST(tuple_rows, refuses_binary_values_naming_the_column) {
    replay r("dml.hex");
    const auto id = r.relation_id_of("trunc_parent");
    const auto bytes = message_builder('I').u32(id).u8('N').u16(1).u8('b').u32(4).u32(1);
    const auto m = std::get<insert_message>(decode_pgoutput(bytes));
    expect_error([&] { (void)insert_rows(r.relations.at(id), m); }, errc::unsupported,
                 "Insert of public.trunc_parent, column \"id\"", "binary tuple values");
}

TEST(tuple_rows, a_value_that_does_not_convert_names_table_and_column) {
    replay r("dml.hex");
    const auto id = r.relation_id_of("trunc_parent");
    const auto bytes = message_builder('I').u32(id).u8('N').u16(1).text("one");
    const auto m = std::get<insert_message>(decode_pgoutput(bytes));
    const auto what = expect_error(
        [&] { (void)insert_rows(r.relations.at(id), m); }, errc::corrupt_data,
        "Insert of public.trunc_parent, column \"id\"", "invalid integer text \"one\"");
    EXPECT_EQ(what.find("corrupt data"), what.rfind("corrupt data"));
}

TEST(captured_types, every_type_converts_to_its_alternative) {
    replay r("types_utc.hex");
    const auto rows = r.inserted_rows();
    ASSERT_EQ(rows.size(), 9u);
    const row& a = rows[0];
    EXPECT_EQ(a.at("id"), value(1));
    EXPECT_EQ(a.at("c_bool"), value(true));
    EXPECT_EQ(a.at("c_int2"), value(1));
    EXPECT_EQ(a.at("c_int8"), value(3));
    EXPECT_EQ(a.at("c_float4"), value(1.5));
    EXPECT_EQ(a.at("c_float8"), value(2.25));
    EXPECT_EQ(a.at("c_numeric"), value(numeric_value{"12.500"}));
    EXPECT_EQ(a.at("c_text"), value("hello"));
    EXPECT_EQ(a.at("c_varchar"), value("var"));
    EXPECT_EQ(a.at("c_bpchar"), value("ab   ")) << "bpchar keeps its padding";
    EXPECT_EQ(a.at("c_name"), value("nm"));
    EXPECT_EQ(a.at("c_char"), value("x"));
    EXPECT_EQ(a.at("c_bytea"), value(bytes_value{std::string("\x00\x01\xff", 3)}));
    EXPECT_EQ(a.at("c_date"), value(date_value{19724}));
    EXPECT_EQ(a.at("c_time"), value(time_value{(13 * 3600 + 5 * 60 + 9) * 1'000'000LL + 500'000}));
    EXPECT_EQ(a.at("c_timetz"), value("13:05:09+02"));
    EXPECT_EQ(a.at("c_timestamp"), value(timestamp_value{1704164645123456LL}));
    EXPECT_EQ(a.at("c_timestamptz"), value(timestamptz_value{1704164645123456LL}));
    EXPECT_EQ(a.at("c_interval"), value(interval_value{"1 year 2 mons 3 days 04:05:06.5"}));
    EXPECT_EQ(a.at("c_uuid"), value("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
    EXPECT_EQ(a.at("c_json"), value(json_value{"{\"a\": [1, 2.5, \"x\"]}"}));
    EXPECT_EQ(a.at("c_jsonb"), value(json_value{"{\"a\": 1, \"b\": null}"}));
    EXPECT_EQ(a.at("c_int4_arr"), value(array_value{"{1,2,NULL}"}));
    EXPECT_EQ(a.at("c_text_arr"), value(array_value{"{\"a b\",\"c\\\"d\",NULL,\"\"}"}));
    EXPECT_EQ(a.at("c_mood"), value("happy")) << "enums are text";
    EXPECT_EQ(a.at("c_mood_arr"), value(array_value{"{sad,happy}"}));
    EXPECT_EQ(a.at("c_posint"), value(42)) << "a domain converts as its base type";
    EXPECT_EQ(a.at("c_oid"), value(std::int64_t{4294967295}));
    EXPECT_EQ(a.at("c_inet"), value("192.168.0.1/24"));
    EXPECT_EQ(r.relations.at(r.relation_id_of("all_types")).schema->column(26).type, "_mood");
}

TEST(captured_types, minimum_values_nan_and_bc_dates) {
    replay r("types_utc.hex");
    const row b = r.inserted_rows()[1];
    EXPECT_EQ(b.at("c_int2"), value(-32768));
    EXPECT_EQ(b.at("c_int8"), value(std::numeric_limits<std::int64_t>::min()));
    EXPECT_TRUE(std::isnan(b.at("c_float4").get<double>()));
    EXPECT_EQ(b.at("c_float8"), value(-std::numeric_limits<double>::infinity()));
    EXPECT_EQ(b.at("c_numeric"), value(numeric_value{"NaN"}));
    EXPECT_EQ(b.at("c_text"), value(""));
    EXPECT_EQ(b.at("c_bpchar"), value("     "));
    EXPECT_EQ(b.at("c_bytea"), value(bytes_value{""}));
    EXPECT_EQ(b.at("c_date"), value(date_value{-2440222}));
    EXPECT_EQ(b.at("c_timestamp"), value(timestamp_value{-2440222 * day_us}));
    EXPECT_EQ(b.at("c_timestamptz"), value(timestamptz_value{-2440222 * day_us}));
    EXPECT_EQ(b.at("c_json"), value(json_value{"null"}));
}

TEST(captured_types, maximum_values_and_five_digit_years) {
    replay r("types_utc.hex");
    const row c = r.inserted_rows()[2];
    EXPECT_EQ(c.at("c_int4"), value(2147483647));
    EXPECT_EQ(c.at("c_numeric"),
              value(numeric_value{"-99999999999999999999.99999999999999999999"}));
    EXPECT_EQ(c.at("c_text"), value("tab\there, newline\nhere, backslash \\ and ünïcødé ✓"));
    EXPECT_EQ(c.at("c_date"), value(date_value{2145042905}));
    EXPECT_EQ(c.at("c_time"), value(time_value{day_us}));
    EXPECT_EQ(c.at("c_timestamptz"), value(timestamptz_value{2932897 * day_us}));
    EXPECT_EQ(c.at("c_uuid"), value("ffffffff-ffff-ffff-ffff-ffffffffffff"));
}

TEST(captured_types, nulls_and_infinities) {
    replay r("types_utc.hex");
    const auto rows = r.inserted_rows();
    for (std::size_t i = 1; i < rows[3].size(); ++i) EXPECT_TRUE(rows[3][i].is_null()) << i;
    const row& e = rows[4];
    EXPECT_EQ(e.at("c_date"), value(date_value{date_value::plus_infinity}));
    EXPECT_EQ(e.at("c_timestamp"), value(timestamp_value{timestamp_value::plus_infinity}));
    EXPECT_EQ(e.at("c_timestamptz"), value(timestamptz_value{timestamptz_value::plus_infinity}));
    EXPECT_EQ(e.at("c_numeric"), value(numeric_value{"Infinity"}));
    EXPECT_EQ(e.at("c_float4").get<double>(), 1e-45);
    const row& f = rows[5];
    EXPECT_EQ(f.at("c_date"), value(date_value{date_value::minus_infinity}));
    EXPECT_EQ(f.at("c_timestamptz"), value(timestamptz_value{timestamptz_value::minus_infinity}));
    EXPECT_EQ(f.at("c_float8").get<double>(), std::numeric_limits<double>::max());
    EXPECT_EQ(f.at("c_jsonb"), value(json_value{"1500"}));
    EXPECT_EQ(rows[6].at("c_float8").get<double>(), std::numeric_limits<double>::denorm_min());
}

TEST(captured_types, every_session_time_zone_gives_the_same_rows) {
    replay utc("types_utc.hex");
    const auto expected = utc.inserted_rows();
    for (const char* file : {"types_amsterdam.hex", "types_st_johns.hex"}) {
        replay other(file);
        const auto rows = other.inserted_rows();
        ASSERT_EQ(rows.size(), expected.size()) << file;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            EXPECT_EQ(rows[i], expected[i])
                << file << " row " << i << "\n  " << rows[i].debug_string() << "\n  "
                << expected[i].debug_string();
        }
    }
}

TEST(captured_types, a_copy_baseline_converts_to_the_same_rows_as_the_stream) {
    // COPY ... TO STDOUT (text), in a session in Asia/Kolkata, through the same converter.
    replay stream("types_utc.hex");
    const auto expected = stream.inserted_rows();
    const auto& rel = stream.relations.at(stream.relation_id_of("all_types"));
    const auto lines = load_copy_text("types_copy_kolkata.txt");
    ASSERT_EQ(lines.size(), expected.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        ASSERT_EQ(lines[i].size(), rel.columns.size());
        std::vector<value> values;
        for (std::size_t c = 0; c < lines[i].size(); ++c) {
            values.push_back(lines[i][c]
                                 ? stream.types.convert(rel.columns[c].type_oid, *lines[i][c])
                                 : value());
        }
        const row baseline(rel.schema, std::move(values));
        EXPECT_EQ(baseline, expected[i]) << "row " << i << "\n  " << baseline.debug_string()
                                         << "\n  " << expected[i].debug_string();
    }
}
