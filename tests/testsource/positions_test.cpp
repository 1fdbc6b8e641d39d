// Position order and string forms in both modes.
#include "fixture.hpp"

namespace laredo::testing {
namespace {

ts::test_source make_source(io_context& ctx, ts::position_mode mode) {
    ts::test_source_options options;
    options.positions = mode;
    return ts::test_source(ctx.get_executor(), options);
}

void expect_invalid(const ts::test_source& src, const std::string& text) {
    try {
        src.position_from_string(text);
        ADD_FAILURE() << "\"" << text << "\" was accepted";
    } catch (const laredo::error& e) {
        EXPECT_EQ(e.code(), errc::invalid_position) << text;
        EXPECT_NE(std::string(e.what()).find("\"" + text + "\""), std::string::npos)
            << "the message does not name the text: " << e.what();
    }
}

TEST(positions, sequence_positions_round_trip_and_order) {
    io_context ctx;
    ts::test_source src(ctx.get_executor());
    for (std::uint64_t n : {0ULL, 1ULL, 42ULL, 18446744073709551615ULL}) {
        const auto p = position::from_sequence(n);
        EXPECT_EQ(src.position_to_string(p), std::to_string(n));
        EXPECT_EQ(src.position_from_string(src.position_to_string(p)), p);
    }
    EXPECT_LT(src.compare_positions(position::from_sequence(2), position::from_sequence(10)), 0);
    EXPECT_GT(src.compare_positions(position::from_sequence(10), position::from_sequence(2)), 0);
    EXPECT_EQ(src.compare_positions(position::from_sequence(5), position::from_sequence(5)), 0);
    // The empty position sorts first and round-trips as the empty string.
    EXPECT_LT(src.compare_positions(position{}, position::from_sequence(0)), 0);
    EXPECT_EQ(src.position_to_string(position{}), "");
    EXPECT_TRUE(src.position_from_string("").empty());
}

TEST(positions, malformed_sequence_strings_are_rejected_naming_the_text) {
    io_context ctx;
    ts::test_source src(ctx.get_executor());
    for (const char* text :
         {"abc", "-1", "+1", " 1", "1 ", "1:2", "0x10", "1.5", "18446744073709551616"}) {
        expect_invalid(src, text);
    }
}

TEST(positions, positions_of_the_other_mode_are_rejected) {
    io_context ctx;
    ts::test_source src(ctx.get_executor());
    const auto pair = position::from_pair(1, 2);
    EXPECT_THROW(src.position_to_string(pair), laredo::error);
    EXPECT_THROW(src.compare_positions(pair, position::from_sequence(1)), laredo::error);
    EXPECT_THROW(src.position_to_string(position::from_text("x")), laredo::error);
    try {
        src.compare_positions(pair, position::from_sequence(1));
    } catch (const laredo::error& e) {
        EXPECT_EQ(e.code(), errc::invalid_position);
    }
}

TEST(positions, pair_positions_round_trip_leaving_out_row_zero) {
    io_context ctx;
    auto src = make_source(ctx, ts::position_mode::pair);
    EXPECT_EQ(src.position_to_string(position::from_pair(12, 3)), "12:3");
    EXPECT_EQ(src.position_to_string(position::from_pair(12, 0)), "12");
    EXPECT_EQ(src.position_from_string("12:3"), position::from_pair(12, 3));
    EXPECT_EQ(src.position_from_string("12"), position::from_pair(12, 0));
    EXPECT_EQ(src.position_from_string("12:0"), position::from_pair(12, 0));
    for (const auto& p : {position::from_pair(0, 0), position::from_pair(7, 1),
                          position::from_pair(18446744073709551615ULL, 18446744073709551615ULL)}) {
        EXPECT_EQ(src.position_from_string(src.position_to_string(p)), p);
    }
    EXPECT_LT(src.compare_positions(position::from_pair(1, 9), position::from_pair(2, 1)), 0);
    EXPECT_LT(src.compare_positions(position::from_pair(2, 1), position::from_pair(2, 2)), 0);
    EXPECT_EQ(src.compare_positions(position::from_pair(2, 2), position::from_pair(2, 2)), 0);
    EXPECT_THROW(src.compare_positions(position::from_sequence(2), position::from_pair(2, 2)),
                 laredo::error);
}

TEST(positions, malformed_pair_strings_are_rejected_naming_the_text) {
    io_context ctx;
    auto src = make_source(ctx, ts::position_mode::pair);
    for (const char* text : {"12:", ":3", "1:2:3", "a:1", "1:b", "1::2", " 1:2", "1:2 ", "-1:2",
                             "1:-2", "99999999999999999999:1"}) {
        expect_invalid(src, text);
    }
}

}  // namespace
}  // namespace laredo::testing
