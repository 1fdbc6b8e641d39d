// stream_batcher: how replication messages become the change handler's batches and heartbeats,
// without a server (messages built byte by byte).

#include "stream_batcher.hpp"

#include "laredo/error.hpp"
#include "laredo/row.hpp"
#include "laredo/sources/postgres/lsn.hpp"
#include "message_builder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace laredo::sources::postgres::testing {
namespace {

using detail::stream_batcher;

constexpr std::uint32_t ours = 16384;
constexpr std::uint32_t other = 16385;

// 'w' XLogData around a pgoutput payload.
std::string xlog(const message_builder& payload, std::uint64_t wal_end = 0) {
    return message_builder('w').u64(0).u64(wal_end).u64(0).raw(payload.bytes()).bytes();
}

std::string keepalive(std::uint64_t wal_end, bool reply = false) {
    return message_builder('k').u64(wal_end).u64(0).u8(reply ? 1 : 0).bytes();
}

std::string relation(std::uint32_t id, std::string_view name) {
    return xlog(message_builder('R')
                    .u32(id)
                    .str("public")
                    .str(name)
                    .u8('d')
                    .u16(2)
                    .u8(1)
                    .str("id")
                    .u32(23)
                    .u32(0xffffffff)
                    .u8(0)
                    .str("v")
                    .u32(25)
                    .u32(0xffffffff));
}

std::string begin(std::uint64_t final_lsn, std::uint32_t xid) {
    return xlog(message_builder('B').u64(final_lsn).u64(0).u32(xid));
}

std::string commit(std::uint64_t final_lsn, std::uint64_t end_lsn) {
    return xlog(message_builder('C').u8(0).u64(final_lsn).u64(end_lsn).u64(0), end_lsn);
}

std::string insert(std::uint32_t relation_id, int id) {
    return xlog(message_builder('I')
                    .u32(relation_id)
                    .u8('N')
                    .u16(2)
                    .text(std::to_string(id))
                    .text("v" + std::to_string(id)));
}

class batcher_test : public ::testing::Test {
  protected:
    batcher_test() : decoder(types, {.only_catalog_tables = true}) {
        std::vector<column_definition> cols(2);
        cols[0].name = "id";
        cols[0].type = "int4";
        cols[0].type_oid = 23;
        cols[0].primary_key = true;
        cols[0].primary_key_ordinal = 1;
        cols[0].ordinal_position = 1;
        cols[1].name = "v";
        cols[1].type = "text";
        cols[1].type_oid = 25;
        cols[1].ordinal_position = 2;
        decoder.relations().set_catalog_schema(table_identifier("public", "t"),
                                               row_schema::make(cols));
    }

    stream_batcher make(std::size_t batch_size) { return stream_batcher(decoder, batch_size); }

    // Feeds messages, then ends the read; returns every delivery.
    std::vector<stream_batcher::delivery> run(stream_batcher& b,
                                              const std::vector<std::string>& messages,
                                              bool end_read = true) {
        std::vector<stream_batcher::delivery> out;
        for (const auto& m : messages) {
            b.feed(m, std::chrono::system_clock::now(), status);
            while (b.has_batch()) out.push_back(b.take());
        }
        if (end_read) b.end_of_read();
        while (b.has_delivery()) out.push_back(b.take());
        return out;
    }

    value_converter types;
    change_decoder decoder;
    standby_status_tracker status;
};

TEST_F(batcher_test, small_transactions_share_a_batch_and_each_ends_at_its_last_event) {
    auto b = make(100);
    const auto out =
        run(b, {relation(ours, "t"), begin(0x100, 7), insert(ours, 1), insert(ours, 2),
                commit(0x100, 0x110), begin(0x200, 8), insert(ours, 3), commit(0x200, 0x210)});
    ASSERT_EQ(out.size(), 2u);
    const auto& events = out[0].changes;
    ASSERT_EQ(events.size(), 3u);
    EXPECT_FALSE(events[0].ends_transaction);
    EXPECT_TRUE(events[1].ends_transaction);
    EXPECT_TRUE(events[2].ends_transaction);
    EXPECT_EQ(events[0].pos, make_position(0x100, 1));
    EXPECT_EQ(events[2].pos, make_position(0x200, 1));
    EXPECT_EQ(events[2].transaction_id, 8u);
    // The last event carries the commit's LSN; the heartbeat after it its end, which is what
    // lets the server skip the transaction.
    EXPECT_TRUE(out[1].changes.empty());
    EXPECT_EQ(out[1].heartbeat, make_position(0x210));
    EXPECT_EQ(status.received(), 0x210u);
}

TEST_F(batcher_test, a_large_transaction_goes_out_in_parts_and_only_its_last_event_ends_it) {
    auto b = make(2);
    std::vector<std::string> messages{relation(ours, "t"), begin(0x100, 7)};
    for (int i = 1; i <= 7; ++i) messages.push_back(insert(ours, i));
    messages.push_back(commit(0x100, 0x110));
    auto out = run(b, messages);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.back().heartbeat, make_position(0x110));
    out.pop_back();
    std::size_t total = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        ASSERT_FALSE(out[i].changes.empty());
        EXPECT_LE(out[i].changes.size(), 2u);
        for (std::size_t j = 0; j < out[i].changes.size(); ++j) {
            const bool last = i + 1 == out.size() && j + 1 == out[i].changes.size();
            EXPECT_EQ(out[i].changes[j].ends_transaction, last)
                << "delivery " << i << " event " << j;
        }
        total += out[i].changes.size();
    }
    EXPECT_EQ(total, 7u);
    EXPECT_GE(out.size(), 4u);
}

TEST_F(batcher_test, the_end_of_a_read_inside_a_transaction_keeps_it_until_a_batch_fills) {
    auto b = make(100);
    auto out = run(b, {relation(ours, "t"), begin(0x100, 7), insert(ours, 1), insert(ours, 2),
                       insert(ours, 3)});
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(b.pending_events(), 3u);
    out = run(b, {commit(0x100, 0x110)});
    ASSERT_EQ(out.size(), 2u);
    ASSERT_EQ(out[0].changes.size(), 3u);
    EXPECT_TRUE(out[0].changes[2].ends_transaction);
    EXPECT_EQ(out[0].changes[2].pos, make_position(0x100, 3));
}

TEST_F(batcher_test, a_transaction_of_other_tables_becomes_a_heartbeat_at_its_commit) {
    auto b = make(100);
    const auto out = run(
        b, {relation(other, "elsewhere"), begin(0x100, 7), insert(other, 1), commit(0x100, 0x110)});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].changes.empty());
    EXPECT_EQ(out[0].heartbeat, make_position(0x110));
}

TEST_F(batcher_test, heartbeats_follow_pending_changes_and_collapse_into_the_last) {
    auto b = make(100);
    const auto out =
        run(b, {relation(ours, "t"), begin(0x100, 7), insert(ours, 1), commit(0x100, 0x110),
                keepalive(0x120), keepalive(0x130), keepalive(0x125)});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].changes.size(), 1u);
    EXPECT_TRUE(out[1].changes.empty());
    EXPECT_EQ(out[1].heartbeat, make_position(0x130));
}

TEST_F(batcher_test, a_keepalive_inside_a_transaction_is_no_heartbeat_but_may_ask_for_a_reply) {
    auto b = make(100);
    b.feed(relation(ours, "t"), std::chrono::system_clock::now(), status);
    b.feed(begin(0x100, 7), std::chrono::system_clock::now(), status);
    b.feed(insert(ours, 1), std::chrono::system_clock::now(), status);
    const auto fed = b.feed(keepalive(0x90, true), std::chrono::system_clock::now(), status);
    EXPECT_TRUE(fed.reply_requested);
    b.end_of_read();
    EXPECT_FALSE(b.has_delivery());  // the open transaction waits, and no heartbeat
}

TEST_F(batcher_test, relation_messages_of_our_tables_and_commits_are_reported) {
    auto b = make(100);
    auto fed = b.feed(relation(ours, "t"), std::chrono::system_clock::now(), status);
    ASSERT_NE(fed.relation, nullptr);
    EXPECT_EQ(fed.relation->table, table_identifier("public", "t"));
    b.feed(begin(0x100, 7), std::chrono::system_clock::now(), status);
    fed = b.feed(commit(0x100, 0x110), std::chrono::system_clock::now(), status);
    ASSERT_TRUE(fed.committed_at.has_value());
    EXPECT_EQ(fed.commit_position, make_position(0x110));
}

TEST_F(batcher_test, reset_drops_what_was_not_delivered_for_a_new_session) {
    auto b = make(100);
    run(b, {relation(ours, "t"), begin(0x100, 7), insert(ours, 1), insert(ours, 2)}, false);
    EXPECT_EQ(b.pending_events(), 2u);
    b.reset();
    EXPECT_EQ(b.pending_events(), 0u);
    EXPECT_FALSE(b.has_delivery());
    // The server sends the transaction again whole.
    const auto out = run(b, {begin(0x100, 7), insert(ours, 1), commit(0x100, 0x110)});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(out[0].changes.back().ends_transaction);
}

TEST_F(batcher_test, a_malformed_message_is_corrupt_data) {
    auto b = make(100);
    try {
        b.feed(std::string("w\x01", 2), std::chrono::system_clock::now(), status);
        FAIL() << "a truncated XLogData was accepted";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), errc::corrupt_data);
    }
}

}  // namespace
}  // namespace laredo::sources::postgres::testing
