#include "laredo/json/values.hpp"
#include "laredo/json/decode_text.hpp"

#include "laredo/error.hpp"

#include <boost/json/serialize.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace laredo::json {
namespace {

using ::testing::HasSubstr;
using vt = value::type;

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

std::string text_of(const value& v, vt natural) {
    return boost::json::serialize(encode_value(v, natural));
}

// Through text and laredo's parser, as files are written and read.
value round_trip(const value& v, vt natural) {
    return decode_value(parse(boost::json::serialize(encode_value(v, natural))), natural);
}

// Doubles compare equal as values even when -0.0 meets 0.0: compare their bits too.
void expect_same(const value& a, const value& b) {
    ASSERT_EQ(a.get_type(), b.get_type()) << a.to_string() << " vs " << b.to_string();
    EXPECT_EQ(a, b) << a.to_string() << " vs " << b.to_string();
    if (a.get_type() == vt::float64 && !std::isnan(a.get<double>())) {
        const double x = a.get<double>(), y = b.get<double>();
        EXPECT_EQ(std::memcmp(&x, &y, sizeof x), 0) << x << " vs " << y;
    }
}

const vt all_types[] = {vt::boolean,  vt::int64, vt::float64, vt::numeric,   vt::text,
                        vt::bytes,    vt::date,  vt::time,    vt::timestamp, vt::timestamptz,
                        vt::interval, vt::json,  vt::array};

// At least one value of every alternative, with the edge cases of each.
std::vector<value> every_kind_of_value() {
    constexpr auto i64 = std::numeric_limits<std::int64_t>::max();
    constexpr auto dbl = std::numeric_limits<double>::infinity();
    return {
        value(null_value{}),
        value::unchanged(),
        value(true),
        value(false),
        value(std::int64_t{0}),
        value(std::int64_t{-42}),
        value(std::int64_t{1} << 53),
        value((std::int64_t{1} << 53) + 1),
        value(-(std::int64_t{1} << 53) - 1),
        value(i64),
        value(std::numeric_limits<std::int64_t>::min()),
        value(0.0),
        value(-0.0),
        value(1.5),
        value(0.1),
        value(-1e-310),  // subnormal
        value(std::numeric_limits<double>::max()),
        value(std::numeric_limits<double>::quiet_NaN()),
        value(dbl),
        value(-dbl),
        value(numeric_value{"12.500"}),
        value(numeric_value{"NaN"}),
        value(numeric_value{"-Infinity"}),
        value(numeric_value{"123456789012345678901234567890.000000000000000001"}),
        value(""),
        value("ann"),
        value("caf\xC3\xA9 \xF0\x9F\x98\x80 \"quoted\" \\ \n\t"),
        value(std::string("nul\0inside", 10)),
        value("invalid \xFF utf-8 \xC3"),
        value(bytes_value{}),
        value(bytes_value{std::string("\0\x01\x02\xFF\0", 5)}),
        value(date_value{0}),
        value(date_value{19724}),      // 2024-01-02
        value(date_value{-719'528}),   // 0000-01-01
        value(date_value{-735'500}),   // BC
        value(date_value{2'932'897}),  // 10000-01-01
        value(date_value{date_value::plus_infinity - 1}),
        value(date_value{date_value::minus_infinity + 1}),
        value(date_value{date_value::plus_infinity}),
        value(date_value{date_value::minus_infinity}),
        value(time_value{0}),
        value(time_value{47'109'500'000}),
        value(time_value{86'400'000'000}),  // 24:00:00
        value(time_value{-1}),              // not a time of day, still kept
        value(timestamp_value{0}),
        value(timestamp_value{1'704'164'645'123'456}),
        value(timestamp_value{-1}),
        value(timestamp_value{-62'135'596'800'000'001}),  // 1 BC
        value(timestamp_value{timestamp_value::plus_infinity - 1}),
        value(timestamp_value{timestamp_value::minus_infinity + 1}),
        value(timestamp_value{timestamp_value::plus_infinity}),
        value(timestamp_value{timestamp_value::minus_infinity}),
        value(timestamptz_value{1'704'164'645'123'456}),
        value(timestamptz_value{-1}),
        value(timestamptz_value{timestamptz_value::plus_infinity - 1}),
        value(timestamptz_value{timestamptz_value::minus_infinity + 1}),
        value(timestamptz_value{timestamptz_value::plus_infinity}),
        value(timestamptz_value{timestamptz_value::minus_infinity}),
        value(interval_value{"1 year 2 mons 3 days 04:05:06.5"}),
        value(interval_value{""}),
        value(json_value{R"({"a":1,"b":[true,null]})"}),
        value(json_value{R"({"a": 1, "b": [true, null]})"}),  // PostgreSQL's jsonb spacing
        value(json_value{"null"}),
        value(json_value{"\"a string\""}),
        value(json_value{"12345678901234567890123"}),  // Boost.JSON would lose digits
        value(json_value{"1.0"}),
        value(json_value{R"({"$type":"int64","value":1})"}),
        value(json_value{R"({"$unchanged":true})"}),
        value(json_value{"not json at all"}),
        value(json_value{""}),
        value(array_value{"{1,2,NULL}"}),
        value(array_value{"{}"}),
    };
}

// Keys in URLs and the CLI's --key values: plain text read as the column's type.
TEST(decode_text, reads_numbers_and_booleans_as_json_and_the_rest_as_json_strings) {
    EXPECT_EQ(decode_text("42", vt::int64), value(std::int64_t{42}));
    EXPECT_EQ(decode_text("true", vt::boolean), value(true));
    EXPECT_EQ(decode_text("2.5", vt::float64), value(2.5));
    EXPECT_EQ(decode_text("u4@example.com", vt::text), value(std::string("u4@example.com")));
    EXPECT_EQ(decode_text("2024-01-02", vt::date).get_type(), vt::date);
    EXPECT_THROW(decode_text("abc", vt::int64), std::exception);
    EXPECT_THROW(decode_text("4.5", vt::int64), std::exception);
    EXPECT_THROW(decode_text("2024-13-45", vt::date), std::exception);
}

TEST(natural_type, maps_postgresql_and_generic_type_names) {
    const std::pair<std::string_view, vt> cases[] = {
        {"int2", vt::int64},
        {"int4", vt::int64},
        {"int8", vt::int64},
        {"oid", vt::int64},
        {"bigint", vt::int64},
        {"INTEGER", vt::int64},
        {"float4", vt::float64},
        {"float8", vt::float64},
        {"double precision", vt::float64},
        {"double", vt::float64},
        {"numeric", vt::numeric},
        {"numeric(10,2)", vt::numeric},
        {"bool", vt::boolean},
        {"boolean", vt::boolean},
        {"text", vt::text},
        {"varchar", vt::text},
        {"character varying(20)", vt::text},
        {"bpchar", vt::text},
        {"name", vt::text},
        {"uuid", vt::text},
        {"string", vt::text},
        {"bytea", vt::bytes},
        {"bytes", vt::bytes},
        {"date", vt::date},
        {"time", vt::time},
        {"timetz", vt::text},
        {"timestamp", vt::timestamp},
        {"timestamp(3) without time zone", vt::timestamp},
        {"timestamptz", vt::timestamptz},
        {"timestamp with time zone", vt::timestamptz},
        {"interval", vt::interval},
        {"json", vt::json},
        {"jsonb", vt::json},
        {"_int4", vt::array},
        {"_text", vt::array},
        {"integer[]", vt::array},
        {"mood", vt::text},
        {"", vt::text},
    };
    for (const auto& [name, type] : cases) {
        EXPECT_EQ(natural_type(name), type) << name;
        column_definition c;
        c.type = std::string(name);
        EXPECT_EQ(natural_type(c), type) << name;
    }
}

TEST(encode_value, every_alternative_round_trips_exactly_in_its_natural_column) {
    for (const auto& v : every_kind_of_value()) {
        const vt natural = v.is_null() || v.is_unchanged() ? vt::text : v.get_type();
        SCOPED_TRACE(text_of(v, natural));
        expect_same(round_trip(v, natural), v);
    }
}

TEST(encode_value, every_alternative_round_trips_exactly_in_a_column_of_any_other_type) {
    for (const auto& v : every_kind_of_value()) {
        for (vt natural : all_types) {
            SCOPED_TRACE(text_of(v, natural) + " in a " + std::string(to_string(natural)) +
                         " column");
            expect_same(round_trip(v, natural), v);
        }
    }
}

TEST(encode_value, output_is_always_valid_utf8) {
    for (const auto& v : every_kind_of_value()) {
        for (vt natural : all_types) EXPECT_TRUE(is_valid_utf8(text_of(v, natural)));
    }
}

TEST(encode_value, writes_the_documented_json_of_representative_values) {
    const std::tuple<value, vt, std::string_view> cases[] = {
        {value(null_value{}), vt::int64, "null"},
        {value::unchanged(), vt::text, R"({"$unchanged":true})"},
        {value(true), vt::boolean, "true"},
        {value(std::int64_t{42}), vt::int64, "42"},
        {value(std::int64_t{1} << 53), vt::int64, "9007199254740992"},
        {value((std::int64_t{1} << 53) + 1), vt::int64, R"("9007199254740993")"},
        {value(std::numeric_limits<std::int64_t>::min()), vt::int64, R"("-9223372036854775808")"},
        {value(1.5), vt::float64, "1.5E0"},
        {value(std::numeric_limits<double>::quiet_NaN()), vt::float64, R"("NaN")"},
        {value(std::numeric_limits<double>::infinity()), vt::float64, R"("Infinity")"},
        {value(-std::numeric_limits<double>::infinity()), vt::float64, R"("-Infinity")"},
        {value(numeric_value{"12.500"}), vt::numeric, R"("12.500")"},
        {value("ann"), vt::text, R"("ann")"},
        {value(bytes_value{std::string("\0\x01\x02", 3)}), vt::bytes, R"("AAEC")"},
        {value(date_value{19724}), vt::date, R"("2024-01-02")"},
        {value(date_value{-735'160}), vt::date, R"("-0043-03-15")"},
        {value(date_value{2'932'897}), vt::date, R"("+10000-01-01")"},
        {value(date_value{date_value::plus_infinity}), vt::date, R"("infinity")"},
        {value(date_value{date_value::minus_infinity}), vt::date, R"("-infinity")"},
        {value(time_value{47'109'500'000}), vt::time, R"("13:05:09.500000")"},
        {value(timestamp_value{1'704'164'645'123'456}), vt::timestamp,
         R"("2024-01-02T03:04:05.123456")"},
        {value(timestamptz_value{1'704'164'645'123'456}), vt::timestamptz,
         R"("2024-01-02T03:04:05.123456Z")"},
        {value(timestamptz_value{-1}), vt::timestamptz, R"("1969-12-31T23:59:59.999999Z")"},
        {value(timestamptz_value{timestamptz_value::plus_infinity}), vt::timestamptz,
         R"("infinity")"},
        {value(timestamp_value{timestamp_value::minus_infinity}), vt::timestamp, R"("-infinity")"},
        {value(interval_value{"1 day 02:00:00"}), vt::interval, R"("1 day 02:00:00")"},
        {value(json_value{R"({"a":1})"}), vt::json, R"({"a":1})"},
        {value(json_value{R"({"a": 1})"}), vt::json, R"({"$type":"json","value":"{\"a\": 1}"})"},
        {value(json_value{"null"}), vt::json, R"({"$type":"json","value":"null"})"},
        {value(array_value{"{1,2,NULL}"}), vt::array, R"("{1,2,NULL}")"},
        // Not the column's natural alternative: tagged.
        {value(std::int64_t{5}), vt::text, R"({"$type":"int64","value":5})"},
        {value("5"), vt::int64, R"({"$type":"text","value":"5"})"},
        {value(date_value{0}), vt::timestamp, R"({"$type":"date","value":"1970-01-01"})"},
        {value(json_value{"[1]"}), vt::text, R"({"$type":"json","value":"[1]"})"},
        // Text that is not UTF-8: tagged, base64.
        {value("a\xFF"), vt::text, R"({"$type":"text","base64":"Yf8="})"},
        {value(numeric_value{"\xFE"}), vt::numeric, R"({"$type":"numeric","base64":"/g=="})"},
    };
    for (const auto& [v, natural, expected] : cases) {
        EXPECT_EQ(text_of(v, natural), expected) << v.to_string();
    }
}

TEST(encode_value, random_instants_dates_and_doubles_round_trip) {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 5000; ++i) {
        const auto micros = static_cast<std::int64_t>(rng());
        expect_same(round_trip(value(timestamp_value{micros}), vt::timestamp),
                    value(timestamp_value{micros}));
        expect_same(round_trip(value(timestamptz_value{micros}), vt::timestamptz),
                    value(timestamptz_value{micros}));
        expect_same(round_trip(value(time_value{micros}), vt::time), value(time_value{micros}));
        const auto days = static_cast<std::int32_t>(rng());
        expect_same(round_trip(value(date_value{days}), vt::date), value(date_value{days}));
        const std::uint64_t bits = rng();
        double d = 0;
        std::memcpy(&d, &bits, sizeof d);
        expect_same(round_trip(value(d), vt::float64), value(d));
        const auto n = static_cast<std::int64_t>(rng()) >> (rng() % 64);
        expect_same(round_trip(value(n), vt::int64), value(n));
    }
}

TEST(decode_value, reads_lenient_spellings_of_plain_values) {
    EXPECT_EQ(decode_value(parse("7"), vt::float64), value(7.0));
    EXPECT_EQ(decode_value(parse("\"123\""), vt::int64), value(std::int64_t{123}));
    EXPECT_EQ(decode_value(parse("3E0"), vt::int64), value(std::int64_t{3}));
    EXPECT_EQ(decode_value(parse("\"2024-01-02 03:04:05\""), vt::timestamp),
              value(timestamp_value{1'704'164'645'000'000}));
    EXPECT_EQ(decode_value(parse("\"2024-01-02T05:04:05.5+02:00\""), vt::timestamptz),
              value(timestamptz_value{1'704'164'645'500'000}));
    EXPECT_EQ(decode_value(parse("\"13:05:09\""), vt::time), value(time_value{47'109'000'000}));
    EXPECT_EQ(decode_value(parse(R"([1, {"b" : 2}])"), vt::json),
              value(json_value{R"([1,{"b":2}])"}));
}

TEST(decode_value, rejects_malformed_values_naming_the_type_and_the_json) {
    const std::tuple<std::string_view, vt, std::string_view> cases[] = {
        {"\"abc\"", vt::int64, "invalid int64 value \"abc\""},
        {"1.5E0", vt::int64, "invalid int64 value 1.5E0"},
        {"18446744073709551615", vt::int64, "within the int64 range"},
        {"\"9223372036854775808\"", vt::int64, "invalid int64 value"},
        {"\"1.5\"", vt::float64, "invalid float64 value \"1.5\""},
        {"1", vt::boolean, "invalid bool value 1: expected true or false"},
        {"1", vt::text, "invalid text value 1: expected a string"},
        {"\"2024-02-30\"", vt::date, "invalid date value \"2024-02-30\""},
        {"\"2024-1-2\"", vt::date, "invalid date value"},
        {"\"+99999999-01-01\"", vt::date, "invalid date value"},
        {"\"12:60:00\"", vt::time, "invalid time value"},
        {"\"13:05:09.1234567\"", vt::time, "invalid time value"},
        {"\"2024-01-02T03:04:05Z\"", vt::timestamp, "invalid timestamp value"},
        {"\"2024-01-02T03:04:05\"", vt::timestamptz, "invalid timestamptz value"},
        {"\"300000-01-01T00:00:00Z\"", vt::timestamptz, "invalid timestamptz value"},
        {"\"294247-01-10T04:00:54.775807\"", vt::timestamp, "invalid timestamp value"},
        {"\"not base64!\"", vt::bytes, "invalid bytes value"},
        {R"({"a":1})", vt::text, "invalid text value {\"a\":1}"},
        {R"({"$unchanged":false})", vt::text, "invalid unchanged marker"},
        {R"({"$unchanged":true,"x":1})", vt::text, "invalid unchanged marker"},
        {R"({"$type":"decimal","value":"1"})", vt::text, "\"$type\" must name a value type"},
        {R"({"$type":"null","value":null})", vt::text, "\"$type\" must name a value type"},
        {R"({"$type":7,"value":1})", vt::text, "\"$type\" must name a value type"},
        {R"({"$type":"int64"})", vt::text, "expected \"$type\" and one of"},
        {R"({"$type":"int64","value":1,"extra":2})", vt::text, "expected \"$type\" and one of"},
        {R"({"$type":"int64","valu":1})", vt::text, "no \"value\""},
        {R"({"$type":"int64","value":"x"})", vt::text, "invalid int64 value \"x\""},
        {R"({"$type":"int64","base64":"AA=="})", vt::text, "text-like"},
        {R"({"$type":"text","base64":"A"})", vt::text, "invalid base64"},
        {R"({"$type":"json","value":{"a":1}})", vt::json, "its text as a string when tagged"},
    };
    for (const auto& [json, natural, message] : cases) {
        const auto [code, what] = failure_of([&] { decode_value(parse(json), natural); });
        EXPECT_EQ(code, errc::corrupt_data) << json;
        EXPECT_THAT(what, HasSubstr(message)) << json;
    }
}

}  // namespace
}  // namespace laredo::json
