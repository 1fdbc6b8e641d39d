#include "expect_error.hpp"

#include "laredo/sources/postgres/lsn.hpp"

#include <gtest/gtest.h>

using namespace laredo::sources::postgres;
using laredo::errc;
using laredo::position;
using laredo::sources::postgres::testing::expect_error;

TEST(lsn, formats_high_half_unpadded_and_low_half_padded_upper_case) {
    EXPECT_EQ(format_lsn(0), "0/00000000");
    EXPECT_EQ(format_lsn(1), "0/00000001");
    EXPECT_EQ(format_lsn(0x1A2B3C4D5EULL), "1A/2B3C4D5E");
    EXPECT_EQ(format_lsn(0xFFFFFFFFULL), "0/FFFFFFFF");
    EXPECT_EQ(format_lsn(0xFFFFFFFFFFFFFFFFULL), "FFFFFFFF/FFFFFFFF");
}

TEST(lsn, parses_any_hex_case_padded_or_not) {
    EXPECT_EQ(parse_lsn("1A/2B3C4D5E"), 0x1A2B3C4D5EULL);
    EXPECT_EQ(parse_lsn("1a/2b3c4d5e"), 0x1A2B3C4D5EULL);
    EXPECT_EQ(parse_lsn("1a/2B3c4D5e"), 0x1A2B3C4D5EULL);
    EXPECT_EQ(parse_lsn("0/16B3748"), 0x16B3748ULL);  // PostgreSQL's own %X/%X
    EXPECT_EQ(parse_lsn("0/0"), 0u);
    EXPECT_EQ(parse_lsn("FFFFFFFF/FFFFFFFF"), 0xFFFFFFFFFFFFFFFFULL);
}

TEST(lsn, round_trips_through_its_string_form) {
    for (std::uint64_t v :
         {0ULL, 1ULL, 0xFFFFFFFFULL, 0x100000000ULL, 0x1A2B3C4D5EULL, 0xFFFFFFFFFFFFFFFFULL}) {
        EXPECT_EQ(parse_lsn(format_lsn(v)), v);
    }
}

TEST(lsn, rejects_malformed_text_naming_it) {
    for (const char* bad : {"", "/", "0/", "/0", "16B3748", "0/123456789", "123456789/0", "0/0/0",
                            "g/0", "0/-1", "-1/0", " 0/0", "0/0 ", "+1/0", "0x1/0", "1:2"}) {
        expect_error([&] { (void)parse_lsn(bad); }, errc::invalid_position, "invalid LSN",
                     std::string("\"") + bad + "\"");
        EXPECT_FALSE(try_parse_lsn(bad).has_value()) << bad;
    }
}

TEST(lsn_position, string_form_leaves_out_row_number_zero) {
    EXPECT_EQ(position_to_string(make_position(0x16B3748, 0)), "0/016B3748");
    EXPECT_EQ(position_to_string(make_position(0x16B3748, 3)), "0/016B3748:3");
    EXPECT_EQ(position_to_string(make_position(0x1A2B3C4D5EULL, 18446744073709551615ULL)),
              "1A/2B3C4D5E:18446744073709551615");
    EXPECT_EQ(position_to_string(position()), "");
}

TEST(lsn_position, bare_lsn_reads_as_row_number_zero) {
    EXPECT_EQ(position_from_string("0/16B3748"), make_position(0x16B3748, 0));
    EXPECT_EQ(position_from_string("0/016b3748:0"), make_position(0x16B3748, 0));
    EXPECT_EQ(position_from_string("0/016B3748:12"), make_position(0x16B3748, 12));
    EXPECT_EQ(position_from_string(""), position());
}

TEST(lsn_position, round_trips_exactly) {
    for (const auto& p :
         {make_position(0, 0), make_position(0, 1), make_position(0x100000000ULL, 7),
          make_position(0xFFFFFFFFFFFFFFFFULL, 0xFFFFFFFFFFFFFFFFULL), position()}) {
        EXPECT_EQ(position_from_string(position_to_string(p)), p) << p.debug_string();
    }
    for (const char* text : {"0/00000000", "0/016B3748:3", "FF/FFFFFFFF:1"}) {
        EXPECT_EQ(position_to_string(position_from_string(text)), text);
    }
}

TEST(lsn_position, rejects_malformed_positions_naming_them) {
    for (const char* bad : {"x", "0/0:", "0/0:-1", "0/0:1:2", "0/0:a", "0/0: 1",
                            "0/0:18446744073709551616", ":1", "0/0:+1"}) {
        expect_error([&] { (void)position_from_string(bad); }, errc::invalid_position,
                     "invalid PostgreSQL position", std::string("\"") + bad + "\"");
    }
}

TEST(lsn_position, refuses_positions_of_other_kinds) {
    expect_error([] { (void)position_to_string(position::from_sequence(5)); },
                 errc::invalid_position, "not a PostgreSQL position");
    expect_error([] { (void)compare_positions(position::from_text("a"), make_position(1)); },
                 errc::invalid_position, "not a PostgreSQL position");
}

TEST(lsn_position, compares_by_lsn_then_row_number_across_the_32_bit_boundary) {
    EXPECT_LT(compare_positions(make_position(0xFFFFFFFFULL, 9), make_position(0x100000000ULL, 0)),
              0);
    EXPECT_GT(compare_positions(make_position(0x100000000ULL, 0), make_position(0xFFFFFFFFULL, 9)),
              0);
    EXPECT_LT(compare_positions(make_position(5, 1), make_position(5, 2)), 0);
    EXPECT_LT(compare_positions(make_position(5, 0), make_position(5, 1)), 0);
    EXPECT_EQ(compare_positions(make_position(5, 2), make_position(5, 2)), 0);
    EXPECT_LT(compare_positions(position(), make_position(0, 0)), 0);
    EXPECT_GT(compare_positions(make_position(0, 0), position()), 0);
    EXPECT_EQ(compare_positions(position(), position()), 0);
}
