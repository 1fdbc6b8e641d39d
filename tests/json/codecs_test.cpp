#include "laredo/json/values.hpp"

#include "laredo/error.hpp"

#include <boost/json/serialize.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace laredo::json {
namespace {

using ::testing::HasSubstr;

// The code and message of the laredo::error `f` throws (fails the test when it throws none).
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

TEST(crc32c, matches_published_check_values) {
    EXPECT_EQ(crc32c(""), 0u);
    EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
    // RFC 3720 (iSCSI) B.4 test vectors.
    EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
    EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
    std::string ascending(32, '\0');
    for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
    EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
}

TEST(crc32c, seed_continues_a_previous_result) {
    const std::string a = "the quick brown fox ", b = "jumps over the lazy dog, twice over";
    EXPECT_EQ(crc32c(b, crc32c(a)), crc32c(a + b));
    EXPECT_NE(crc32c(a + b), crc32c(b + a));
}

TEST(crc32c, detects_a_single_flipped_bit_anywhere) {
    std::string line = R"({"sequence":1,"pipeline":"pg:public.users","message":"x"})";
    const auto good = crc32c(line);
    for (std::size_t i = 0; i < line.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string bad = line;
            bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
            ASSERT_NE(crc32c(bad), good) << "byte " << i << " bit " << bit;
        }
    }
}

TEST(hex, writes_sixteen_lowercase_digits_and_reads_them_back) {
    EXPECT_EQ(to_hex(0), "0000000000000000");
    EXPECT_EQ(to_hex(0xDEADBEEF), "00000000deadbeef");
    EXPECT_EQ(to_hex(~std::uint64_t{0}), "ffffffffffffffff");
    for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0x0123456789abcdef},
                            ~std::uint64_t{0}}) {
        EXPECT_EQ(from_hex(to_hex(v)), v);
    }
    EXPECT_EQ(from_hex("00000000DEADBEEF"), 0xDEADBEEFu);
}

TEST(hex, rejects_wrong_length_and_non_hex_digits) {
    for (std::string_view bad : {"", "deadbeef", "00000000000000000", "000000000000000g",
                                 "-000000000000001", " 000000000000001"}) {
        const auto [code, message] = failure_of([&] { from_hex(bad); });
        EXPECT_EQ(code, errc::corrupt_data) << bad;
        EXPECT_THAT(message, HasSubstr("hex")) << bad;
    }
}

TEST(base64, matches_rfc_4648_vectors) {
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : cases) {
        EXPECT_EQ(base64_encode(plain), encoded);
        EXPECT_EQ(base64_decode(encoded), plain);
    }
}

TEST(base64, round_trips_every_byte_value) {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    for (std::size_t n = 0; n <= all.size(); n += 37) {
        const auto part = all.substr(all.size() - n);
        EXPECT_EQ(base64_decode(base64_encode(part)), part);
    }
}

TEST(base64, rejects_malformed_text) {
    for (std::string_view bad :
         {"Zg=", "Z===", "Zm9", "Zm9v!A==", "Zg==Zg==", "Zh==", "Zm9=", "Zm=v"}) {
        const auto [code, message] = failure_of([&] { base64_decode(bad); });
        EXPECT_EQ(code, errc::corrupt_data) << bad;
        EXPECT_THAT(message, HasSubstr("base64")) << bad;
    }
}

TEST(utf8, accepts_well_formed_text) {
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("plain ascii"));
    EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
    EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
    EXPECT_TRUE(is_valid_utf8(std::string("nul\0inside", 10)));
}

TEST(utf8, rejects_ill_formed_text) {
    for (std::string_view bad : {"\xFF", "a\x80", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                                 "\xF4\x90\x80\x80", "\xC3", "\xE2\x82", "\xF5\x80\x80\x80"}) {
        EXPECT_FALSE(is_valid_utf8(bad)) << ::testing::PrintToString(bad);
    }
}

TEST(utf8, sanitize_replaces_each_bad_sequence_with_one_replacement_character) {
    const std::string r = "\xEF\xBF\xBD";
    EXPECT_EQ(sanitize_utf8("ok"), "ok");
    EXPECT_EQ(sanitize_utf8("a\xFF"
                            "b"),
              "a" + r + "b");
    // A truncated 3-byte sequence is one maximal subpart: one replacement.
    EXPECT_EQ(sanitize_utf8("x\xE2\x82y"), "x" + r + "y");
    // A surrogate's lead byte is bad on its own, then each continuation byte.
    EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), r + r + r);
    EXPECT_EQ(sanitize_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
    EXPECT_TRUE(is_valid_utf8(sanitize_utf8("\xC3\xC3\xA9\x80\xF0\x9F\x98")));
}

TEST(parse, reads_every_double_exactly) {
    std::mt19937_64 rng(42);
    int checked = 0;
    while (checked < 20000) {
        const std::uint64_t bits = rng();
        double d = 0;
        std::memcpy(&d, &bits, sizeof d);
        if (!std::isfinite(d)) continue;
        const auto text = boost::json::serialize(boost::json::value(d));
        const auto back = parse(text);
        ASSERT_TRUE(back.is_double()) << text;
        const double e = back.get_double();
        ASSERT_EQ(std::memcmp(&d, &e, sizeof d), 0) << text;
        ++checked;
    }
}

TEST(parse, reads_documents_and_numbers_of_every_kind) {
    const auto j = parse(R"({"a":[1,-2,18446744073709551615,1.5E0,"x",null,true],"b":{}})");
    const auto& a = j.at("a").as_array();
    EXPECT_EQ(a[0].as_int64(), 1);
    EXPECT_EQ(a[1].as_int64(), -2);
    EXPECT_EQ(a[2].as_uint64(), 18446744073709551615ull);
    EXPECT_EQ(a[3].as_double(), 1.5);
    EXPECT_EQ(a[4].as_string(), "x");
    EXPECT_TRUE(a[5].is_null());
    EXPECT_TRUE(a[6].as_bool());
    EXPECT_TRUE(j.at("b").as_object().empty());
}

TEST(parse, rejects_bad_json_naming_the_offset) {
    for (std::string_view bad : {"", "{", R"({"a":1} x)", "[1,]", "\"\xFF\"", "nul"}) {
        const auto [code, message] = failure_of([&] { parse(bad); });
        EXPECT_EQ(code, errc::corrupt_data) << bad;
        EXPECT_THAT(message, HasSubstr("invalid JSON at offset")) << bad;
    }
}

TEST(time_point, formats_microseconds_and_keeps_nanoseconds) {
    using namespace std::chrono;
    const system_clock::time_point t{microseconds(1'704'164'645'123'456)};
    EXPECT_EQ(format_time_point(t), "2024-01-02T03:04:05.123456Z");
    EXPECT_EQ(format_time_point(t + nanoseconds(7)), "2024-01-02T03:04:05.123456007Z");
    EXPECT_EQ(format_time_point(system_clock::time_point{}), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(format_time_point(system_clock::time_point{} - microseconds(1)),
              "1969-12-31T23:59:59.999999Z");
    for (auto p : {t, t + nanoseconds(7), system_clock::time_point{} - nanoseconds(1),
                   system_clock::time_point::min(), system_clock::time_point::max()}) {
        EXPECT_EQ(parse_time_point(format_time_point(p)), p) << format_time_point(p);
    }
}

TEST(time_point, reads_offsets_and_short_fractions) {
    using namespace std::chrono;
    const system_clock::time_point t{seconds(1'704'164'645)};
    EXPECT_EQ(parse_time_point("2024-01-02T03:04:05Z"), t);
    EXPECT_EQ(parse_time_point("2024-01-02T05:04:05+02:00"), t);
    EXPECT_EQ(parse_time_point("2024-01-01T22:04:05-05:00"), t);
    EXPECT_EQ(parse_time_point("2024-01-02T03:04:05.5Z"), t + milliseconds(500));
}

TEST(time_point, rejects_malformed_text) {
    for (std::string_view bad :
         {"", "2024-01-02", "2024-01-02T03:04:05", "2024-13-02T03:04:05Z", "2024-02-30T00:00:00Z",
          "2024-01-02T24:00:00Z", "2024-01-02T03:04:05.1234567890Z", "3000-01-01T00:00:00Z",
          "2024-01-02T03:04:05Zjunk"}) {
        const auto [code, message] = failure_of([&] { parse_time_point(bad); });
        EXPECT_EQ(code, errc::corrupt_data) << bad;
        EXPECT_THAT(message, HasSubstr("invalid time")) << bad;
    }
}

}  // namespace
}  // namespace laredo::json
