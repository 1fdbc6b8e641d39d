#include "laredo/value.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace laredo;

TEST(value, knows_its_alternative) {
    EXPECT_EQ(value().get_type(), value::type::null);
    EXPECT_EQ(value(true).get_type(), value::type::boolean);
    EXPECT_EQ(value(42).get_type(), value::type::int64);
    EXPECT_EQ(value(1.5).get_type(), value::type::float64);
    EXPECT_EQ(value("x").get_type(), value::type::text);
    EXPECT_EQ(value(numeric_value{"1.50"}).get_type(), value::type::numeric);
    EXPECT_EQ(value::unchanged().get_type(), value::type::unchanged);
    EXPECT_TRUE(value::unchanged().is_unchanged());
}

TEST(value, nan_equals_nan_and_sorts_above_every_double) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(value(nan), value(nan));
    EXPECT_LT(value(inf), value(nan));
    EXPECT_LT(value(-inf), value(0.0));
    EXPECT_EQ(value(-0.0), value(0.0));
    EXPECT_EQ(value(nan).to_string(), "NaN");
    EXPECT_EQ(value(inf).to_string(), "Infinity");
    EXPECT_EQ(value(-inf).to_string(), "-Infinity");
}

TEST(value, different_alternatives_never_compare_equal) {
    EXPECT_NE(value(1), value(1.0));
    EXPECT_NE(value("1"), value(numeric_value{"1"}));
    EXPECT_NE(value(), value(""));
}

TEST(value, renders_dates_and_times_in_iso_8601) {
    EXPECT_EQ(value(date_value{0}).to_string(), "1970-01-01");
    EXPECT_EQ(value(date_value{-1}).to_string(), "1969-12-31");
    EXPECT_EQ(value(date_value{19723}).to_string(), "2024-01-01");
    EXPECT_EQ(value(date_value{date_value::plus_infinity}).to_string(), "infinity");
    EXPECT_EQ(value(time_value{(13 * 3600 + 5 * 60 + 9) * 1'000'000LL + 500'000}).to_string(),
              "13:05:09.5");
    EXPECT_EQ(value(timestamptz_value{-1}).to_string(), "1969-12-31T23:59:59.999999Z");
    EXPECT_EQ(value(timestamp_value{timestamp_value::minus_infinity}).to_string(), "-infinity");
    EXPECT_EQ(value(bytes_value{std::string("\x01\xff", 2)}).to_string(), "\\x01ff");
}

TEST(value, raw_size_counts_content_bytes) {
    EXPECT_EQ(value(7).raw_size(), 8u);
    EXPECT_EQ(value("hello").raw_size(), 5u);
    EXPECT_EQ(value().raw_size(), 0u);
}
