#include "laredo/targets/memory/packed_row.hpp"

#include "laredo/error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace laredo;
using laredo::targets::memory::packed_row;
using laredo::targets::memory::packed_view;
using laredo::targets::memory::value_view;

namespace {

std::vector<value> every_alternative() {
    return {
        value(),
        value(true),
        value(false),
        value(std::int64_t{-42}),
        value(std::numeric_limits<std::int64_t>::max()),
        value(3.25),
        value(std::nan("")),
        value(-std::numeric_limits<double>::infinity()),
        value(numeric_value{"12.500"}),
        value("text"),
        value(""),
        value(bytes_value{std::string("\x00\xff\x10", 3)}),
        value(date_value{-719528}),
        value(date_value{date_value::plus_infinity}),
        value(time_value{86'399'999'999}),
        value(timestamp_value{timestamp_value::minus_infinity}),
        value(timestamptz_value{1'700'000'000'000'000}),
        value(interval_value{"1 day 02:00:00"}),
        value(json_value{R"({"a":1})"}),
        value(array_value{"{1,2,3}"}),
        value::unchanged(),
    };
}

}  // namespace

TEST(packed_row, round_trips_every_value_alternative) {
    const auto values = every_alternative();
    const auto packed = packed_row::encode(values);
    ASSERT_EQ(packed.column_count(), values.size());
    const auto decoded = packed.view().values(values.size());
    ASSERT_EQ(decoded.size(), values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        EXPECT_EQ(decoded[i], values[i]) << "column " << i << ": " << values[i].to_string();
        EXPECT_EQ(decoded[i].get_type(), values[i].get_type()) << "column " << i;
    }
}

TEST(packed_row, reads_any_column_in_place) {
    const std::vector<value> values{value(7), value("ann"), value(2.5)};
    const auto packed = packed_row::encode(values);
    EXPECT_EQ(packed[1].bytes(), "ann");
    EXPECT_EQ(packed[0].integer(), 7);
    EXPECT_EQ(packed[2].float64(), 2.5);
}

TEST(packed_row, columns_past_the_end_read_as_null) {
    const std::vector<value> values{value(1)};
    const auto packed = packed_row::encode(values);
    EXPECT_TRUE(packed[1].is_null());
    const auto decoded = packed.view().values(3);
    EXPECT_EQ(decoded, (std::vector<value>{value(1), value(), value()}));
}

TEST(packed_row, takes_one_allocation_close_to_the_raw_size) {
    // bigint, 20-byte text, float8, 100-byte text, timestamptz: the memory goal's shape.
    const std::vector<value> values{value(std::int64_t{123456}), value(std::string(20, 'n')),
                                    value(1.25), value(std::string(100, 'p')),
                                    value(timestamptz_value{1'700'000'000'000'000})};
    std::size_t raw = 0;
    for (const auto& v : values) raw += v.raw_size();
    const auto packed = packed_row::encode(values);
    // The column count, a nibble per column's tag and a length byte per short text.
    EXPECT_EQ(packed.view().size_bytes(), raw + 1 + 3 + 2);
}

TEST(packed_row, long_texts_take_a_longer_length) {
    const std::string big(70'000, 'x');
    const std::vector<value> values{value(1), value(big), value("tail")};
    const auto packed = packed_row::encode(values);
    EXPECT_EQ(packed[1].bytes().size(), big.size());
    EXPECT_EQ(packed[2].bytes(), "tail");
    EXPECT_EQ(packed.view().values(3), values);
    // 70 000 needs three 7-bit groups.
    EXPECT_EQ(packed.view().size_bytes(), 1 + 2 + 8 + (3 + big.size()) + (1 + 4));
}

TEST(packed_row, wide_rows_reach_every_column) {
    // 70 columns of every alternative: reads past the jumps every 16 columns, in place and
    // in order, and a column count that takes two varint bytes.
    const auto alternatives = every_alternative();
    std::vector<value> values;
    for (std::size_t i = 0; i < 70; ++i) values.push_back(alternatives[i % alternatives.size()]);
    values[33] = value(std::string(300, 'y'));
    const auto packed = packed_row::encode(values);
    ASSERT_EQ(packed.column_count(), values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        EXPECT_EQ(packed[i].to_value(), values[i]) << "column " << i;
        EXPECT_EQ(packed[i].type(), values[i].get_type()) << "column " << i;
    }
    EXPECT_EQ(packed.view().values(values.size()), values);
    EXPECT_TRUE(packed[70].is_null());
    std::vector<value> many(200, value(7));
    const auto two_byte_count = packed_row::encode(many);
    EXPECT_EQ(two_byte_count.column_count(), 200u);
    EXPECT_EQ(two_byte_count[199].integer(), 7);
    EXPECT_EQ(two_byte_count.view().size_bytes(), 2 + 100 + (199 / 16) * 4 + 200 * 8);
}

TEST(packed_row, encodes_into_bytes_of_the_announced_size) {
    const std::vector<value> values{value(1), value("abc"), value()};
    std::vector<value_view> views;
    for (const auto& v : values) views.push_back(value_view::of(v));
    const std::size_t size = packed_row::encoded_size(views);
    EXPECT_EQ(size, packed_row::encode(values).view().size_bytes());
    std::vector<std::byte> bytes(size);
    packed_row::encode_into(bytes.data(), views);
    EXPECT_EQ(packed_view(bytes.data()).values(3), values);
}

TEST(packed_row, encodes_an_empty_row) {
    const auto packed = packed_row::encode(std::vector<value>{});
    EXPECT_EQ(packed.column_count(), 0u);
    EXPECT_TRUE(packed[0].is_null());
}

TEST(packed_row, merge_fills_unchanged_columns_from_the_stored_row) {
    const std::vector<value> stored_values{value(1), value("old name"), value("big toast")};
    const auto stored = packed_row::encode(stored_values);
    const std::vector<value> update{value(1), value("new name"), value::unchanged()};
    const auto merged = packed_row::encode_merged(update, stored.view());
    EXPECT_EQ(merged.view().values(3),
              (std::vector<value>{value(1), value("new name"), value("big toast")}));
}

TEST(packed_row, merge_without_a_stored_row_keeps_the_unchanged_marker) {
    const std::vector<value> update{value(1), value::unchanged()};
    const auto merged = packed_row::encode_merged(update, packed_view());
    EXPECT_TRUE(merged[1].is_unchanged());
}

TEST(packed_row, clone_copies_the_bytes) {
    const std::vector<value> values{value(1), value("a")};
    const auto a = packed_row::encode(values);
    const auto b = a.clone();
    EXPECT_NE(a.data(), b.data());
    EXPECT_TRUE(a.view() == b.view());
    const std::vector<value> other{value(1), value("b")};
    EXPECT_FALSE(a.view() == packed_row::encode(other).view());
}

TEST(value_view, packed_views_order_like_borrowed_views) {
    const auto values = every_alternative();
    const auto packed = packed_row::encode(values);
    for (std::size_t i = 0; i < values.size(); ++i) {
        for (std::size_t j = 0; j < values.size(); ++j) {
            EXPECT_EQ(packed[i] <=> packed[j], values[i] <=> values[j]) << i << " vs " << j;
        }
    }
}

TEST(packed_row, compares_selected_columns) {
    const std::vector<value> a{value(1), value("x"), value(5)};
    const std::vector<value> b{value(1), value("y"), value(4)};
    const auto pa = packed_row::encode(a);
    const auto pb = packed_row::encode(b);
    const std::vector<std::size_t> first{0};
    const std::vector<std::size_t> first_second{0, 1};
    const std::vector<std::size_t> third_first{2, 0};
    EXPECT_EQ(compare_columns(pa.view(), pb.view(), first), std::strong_ordering::equal);
    EXPECT_EQ(compare_columns(pa.view(), pb.view(), first_second), std::strong_ordering::less);
    EXPECT_EQ(compare_columns(pa.view(), pb.view(), third_first), std::strong_ordering::greater);
    const std::vector<value_view> key{value_view::of(b[1]), value_view::of(b[0])};
    const std::vector<std::size_t> second_first{1, 0};
    EXPECT_EQ(compare_columns(pb.view(), key, second_first), std::strong_ordering::equal);
    EXPECT_EQ(compare_columns(pa.view(), key, second_first), std::strong_ordering::less);
}

TEST(packed_row, refuses_more_than_65535_columns) {
    const std::vector<value> values(65536, value(1));
    EXPECT_THROW((void)packed_row::encode(values), error);
}
