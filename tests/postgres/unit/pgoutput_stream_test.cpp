#include "capture_data.hpp"
#include "expect_error.hpp"
#include "message_builder.hpp"

#include "laredo/sources/postgres/lsn.hpp"
#include "laredo/sources/postgres/pgoutput_changes.hpp"
#include "laredo/sources/postgres/replication_framing.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace laredo;
using namespace laredo::sources::postgres;
using namespace laredo::sources::postgres::testing;

namespace {

const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

struct decoded_stream {
    value_converter types;
    change_decoder decoder;
    std::vector<change_event> events;
    std::vector<change_decoder::step> steps;

    explicit decoded_stream(
        std::string_view file, change_decoder_options options = {},
        const std::vector<std::pair<table_identifier, schema_ptr>>& catalog = {})
        : decoder(types, options) {
        for (const auto& [t, s] : catalog) decoder.relations().set_catalog_schema(t, s);
        // Every message in one vector: feed keeps its views valid only while the payload lives,
        // so keep the payloads for the steps' views.
        payloads = load_payloads(file);
        for (const auto& p : payloads) steps.push_back(decoder.feed(p, now, events));
    }
    std::vector<std::string> payloads;
};

std::size_t count(const std::vector<change_event>& events, change_action a) {
    return static_cast<std::size_t>(std::count_if(
        events.begin(), events.end(), [&](const change_event& e) { return e.action == a; }));
}

}  // namespace

TEST(transaction_tracker, numbers_rows_from_one_and_commits_at_the_end_lsn) {
    transaction_tracker t;
    t.begin(begin_message{0x100, 5, 77});
    EXPECT_TRUE(t.in_transaction());
    EXPECT_EQ(t.xid(), 77u);
    EXPECT_EQ(t.next_change_position(), make_position(0x100, 1));
    EXPECT_EQ(t.next_change_position(), make_position(0x100, 2));
    EXPECT_EQ(t.change_count(), 2u);
    EXPECT_EQ(t.commit(commit_message{0, 0x100, 0x130, 5}), make_position(0x130, 0));
    EXPECT_FALSE(t.in_transaction());
    EXPECT_EQ(t.last_position(), make_position(0x130, 0));
    // The next transaction may start right where the last commit record ended.
    t.begin(begin_message{0x130, 6, 78});
    EXPECT_EQ(t.next_change_position(), make_position(0x130, 1));
}

TEST(transaction_tracker, refuses_messages_out_of_turn) {
    transaction_tracker t;
    expect_error([&] { (void)t.next_change_position(); }, errc::corrupt_data,
                 "row change outside a transaction");
    expect_error(
        [&] {
            (void)t.commit(commit_message{0, 0x100, 0x130, 0});
        },
        errc::corrupt_data, "Commit (commit LSN 0/00000100) without a Begin");
    t.begin(begin_message{0x100, 0, 7});
    expect_error(
        [&] {
            t.begin(begin_message{0x200, 0, 8});
        },
        errc::corrupt_data, "Begin of transaction 8", "while transaction 7", "still open");
    expect_error(
        [&] {
            (void)t.commit(commit_message{0, 0x101, 0x130, 0});
        },
        errc::corrupt_data,
        "Commit LSN 0/00000101 of transaction 7 differs from its Begin's final LSN 0/00000100");
    EXPECT_EQ(t.commit(commit_message{0, 0x100, 0x130, 0}), make_position(0x130, 0));
    expect_error(
        [&] {
            t.begin(begin_message{0x120, 0, 9});
        },
        errc::corrupt_data, "not above the last position 0/00000130");
}

TEST(transaction_tracker, heartbeats_only_between_transactions_and_above_the_last_position) {
    transaction_tracker t;
    EXPECT_EQ(t.heartbeat(0x50), make_position(0x50));
    EXPECT_EQ(t.heartbeat(0x50), std::nullopt) << "not above the last position";
    t.begin(begin_message{0x100, 0, 7});
    (void)t.next_change_position();
    EXPECT_EQ(t.heartbeat(0x500), std::nullopt) << "inside a transaction";
    (void)t.commit(commit_message{0, 0x100, 0x130, 0});
    EXPECT_EQ(t.heartbeat(0x120), std::nullopt) << "below the commit";
    EXPECT_EQ(t.heartbeat(0x130), std::nullopt) << "equal to the commit";
    EXPECT_EQ(t.heartbeat(0x140), make_position(0x140));
}

TEST(transaction_tracker, reset_drops_the_open_transaction_and_allows_a_rewind) {
    transaction_tracker t;
    t.begin(begin_message{0x100, 0, 7});
    (void)t.next_change_position();
    t.reset();
    EXPECT_FALSE(t.in_transaction());
    EXPECT_TRUE(t.last_position().empty());
    t.begin(begin_message{0x100, 0, 7});
    EXPECT_EQ(t.next_change_position(), make_position(0x100, 1));
}

TEST(change_decoder, turns_the_captured_stream_into_events) {
    decoded_stream s("dml.hex");
    EXPECT_EQ(count(s.events, change_action::insert), 14u);
    EXPECT_EQ(count(s.events, change_action::update), 6u);
    EXPECT_EQ(count(s.events, change_action::delete_), 4u);
    EXPECT_EQ(count(s.events, change_action::truncate), 4u);
    EXPECT_EQ(s.events.size(), 28u);
    const auto& first = s.events[0];
    EXPECT_EQ(first.table, table_identifier("public", "dml_default"));
    EXPECT_EQ(first.new_values.at("name"), value("a"));
    EXPECT_TRUE(first.old_values.empty());
    EXPECT_EQ(first.timestamp, now);
    EXPECT_GT(first.transaction_id, 0u);
    ASSERT_TRUE(first.commit_timestamp.has_value());
    EXPECT_GT(*first.commit_timestamp,
              std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)));
}

TEST(change_decoder, positions_strictly_increase_and_number_rows_within_a_transaction) {
    decoded_stream s("dml.hex");
    position last;
    std::map<std::uint64_t, std::uint64_t> rows_per_txn;
    for (const auto& e : s.events) {
        EXPECT_GT(compare_positions(e.pos, last), 0) << position_to_string(e.pos);
        last = e.pos;
        EXPECT_EQ(e.pos.minor(), ++rows_per_txn[e.transaction_id]) << "rows number 1, 2, ...";
    }
    EXPECT_EQ(rows_per_txn[s.events[0].transaction_id], 3u)
        << "the first transaction inserts 3 rows";
    // Commit positions: (end_lsn, 0), above every row of their transaction.
    position last_commit;
    for (const auto& st : s.steps) {
        if (st.what != change_decoder::step::kind::commit) continue;
        EXPECT_EQ(st.commit_position.minor(), 0u);
        EXPECT_GT(compare_positions(st.commit_position, last_commit), 0);
        last_commit = st.commit_position;
    }
    EXPECT_GT(compare_positions(last_commit, last), 0);
}

TEST(change_decoder, marks_the_last_event_of_each_transaction) {
    decoded_stream s("dml.hex");
    std::map<std::uint64_t, std::size_t> last_index;
    for (std::size_t i = 0; i < s.events.size(); ++i) last_index[s.events[i].transaction_id] = i;
    for (std::size_t i = 0; i < s.events.size(); ++i) {
        EXPECT_EQ(s.events[i].ends_transaction, last_index[s.events[i].transaction_id] == i) << i;
    }
    std::size_t marked = 0;
    for (const auto& st : s.steps) marked += st.marked_last_event ? 1 : 0;
    EXPECT_EQ(marked, last_index.size());
}

TEST(change_decoder, leaves_the_mark_to_the_caller_when_the_last_event_was_delivered) {
    value_converter types;
    change_decoder d(types);
    std::vector<change_event> batch;
    const auto payloads = load_payloads("dml.hex");
    std::size_t i = 0;
    for (; payloads[i][0] != 'C'; ++i) (void)d.feed(payloads[i], now, batch);
    ASSERT_EQ(batch.size(), 3u);
    batch.clear();  // delivered
    const auto st = d.feed(payloads[i], now, batch);
    EXPECT_EQ(st.what, change_decoder::step::kind::commit);
    EXPECT_FALSE(st.marked_last_event);
    EXPECT_TRUE(batch.empty());
}

TEST(change_decoder, reports_relations_types_origins_and_messages) {
    decoded_stream s("dml.hex");
    std::map<change_decoder::step::kind, int> kinds;
    std::set<relation_change> changes;
    for (const auto& st : s.steps) {
        ++kinds[st.what];
        if (st.what == change_decoder::step::kind::relation) {
            ASSERT_NE(st.relation, nullptr);
            changes.insert(st.change);
        }
        if (st.what == change_decoder::step::kind::origin) {
            EXPECT_EQ(st.origin.name, "laredo_origin");
        }
        if (st.what == change_decoder::step::kind::message) {
            EXPECT_EQ(st.message.prefix, "laredo");
        }
    }
    EXPECT_EQ(kinds[change_decoder::step::kind::origin], 1);
    EXPECT_EQ(kinds[change_decoder::step::kind::message], 2);
    EXPECT_EQ(changes,
              (std::set<relation_change>{relation_change::added, relation_change::unchanged,
                                         relation_change::changed}));

    decoded_stream types("types_utc.hex");
    int type_steps = 0;
    for (const auto& st : types.steps) type_steps += st.what == change_decoder::step::kind::type;
    EXPECT_EQ(type_steps, 3);
    EXPECT_EQ(types.events.at(0).new_values.at("c_posint"), value(42));
}

TEST(change_decoder, fills_toast_and_carries_old_rows) {
    decoded_stream s("dml.hex");
    const change_event* full_update = nullptr;
    for (const auto& e : s.events)
        if (e.action == change_action::update && e.table.table == "dml_full") full_update = &e;
    ASSERT_NE(full_update, nullptr);
    EXPECT_EQ(full_update->new_values.at("big"), value(std::string(2500, 'y')));
    EXPECT_EQ(full_update->identity().at("name"), value("f"));
    const auto& first_update =
        *std::find_if(s.events.begin(), s.events.end(),
                      [](const change_event& e) { return e.action == change_action::update; });
    EXPECT_TRUE(first_update.new_values.at("big").is_unchanged());
}

TEST(change_decoder, truncate_gives_one_event_per_relation_in_order) {
    decoded_stream s("dml.hex");
    std::vector<std::string> truncated;
    for (const auto& e : s.events) {
        if (e.action != change_action::truncate) continue;
        truncated.push_back(e.table.table);
        EXPECT_TRUE(e.new_values.empty());
        EXPECT_TRUE(e.old_values.empty());
    }
    EXPECT_EQ(truncated, (std::vector<std::string>{"dml_full", "dml_composite", "trunc_parent",
                                                   "trunc_child"}));
}

TEST(change_decoder, skips_tables_without_a_catalog_schema_keeping_positions) {
    decoded_stream all("dml.hex");
    const auto catalog = row_schema::make({
        {.name = "id",
         .type = "int4",
         .type_oid = 23,
         .nullable = false,
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 1},
        {.name = "name", .type = "text", .type_oid = 25, .ordinal_position = 2},
        {.name = "big", .type = "text", .type_oid = 25, .ordinal_position = 3},
    });
    decoded_stream only("dml.hex", {.only_catalog_tables = true},
                        {{table_identifier("public", "dml_default"), catalog}});
    std::vector<position> expected;
    for (const auto& e : all.events)
        if (e.table == table_identifier("public", "dml_default")) expected.push_back(e.pos);
    std::vector<position> got;
    for (const auto& e : only.events) {
        EXPECT_EQ(e.table, table_identifier("public", "dml_default"));
        got.push_back(e.pos);
    }
    EXPECT_EQ(got, expected);
    // 8 inserts, 2 updates, 1 delete; the insert after RENAME is for a table not configured.
    EXPECT_EQ(got.size(), 11u);
    EXPECT_EQ(only.events.at(0).new_values.schema(), catalog);
    std::size_t skipped = 0;
    for (const auto& st : only.steps) skipped += st.what == change_decoder::step::kind::skipped;
    EXPECT_GT(skipped, 0u);
}

TEST(change_decoder, a_change_before_its_relation_is_a_protocol_error) {
    value_converter types;
    change_decoder d(types);
    std::vector<change_event> out;
    (void)d.feed(message_builder('B').u64(0x100).u64(0).u32(5), now, out);
    expect_error([&] { (void)d.feed(message_builder('I').u32(99).u8('N').u16(0), now, out); },
                 errc::corrupt_data, "relation 99 before any Relation message");
    expect_error([&] { (void)d.feed(message_builder('T').u32(1).u8(0).u32(99), now, out); },
                 errc::corrupt_data, "relation 99");
    EXPECT_TRUE(out.empty());
}

TEST(change_decoder, a_row_outside_a_transaction_leaves_no_half_made_event) {
    value_converter types;
    change_decoder d(types);
    std::vector<change_event> out;
    (void)d.feed(message_builder('R')
                     .u32(7)
                     .str("public")
                     .str("t")
                     .u8('d')
                     .u16(1)
                     .u8(1)
                     .str("id")
                     .u32(23)
                     .u32(0xFFFFFFFF),
                 now, out);
    expect_error(
        [&] { (void)d.feed(message_builder('I').u32(7).u8('N').u16(1).text("1"), now, out); },
        errc::corrupt_data, "row change outside a transaction");
    EXPECT_TRUE(out.empty());
    expect_error([&] { (void)d.feed(message_builder('T').u32(1).u8(0).u32(7), now, out); },
                 errc::corrupt_data, "Truncate outside a transaction");
}

TEST(change_decoder, keepalives_become_heartbeats_between_transactions) {
    value_converter types;
    change_decoder d(types);
    std::vector<change_event> out;
    std::vector<position> sequence;  // events, commits and heartbeats in stream order
    std::size_t heartbeats = 0;
    std::size_t keepalives = 0;
    for (const auto& m : load_capture("dml.hex")) {
        const auto parsed = parse_replication_message(m);
        if (const auto* k = std::get_if<primary_keepalive>(&parsed)) {
            ++keepalives;
            if (auto hb = d.heartbeat(k->wal_end)) {
                EXPECT_FALSE(d.transactions().in_transaction());
                EXPECT_EQ(hb->minor(), 0u);
                sequence.push_back(*hb);
                ++heartbeats;
            }
            continue;
        }
        const std::size_t before = out.size();
        const auto st = d.feed(std::get<xlog_data>(parsed).payload, now, out);
        for (std::size_t i = before; i < out.size(); ++i) sequence.push_back(out[i].pos);
        if (st.what == change_decoder::step::kind::commit) sequence.push_back(st.commit_position);
    }
    EXPECT_GE(keepalives, 2u);
    EXPECT_GE(heartbeats, 1u) << "the keepalive before the first transaction";
    for (std::size_t i = 1; i < sequence.size(); ++i) {
        EXPECT_GT(compare_positions(sequence[i], sequence[i - 1]), 0)
            << position_to_string(sequence[i]) << " after " << position_to_string(sequence[i - 1]);
    }
    // The server's last keepalives carry the last commit's end: no heartbeat repeats it.
    EXPECT_EQ(d.heartbeat(d.transactions().last_position().major()), std::nullopt);
}

TEST(change_decoder, a_new_session_replays_an_interrupted_transaction) {
    value_converter types;
    change_decoder d(types);
    std::vector<change_event> out;
    const auto payloads = load_payloads("dml.hex");
    // The first session ends in the middle of the first transaction.
    for (std::size_t i = 0; i < 4; ++i) (void)d.feed(payloads[i], now, out);
    ASSERT_EQ(out.size(), 2u);
    d.reset_session();
    std::vector<change_event> again;
    for (const auto& p : payloads) (void)d.feed(p, now, again);
    ASSERT_GE(again.size(), 2u);
    EXPECT_EQ(again[0].pos, out[0].pos);
    EXPECT_EQ(again[1].pos, out[1].pos);
    EXPECT_EQ(again[0].new_values, out[0].new_values);
}

TEST(change_decoder, errors_of_an_xlog_data_name_its_wal_location) {
    value_converter types;
    change_decoder d(types);
    std::vector<change_event> out;
    const std::string payload = message_builder('Z').u32(1).bytes();
    const xlog_data x{0x16B3748, 0x16B3750, 0, payload};
    expect_error([&] { (void)d.feed(x, now, out); }, errc::corrupt_data,
                 "pgoutput message in XLogData (wal_start 0/016B3748, wal_end 0/016B3750)",
                 "unknown pgoutput message tag 'Z'");
    const std::string begin = message_builder('B').u64(0x100).u64(0).u32(5).bytes();
    EXPECT_EQ(d.feed(xlog_data{0x100, 0x100, 0, begin}, now, out).what,
              change_decoder::step::kind::begin);
}
