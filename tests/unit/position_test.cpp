#include "laredo/position.hpp"
#include "laredo/error.hpp"

#include <gtest/gtest.h>

using laredo::position;

TEST(position, default_is_empty) {
    position p;
    EXPECT_TRUE(p.empty());
    EXPECT_EQ(p.get_kind(), position::kind::empty);
    EXPECT_EQ(p.debug_string(), "<empty>");
}

TEST(position, keeps_each_kind_and_compares_by_kind_and_content) {
    EXPECT_EQ(position::from_sequence(7).sequence(), 7u);
    const auto p = position::from_pair(0x16B3748, 3);
    EXPECT_EQ(p.major(), 0x16B3748u);
    EXPECT_EQ(p.minor(), 3u);
    EXPECT_EQ(position::from_text("shard:1").text(), "shard:1");
    EXPECT_EQ(position::from_sequence(7), position::from_sequence(7));
    EXPECT_NE(position::from_sequence(7), position::from_pair(7, 0));
    EXPECT_NE(position::from_pair(7, 1), position::from_pair(7, 2));
}

TEST(position, wrong_kind_access_is_an_invalid_position_error) {
    try {
        (void)position::from_sequence(1).major();
        FAIL() << "no error";
    } catch (const laredo::error& e) {
        EXPECT_EQ(e.code(), laredo::errc::invalid_position);
    }
    EXPECT_THROW((void)position().sequence(), laredo::error);
    EXPECT_THROW((void)position::from_pair(1, 2).text(), laredo::error);
}
