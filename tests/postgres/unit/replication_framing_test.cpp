#include "capture_data.hpp"
#include "expect_error.hpp"

#include "laredo/sources/postgres/replication_framing.hpp"

#include <gtest/gtest.h>

#include <variant>

using namespace laredo::sources::postgres;
using namespace laredo::sources::postgres::testing;
using laredo::errc;

namespace {
std::vector<primary_keepalive> keepalives_of(std::string_view file) {
    std::vector<primary_keepalive> out;
    for (const auto& m : load_capture(file)) {
        const auto parsed = parse_replication_message(m);
        if (const auto* k = std::get_if<primary_keepalive>(&parsed)) out.push_back(*k);
    }
    return out;
}
}  // namespace

TEST(replication_framing, parses_captured_keepalives_with_and_without_reply_request) {
    const auto keepalives = keepalives_of("dml.hex");
    ASSERT_GE(keepalives.size(), 2u);
    bool saw_reply = false;
    bool saw_no_reply = false;
    for (const auto& k : keepalives) {
        EXPECT_GT(k.wal_end, 0u);
        // Sent in 2026 by the capture's clock: after 2020, before 2100, in wire time.
        EXPECT_GT(k.send_time, 20LL * 365 * 86400 * 1'000'000);
        EXPECT_LT(k.send_time, 100LL * 365 * 86400 * 1'000'000);
        saw_reply = saw_reply || k.reply_requested;
        saw_no_reply = saw_no_reply || !k.reply_requested;
    }
    EXPECT_TRUE(saw_reply);
    EXPECT_TRUE(saw_no_reply);
}

TEST(replication_framing, parses_captured_xlog_data_with_its_payload) {
    std::size_t count = 0;
    for (const auto& m : load_capture("dml.hex")) {
        const auto parsed = parse_replication_message(m);
        const auto* x = std::get_if<xlog_data>(&parsed);
        if (!x) continue;
        ++count;
        EXPECT_EQ(x->payload.size(), m.size() - 25);
        EXPECT_EQ(x->payload.data(), m.data() + 25) << "the payload views the message";
        EXPECT_FALSE(x->payload.empty());
    }
    EXPECT_GT(count, 50u);
}

TEST(replication_framing, keepalive_fields_decode_big_endian) {
    const std::string msg("k\x00\x00\x00\x01\x02\x03\x04\x05\xff\xff\xff\xff\xff\xff\xff\xfe\x01",
                          18);
    const auto k = std::get<primary_keepalive>(parse_replication_message(msg));
    EXPECT_EQ(k.wal_end, 0x0000000102030405ULL);
    EXPECT_EQ(k.send_time, -2);
    EXPECT_TRUE(k.reply_requested);
}

TEST(replication_framing, rejects_empty_unknown_truncated_and_overlong_messages) {
    expect_error([] { (void)parse_replication_message(""); }, errc::corrupt_data, "empty");
    expect_error([] { (void)parse_replication_message("x123"); }, errc::corrupt_data,
                 "unknown replication message tag 'x'");
    expect_error([] { (void)parse_replication_message(std::string("\x01", 1)); },
                 errc::corrupt_data, "tag 0x01");
    expect_error(
        [] { (void)parse_replication_message(std::string("w", 1) + std::string(23, '\0')); },
        errc::corrupt_data, "XLogData message truncated", "send_time");
    expect_error(
        [] { (void)parse_replication_message(std::string("k", 1) + std::string(16, '\0')); },
        errc::corrupt_data, "primary keepalive message truncated", "reply_requested");
    expect_error(
        [] { (void)parse_replication_message(std::string("k", 1) + std::string(18, '\0')); },
        errc::corrupt_data, "primary keepalive", "unexpected bytes");
    expect_error(
        [] {
            (void)parse_replication_message(std::string("k", 1) + std::string(16, '\0') + "\x02");
        },
        errc::corrupt_data, "reply_requested is 2");
}

TEST(replication_framing, every_truncation_of_captured_messages_is_a_clear_error) {
    for (const auto& m : load_capture("dml.hex")) {
        // XLogData headers and keepalives: every cut inside the fixed fields must fail.
        const std::size_t fixed = m[0] == 'w' ? 25 : m.size();
        for (std::size_t n = 0; n < fixed; ++n) {
            expect_error([&] { (void)parse_replication_message(std::string_view(m).substr(0, n)); },
                         errc::corrupt_data);
        }
    }
}

TEST(replication_framing, encodes_standby_status_update_in_34_bytes) {
    const standby_status_update u{0x0102030405060708ULL, 0x1112131415161718ULL,
                                  0x2122232425262728ULL, -1, true};
    const auto bytes = encode_standby_status_update(u);
    const std::string expected(
        "r\x01\x02\x03\x04\x05\x06\x07\x08\x11\x12\x13\x14\x15\x16\x17\x18"
        "\x21\x22\x23\x24\x25\x26\x27\x28\xff\xff\xff\xff\xff\xff\xff\xff\x01",
        34);
    EXPECT_EQ(std::string(bytes.data(), bytes.size()), expected);
    EXPECT_EQ(parse_standby_status_update(std::string_view(bytes.data(), bytes.size())), u);
}

TEST(replication_framing, rejects_malformed_standby_status_updates) {
    const auto good = encode_standby_status_update({1, 2, 3, 4, false});
    const std::string_view sv(good.data(), good.size());
    expect_error([&] { (void)parse_standby_status_update(sv.substr(0, 33)); }, errc::corrupt_data,
                 "truncated");
    expect_error([&] { (void)parse_standby_status_update(std::string(sv) + "x"); },
                 errc::corrupt_data, "unexpected bytes");
    expect_error([] { (void)parse_standby_status_update("k"); }, errc::corrupt_data,
                 "not a standby status update");
    expect_error([] { (void)parse_standby_status_update(""); }, errc::corrupt_data,
                 "not a standby status update");
}

TEST(replication_framing, wire_time_counts_from_2000) {
    using namespace std::chrono;
    EXPECT_EQ(to_pg_timestamp(system_clock::time_point(seconds(946684800))), 0);
    EXPECT_EQ(from_pg_timestamp(0), system_clock::time_point(seconds(946684800)));
    EXPECT_EQ(from_pg_timestamp(1'500'000),
              system_clock::time_point(seconds(946684801) + milliseconds(500)));
    const auto now = time_point_cast<microseconds>(system_clock::now());
    EXPECT_EQ(from_pg_timestamp(to_pg_timestamp(now)), now);
    // Far outside system_clock's range it saturates instead of overflowing.
    EXPECT_EQ(from_pg_timestamp(INT64_MAX), system_clock::time_point::max());
    EXPECT_EQ(from_pg_timestamp(INT64_MIN), system_clock::time_point::min());
}

TEST(standby_status_tracker, sends_received_as_write_and_acked_as_flush) {
    standby_status_tracker t;
    t.on_received(0x500);
    t.on_acked(0x300);
    const auto u = t.next_update(42);
    EXPECT_EQ(u.write, 0x500u);
    EXPECT_EQ(u.flush, 0x300u);
    EXPECT_EQ(u.apply, 0x300u);
    EXPECT_EQ(u.client_time, 42);
    EXPECT_FALSE(u.reply_requested);
    EXPECT_EQ(t.sent_write(), 0x500u);
    EXPECT_EQ(t.sent_flush(), 0x300u);
    EXPECT_TRUE(t.next_update(43, true).reply_requested);
}

TEST(standby_status_tracker, never_sends_received_wal_as_flush) {
    standby_status_tracker t;
    t.on_received(0x900);
    const auto u = t.next_update(0);
    EXPECT_EQ(u.write, 0x900u);
    EXPECT_EQ(u.flush, 0u) << "nothing was acknowledged yet";
}

TEST(standby_status_tracker, never_moves_backwards) {
    standby_status_tracker t;
    t.on_received(0x900);
    t.on_acked(0x800);
    (void)t.next_update(0);
    t.on_received(0x100);
    t.on_acked(0x200);
    const auto u = t.next_update(1);
    EXPECT_EQ(u.write, 0x900u);
    EXPECT_EQ(u.flush, 0x800u);
}

TEST(standby_status_tracker, write_is_never_below_flush) {
    standby_status_tracker t;
    t.on_acked(0x700);  // e.g. a resumed position acknowledged before any data arrived
    const auto u = t.next_update(0);
    EXPECT_EQ(u.write, 0x700u);
    EXPECT_EQ(u.flush, 0x700u);
}

TEST(standby_status_tracker, acks_a_position_by_its_lsn) {
    standby_status_tracker t;
    t.on_acked(laredo::position::from_pair(0x1234, 7));
    EXPECT_EQ(t.acked(), 0x1234u);
    t.on_acked(laredo::position());
    EXPECT_EQ(t.acked(), 0x1234u);
    expect_error([&] { t.on_acked(laredo::position::from_sequence(9)); }, errc::invalid_position);
}

TEST(standby_status_tracker, takes_received_from_xlog_data_and_keepalives) {
    standby_status_tracker t;
    t.on_received(replication_message(xlog_data{0x10, 0x20, 0, {}}));
    EXPECT_EQ(t.received(), 0x20u);
    t.on_received(replication_message(xlog_data{0, 0, 0, {}}));  // a Relation message: 0/0
    EXPECT_EQ(t.received(), 0x20u);
    t.on_received(replication_message(primary_keepalive{0x30, 0, false}));
    EXPECT_EQ(t.received(), 0x30u);
}

TEST(standby_status_tracker, has_news_only_when_an_update_would_differ) {
    standby_status_tracker t;
    EXPECT_FALSE(t.has_news());
    t.on_received(0x10);
    EXPECT_TRUE(t.has_news());
    (void)t.next_update(0);
    EXPECT_FALSE(t.has_news());
    t.on_acked(0x8);
    EXPECT_TRUE(t.has_news());
    (void)t.next_update(0);
    t.on_acked(0x4);
    EXPECT_FALSE(t.has_news());
}
