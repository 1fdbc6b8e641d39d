#include "laredo/targets/memory/value_view.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace laredo;
using laredo::targets::memory::value_view;

namespace {

std::vector<value> samples() {
    return {value(),
            value::unchanged(),
            value(false),
            value(true),
            value(std::int64_t{-1}),
            value(std::numeric_limits<std::int64_t>::min()),
            value(0.0),
            value(-0.0),
            value(std::nan("")),
            value(std::numeric_limits<double>::infinity()),
            value(""),
            value("a"),
            value(std::string("\xff", 1)),
            value(numeric_value{"1.5"}),
            value(bytes_value{std::string("\x80", 1)}),
            value(date_value{date_value::minus_infinity}),
            value(time_value{5}),
            value(timestamp_value{-5}),
            value(timestamptz_value{7}),
            value(interval_value{"1 day"}),
            value(json_value{"{}"}),
            value(array_value{"{}"})};
}

}  // namespace

TEST(value_view, orders_exactly_like_value) {
    const auto values = samples();
    for (const auto& a : values) {
        for (const auto& b : values) {
            EXPECT_EQ(value_view::of(a) <=> value_view::of(b), a <=> b)
                << a.to_string() << " vs " << b.to_string();
        }
    }
}

TEST(value_view, converts_back_to_an_equal_value) {
    for (const auto& v : samples()) {
        const value back = value_view::of(v).to_value();
        EXPECT_EQ(back, v) << v.to_string();
        EXPECT_EQ(back.get_type(), v.get_type()) << v.to_string();
    }
}
