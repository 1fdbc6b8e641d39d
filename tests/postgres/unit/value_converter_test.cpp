#include "expect_error.hpp"

#include "laredo/sources/postgres/pgoutput.hpp"
#include "laredo/sources/postgres/value_converter.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace laredo;
using namespace laredo::sources::postgres;
using laredo::sources::postgres::testing::expect_error;

namespace {
constexpr std::int64_t day_us = 86'400'000'000LL;
constexpr std::int64_t hour_us = 3'600'000'000LL;

value conv(value_kind k, std::string_view text) { return convert_text(k, text); }

void expect_invalid(value_kind k, std::string_view text, std::string_view why = {}) {
    expect_error([&] { (void)convert_text(k, text); }, errc::corrupt_data,
                 std::string("invalid ") + std::string(to_string(k)) + " text", why);
}
}  // namespace

TEST(value_converter, bool_is_t_or_f) {
    EXPECT_EQ(conv(value_kind::boolean, "t"), value(true));
    EXPECT_EQ(conv(value_kind::boolean, "f"), value(false));
    for (const char* bad : {"", "true", "T", "1", "tt"}) expect_invalid(value_kind::boolean, bad);
}

TEST(value_converter, integers_cover_the_int64_range) {
    EXPECT_EQ(conv(value_kind::int64, "0"), value(0));
    EXPECT_EQ(conv(value_kind::int64, "-32768"), value(-32768));
    EXPECT_EQ(conv(value_kind::int64, "4294967295"), value(std::int64_t{4294967295}));
    EXPECT_EQ(conv(value_kind::int64, "9223372036854775807"),
              value(std::numeric_limits<std::int64_t>::max()));
    EXPECT_EQ(conv(value_kind::int64, "-9223372036854775808"),
              value(std::numeric_limits<std::int64_t>::min()));
    expect_invalid(value_kind::int64, "9223372036854775808", "out of the 64-bit range");
    for (const char* bad : {"", "+1", " 1", "1 ", "1.0", "0x10", "-", "1e3"})
        expect_invalid(value_kind::int64, bad, "expected a decimal integer");
}

TEST(value_converter, floats_keep_nan_infinities_and_extremes) {
    EXPECT_TRUE(std::isnan(conv(value_kind::float64, "NaN").get<double>()));
    EXPECT_EQ(conv(value_kind::float64, "Infinity"),
              value(std::numeric_limits<double>::infinity()));
    EXPECT_EQ(conv(value_kind::float64, "-Infinity"),
              value(-std::numeric_limits<double>::infinity()));
    EXPECT_EQ(conv(value_kind::float64, "2.25").get<double>(), 2.25);
    EXPECT_EQ(conv(value_kind::float64, "0.1").get<double>(), 0.1);
    EXPECT_EQ(conv(value_kind::float64, "1e+20").get<double>(), 1e20);
    EXPECT_EQ(conv(value_kind::float64, "1.2345679e+11").get<double>(), 1.2345679e11);
    EXPECT_EQ(conv(value_kind::float64, "1.7976931348623157e+308").get<double>(),
              std::numeric_limits<double>::max());
    EXPECT_EQ(conv(value_kind::float64, "5e-324").get<double>(),
              std::numeric_limits<double>::denorm_min());
    EXPECT_EQ(conv(value_kind::float64, "1e-45").get<double>(), 1e-45);
    const double neg_zero = conv(value_kind::float64, "-0").get<double>();
    EXPECT_EQ(neg_zero, 0.0);
    EXPECT_TRUE(std::signbit(neg_zero));
    expect_invalid(value_kind::float64, "1e400", "out of the range of a double");
    for (const char* bad : {"", "inf", "nan", "infinity", "-", "abc", "1.5x", " 1", "+1", "0x1p3"})
        expect_invalid(value_kind::float64, bad);
}

TEST(value_converter, numeric_keeps_its_exact_text) {
    for (const char* text : {"12.500", "-99999999999999999999.99999999999999999999", "0", "-0.0",
                             "0.000000000000000000001", "123456789012345678901234567890", "NaN",
                             "Infinity", "-Infinity"}) {
        EXPECT_EQ(conv(value_kind::numeric, text), value(numeric_value{text})) << text;
    }
    for (const char* bad : {"", "1e5", "1.", ".5", "--1", "+1", "abc", "1,5", "nan"})
        expect_invalid(value_kind::numeric, bad);
}

TEST(value_converter, text_keeps_every_byte) {
    EXPECT_EQ(conv(value_kind::text, "ab   "), value("ab   "));
    EXPECT_EQ(conv(value_kind::text, ""), value(""));
    const std::string odd("tab\there\nnul\0end \xe2\x9c\x93", 20);
    EXPECT_EQ(conv(value_kind::text, odd), value(odd));
}

TEST(value_converter, bytea_decodes_hex_and_escape_formats) {
    EXPECT_EQ(conv(value_kind::bytes, "\\x0001ff"),
              value(bytes_value{std::string("\x00\x01\xff", 3)}));
    EXPECT_EQ(conv(value_kind::bytes, "\\xDEADbeef"), value(bytes_value{"\xde\xad\xbe\xef"}));
    EXPECT_EQ(conv(value_kind::bytes, "\\x"), value(bytes_value{""}));
    EXPECT_EQ(conv(value_kind::bytes, "ab\\000\\\\c\\377"),
              value(bytes_value{std::string("ab\x00\\c\xff", 6)}));
    expect_invalid(value_kind::bytes, "\\x0", "odd number of hex digits");
    expect_invalid(value_kind::bytes, "\\xzz", "invalid hex digit");
    expect_invalid(value_kind::bytes, "a\\q", "a backslash must start");
    expect_invalid(value_kind::bytes, "a\\40", "a backslash must start");
    expect_invalid(value_kind::bytes, "a\\400", "a backslash must start");
    expect_invalid(value_kind::bytes, "a\\", "a backslash must start");
}

TEST(value_converter, dates_count_days_from_1970_including_bc_and_infinity) {
    EXPECT_EQ(conv(value_kind::date, "1970-01-01"), value(date_value{0}));
    EXPECT_EQ(conv(value_kind::date, "2024-01-02"), value(date_value{19724}));
    EXPECT_EQ(conv(value_kind::date, "2000-02-29"), value(date_value{11016}));
    EXPECT_EQ(conv(value_kind::date, "0001-01-01"), value(date_value{-719162}));
    EXPECT_EQ(conv(value_kind::date, "0001-12-31 BC"), value(date_value{-719163}));
    EXPECT_EQ(conv(value_kind::date, "0044-03-15 BC"), value(date_value{-735160}));
    EXPECT_EQ(conv(value_kind::date, "4713-11-24 BC"), value(date_value{-2440222}));
    EXPECT_EQ(conv(value_kind::date, "5874897-12-31"), value(date_value{2145042905}));
    EXPECT_EQ(conv(value_kind::date, "10000-01-01"), value(date_value{2932897}));
    EXPECT_EQ(conv(value_kind::date, "infinity"), value(date_value{date_value::plus_infinity}));
    EXPECT_EQ(conv(value_kind::date, "-infinity"), value(date_value{date_value::minus_infinity}));
    expect_invalid(value_kind::date, "2001-02-29", "day out of range");
    expect_invalid(value_kind::date, "2024-13-01", "month out of range");
    expect_invalid(value_kind::date, "2024-00-01", "month out of range");
    expect_invalid(value_kind::date, "2024-01-32", "day out of range");
    expect_invalid(value_kind::date, "0000-01-01", "year 0 does not exist");
    expect_invalid(value_kind::date, "99999999-01-01", "expected a year of 4 to 7 digits");
    for (const char* bad : {"", "24-01-01", "2024-1-01", "2024-01-02 ", "2024-01-02 AD",
                            "2024/01/02", "Infinity", "2024-01-02 03:04:05"})
        expect_invalid(value_kind::date, bad);
}

TEST(value_converter, times_count_microseconds_from_midnight_up_to_24_00) {
    EXPECT_EQ(conv(value_kind::time, "00:00:00"), value(time_value{0}));
    EXPECT_EQ(conv(value_kind::time, "13:05:09.5"),
              value(time_value{13 * hour_us + 5 * 60'000'000LL + 9'500'000}));
    EXPECT_EQ(conv(value_kind::time, "12:00:00.000001"), value(time_value{12 * hour_us + 1}));
    EXPECT_EQ(conv(value_kind::time, "23:59:59.999999"), value(time_value{day_us - 1}));
    EXPECT_EQ(conv(value_kind::time, "24:00:00"), value(time_value{day_us}));
    for (const char* bad : {"24:00:01", "24:00:00.1", "25:00:00", "12:60:00", "12:00:60",
                            "12:00:00.1234567", "12:00", "1:00:00", "12:00:00+00", "", "12:00:00."})
        expect_invalid(value_kind::time, bad);
}

TEST(value_converter, timestamps_count_microseconds_from_1970) {
    EXPECT_EQ(conv(value_kind::timestamp, "1970-01-01 00:00:00"), value(timestamp_value{0}));
    EXPECT_EQ(conv(value_kind::timestamp, "2024-01-02 03:04:05.123456"),
              value(timestamp_value{1704164645123456LL}));
    EXPECT_EQ(conv(value_kind::timestamp, "1969-12-31 23:59:59.999999"),
              value(timestamp_value{-1}));
    EXPECT_EQ(conv(value_kind::timestamp, "0044-03-15 12:00:00 BC"),
              value(timestamp_value{-735160 * day_us + 12 * hour_us}));
    EXPECT_EQ(conv(value_kind::timestamp, "10000-01-01 00:00:00"),
              value(timestamp_value{2932897 * day_us}));
    EXPECT_EQ(conv(value_kind::timestamp, "infinity"),
              value(timestamp_value{timestamp_value::plus_infinity}));
    EXPECT_EQ(conv(value_kind::timestamp, "-infinity"),
              value(timestamp_value{timestamp_value::minus_infinity}));
    EXPECT_EQ(conv(value_kind::timestamp, "294247-01-10 04:00:54.775806"),
              value(timestamp_value{std::numeric_limits<std::int64_t>::max() - 1}));
    // PostgreSQL goes on to 294276 AD; the µs count since 1970 does not.
    expect_invalid(value_kind::timestamp, "294247-01-10 04:00:54.775807", "out of the range");
    expect_invalid(value_kind::timestamp, "294276-12-31 23:59:59.999999", "out of the range");
    expect_invalid(value_kind::timestamp, "5874897-12-31 00:00:00", "out of the range");
    for (const char* bad :
         {"2024-01-02T03:04:05", "2024-01-02 24:00:00", "2024-01-02", "2024-01-02 03:04:05+00",
          "2024-01-02  03:04:05", "2024-01-02 03:04:05 bc"})
        expect_invalid(value_kind::timestamp, bad);
}

TEST(value_converter, timestamptz_gives_the_same_instant_for_any_offset) {
    const value utc = conv(value_kind::timestamptz, "2024-01-02 03:04:05.123456+00");
    EXPECT_EQ(utc, value(timestamptz_value{1704164645123456LL}));
    EXPECT_EQ(conv(value_kind::timestamptz, "2024-01-02 04:04:05.123456+01"), utc);
    EXPECT_EQ(conv(value_kind::timestamptz, "2024-01-02 08:34:05.123456+05:30"), utc);
    EXPECT_EQ(conv(value_kind::timestamptz, "2024-01-01 23:34:05.123456-03:30"), utc);
    // Local mean time offsets carry seconds; BC comes after the offset.
    EXPECT_EQ(conv(value_kind::timestamptz, "1900-01-01 00:19:32+00:19:32"),
              conv(value_kind::timestamptz, "1900-01-01 00:00:00+00"));
    EXPECT_EQ(conv(value_kind::timestamptz, "1899-12-31 20:29:08-03:30:52"),
              conv(value_kind::timestamptz, "1900-01-01 00:00:00+00"));
    EXPECT_EQ(conv(value_kind::timestamptz, "0044-03-15 12:19:32.25+00:19:32 BC"),
              value(timestamptz_value{-735160 * day_us + 12 * hour_us + 250'000}));
    EXPECT_EQ(conv(value_kind::timestamptz, "4713-11-24 05:53:28+05:53:28 BC"),
              value(timestamptz_value{-2440222 * day_us}));
    EXPECT_EQ(conv(value_kind::timestamptz, "infinity"),
              value(timestamptz_value{timestamptz_value::plus_infinity}));
    EXPECT_EQ(conv(value_kind::timestamptz, "-infinity"),
              value(timestamptz_value{timestamptz_value::minus_infinity}));
    for (const char* bad :
         {"2024-01-02 03:04:05", "2024-01-02 03:04:05+1", "2024-01-02 03:04:05+16",
          "2024-01-02 03:04:05+05:60", "2024-01-02 03:04:05 +00", "2024-01-02 03:04:05+00 AD",
          "2024-01-02 03:04:05+00:00:00:00", "2024-01-02 03:04:05Z"})
        expect_invalid(value_kind::timestamptz, bad);
    expect_invalid(value_kind::timestamptz, "294276-12-31 23:59:59.999999+00", "out of the range");
}

TEST(value_converter, uuid_is_canonical_lower_case_text) {
    EXPECT_EQ(conv(value_kind::uuid, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
              value("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
    EXPECT_EQ(conv(value_kind::uuid, "00000000-0000-0000-0000-000000000000"),
              value("00000000-0000-0000-0000-000000000000"));
    expect_invalid(value_kind::uuid, "a0eebc999c0b4ef8bb6d6bb9bd380a11", "expected 36 characters");
    expect_invalid(value_kind::uuid, "a0eebc99-9c0b-4ef8-bb6d_6bb9bd380a11", "expected '-'");
    expect_invalid(value_kind::uuid, "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "invalid hex digit");
}

TEST(value_converter, json_interval_and_arrays_keep_their_text_in_their_alternative) {
    EXPECT_EQ(conv(value_kind::json, "{\"a\": 1}"), value(json_value{"{\"a\": 1}"}));
    EXPECT_EQ(conv(value_kind::interval, "1 year 2 mons"), value(interval_value{"1 year 2 mons"}));
    EXPECT_EQ(conv(value_kind::array, "{1,2,NULL}"), value(array_value{"{1,2,NULL}"}));
}

TEST(value_converter, errors_quote_long_or_binary_text_briefly) {
    const std::string long_text(1000, '9');
    const auto what = expect_error([&] { (void)convert_text(value_kind::date, long_text); },
                                   errc::corrupt_data, "(1000 bytes)");
    EXPECT_LT(what.size(), 300u);
    expect_error([] { (void)convert_text(value_kind::boolean, std::string("\x00\x01", 2)); },
                 errc::corrupt_data, "\"\\x00\\x01\"");
}

TEST(builtin_types, map_oids_names_and_kinds) {
    const struct {
        std::uint32_t oid;
        const char* name;
        value_kind kind;
    } expected[] = {
        {16, "bool", value_kind::boolean},
        {17, "bytea", value_kind::bytes},
        {18, "char", value_kind::text},
        {19, "name", value_kind::text},
        {20, "int8", value_kind::int64},
        {21, "int2", value_kind::int64},
        {22, "int2vector", value_kind::text},
        {23, "int4", value_kind::int64},
        {25, "text", value_kind::text},
        {26, "oid", value_kind::int64},
        {28, "xid", value_kind::int64},
        {114, "json", value_kind::json},
        {700, "float4", value_kind::float64},
        {701, "float8", value_kind::float64},
        {869, "inet", value_kind::text},
        {1000, "_bool", value_kind::array},
        {1007, "_int4", value_kind::array},
        {1009, "_text", value_kind::array},
        {1042, "bpchar", value_kind::text},
        {1043, "varchar", value_kind::text},
        {1082, "date", value_kind::date},
        {1083, "time", value_kind::time},
        {1114, "timestamp", value_kind::timestamp},
        {1184, "timestamptz", value_kind::timestamptz},
        {1186, "interval", value_kind::interval},
        {1266, "timetz", value_kind::text},
        {1700, "numeric", value_kind::numeric},
        {2950, "uuid", value_kind::uuid},
        {3802, "jsonb", value_kind::json},
        {3807, "_jsonb", value_kind::array},
        {3220, "pg_lsn", value_kind::text},
    };
    for (const auto& e : expected) {
        const auto* t = find_builtin_type(e.oid);
        ASSERT_NE(t, nullptr) << e.oid;
        EXPECT_EQ(t->name, e.name);
        EXPECT_EQ(t->kind, e.kind) << e.name;
        EXPECT_EQ(find_builtin_type(std::string_view(e.name)), t);
    }
    EXPECT_EQ(find_builtin_type(std::uint32_t{16384}), nullptr);
    EXPECT_EQ(find_builtin_type(std::string_view("mood")), nullptr);
}

TEST(value_converter_registry, unknown_types_convert_as_text) {
    value_converter c;
    EXPECT_EQ(c.kind_of(99999), value_kind::text);
    EXPECT_EQ(c.type_name(99999), "");
    EXPECT_EQ(c.convert(99999, "happy"), value("happy"));
    EXPECT_EQ(c.convert(23, "42"), value(42));
    EXPECT_EQ(c.type_name(23), "int4");
}

TEST(value_converter_registry, learns_domains_arrays_and_enums_from_type_messages) {
    value_converter c;
    c.apply(type_message{16385, "public", "mood"});
    c.apply(type_message{16384, "public", "_mood"});
    c.apply(type_message{16392, "", "int4"});  // a domain: named by its base type
    EXPECT_EQ(c.kind_of(16385), value_kind::text);
    EXPECT_EQ(c.kind_of(16384), value_kind::array);
    EXPECT_EQ(c.kind_of(16392), value_kind::int64);
    EXPECT_EQ(c.type_name(16385), "mood");
    EXPECT_EQ(c.convert(16392, "7"), value(7));
    // A type in another schema that happens to be called like a built-in is not one.
    c.apply(type_message{16400, "app", "int4"});
    EXPECT_EQ(c.kind_of(16400), value_kind::text);
    EXPECT_EQ(c.registered_count(), 4u);
}

TEST(value_converter_registry, registered_types_win_over_type_messages) {
    value_converter c;
    c.register_type(16392, "posint", value_kind::int64);
    c.apply(type_message{16392, "", "text"});
    EXPECT_EQ(c.kind_of(16392), value_kind::int64);
    EXPECT_EQ(c.type_name(16392), "posint");
}

TEST(value_converter_registry, conversion_errors_name_the_type) {
    value_converter c;
    c.apply(type_message{16392, "", "int4"});
    expect_error([&] { (void)c.convert(16392, "x"); }, errc::corrupt_data, "type 16392 (int4)",
                 "invalid integer text \"x\"");
    const auto what = expect_error([&] { (void)c.convert(1184, "yesterday"); }, errc::corrupt_data,
                                   "type 1184 (timestamptz)");
    // The code's message appears once, not once per wrapping.
    EXPECT_EQ(what.find("corrupt data"), what.rfind("corrupt data"));
}
