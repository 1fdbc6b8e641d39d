// The replication protocol without a network: positions on the wire, messages, filters.
#include "laredo/error.hpp"
#include "laredo/replica/filter.hpp"
#include "laredo/replica/messages.hpp"
#include "laredo/replica/positions.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace laredo::replica {
namespace {

schema_ptr schema() {
    static const schema_ptr s = row_schema::make({
        {.name = "id",
         .type = "int8",
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 1},
        {.name = "region", .type = "text", .ordinal_position = 2},
        {.name = "score", .type = "float8", .ordinal_position = 3},
    });
    return s;
}

row r(std::int64_t id, value region, value score = value()) {
    return row(schema(), {value(id), std::move(region), std::move(score)});
}

TEST(replica_positions, round_trip_every_kind_and_compare_in_order) {
    const std::vector<position> ordered{
        position(),
        position::from_sequence(0),
        position::from_sequence(7),
        position::from_sequence(18446744073709551615ull),
        position::from_pair(1, 0),
        position::from_pair(1, 5),
        position::from_pair(2, 0),
        position::from_text("a"),
        position::from_text("a:b"),
    };
    for (std::size_t i = 0; i < ordered.size(); ++i) {
        const auto text = position_to_wire(ordered[i]);
        EXPECT_EQ(position_from_wire(text), ordered[i]) << text;
        EXPECT_EQ(compare_positions(ordered[i], ordered[i]), 0);
        for (std::size_t j = i + 1; j < ordered.size(); ++j) {
            EXPECT_LT(compare_positions(ordered[i], ordered[j]), 0) << i << " " << j;
            EXPECT_GT(compare_positions(ordered[j], ordered[i]), 0);
        }
    }
    EXPECT_EQ(position_to_wire(position::from_pair(23876432, 3)), "p:23876432:3");
}

TEST(replica_positions, malformed_text_is_refused_naming_it) {
    for (const std::string bad :
         {"42", "s:", "s:-1", "s:01", "s:1x", "p:1", "p:1:", "x:1", "s:99999999999999999999"}) {
        try {
            position_from_wire(bad);
            ADD_FAILURE() << bad;
        } catch (const error& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::invalid_position));
            EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
        }
    }
}

TEST(replica_messages, sync_request_round_trips_with_filters) {
    sync_request m;
    m.client_id = "app-1";
    m.journal_id = "abc-1";
    m.last_sequence = 42;
    m.last_position = position::from_pair(9, 2);
    m.last_snapshot_id = "fanout-40-1";
    m.filters = {filter_spec::equals("region", "eu"), filter_spec::prefix("name", "an"),
                 filter_spec::in("id", {1, 2, 3})};
    const auto back = decode_sync_request(encode(m));
    EXPECT_EQ(back.client_id, m.client_id);
    EXPECT_EQ(back.journal_id, m.journal_id);
    EXPECT_EQ(back.last_sequence, 42u);
    EXPECT_EQ(back.last_position, m.last_position);
    EXPECT_EQ(back.last_snapshot_id, m.last_snapshot_id);
    EXPECT_EQ(back.filters, m.filters);
}

TEST(replica_messages, bad_sync_requests_say_what_is_wrong) {
    const auto message_of = [](std::string_view text) {
        try {
            decode_sync_request(text);
        } catch (const error& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(message_of("nope").find("not JSON"), std::string::npos);
    EXPECT_NE(message_of(R"({"type":"hello","protocol_version":1})").find("sync"),
              std::string::npos);
    EXPECT_NE(message_of(R"({"type":"sync","protocol_version":9})").find("protocol_version 9"),
              std::string::npos);
    EXPECT_NE(message_of(R"({"type":"sync","protocol_version":1,"filters":[{"equals":1}]})")
                  .find("filter[0]: field is required"),
              std::string::npos);
    EXPECT_NE(message_of(R"({"type":"sync","protocol_version":1,"filters":[{"field":"a"}]})")
                  .find("filter[0]: a match condition (equals, prefix or in) is required"),
              std::string::npos);
    EXPECT_NE(message_of(R"({"type":"sync","protocol_version":1,"last_source_position":"zz"})")
                  .find("zz"),
              std::string::npos);
}

TEST(replica_messages, server_messages_round_trip) {
    handshake h;
    h.table = table_identifier("public", "users");
    h.mode = sync_mode::delta_from_snapshot;
    h.journal_id = "j-1";
    h.server_sequence = 10;
    h.oldest_sequence = 3;
    h.resume_sequence = 7;
    h.snapshot_id = "fanout-7-1";
    h.server_position = position::from_sequence(99);
    h.columns = schema()->columns();
    const auto hb = std::get<handshake>(decode_server_message(encode(h), nullptr));
    EXPECT_EQ(hb.table, h.table);
    EXPECT_EQ(hb.mode, h.mode);
    EXPECT_EQ(hb.resume_sequence, 7u);
    EXPECT_EQ(hb.columns, h.columns);
    EXPECT_EQ(hb.server_position, h.server_position);

    entries e;
    journal_entry a;
    a.sequence = 5;
    a.pos = position::from_sequence(50);
    a.action = change_action::update;
    a.old_row = r(1, "eu", 1.5);
    a.new_row = r(1, "us", 2.5);
    a.unchanged = {"score"};
    a.end_of_transaction = false;
    journal_entry t;
    t.sequence = 6;
    t.pos = position::from_sequence(51);
    t.action = change_action::truncate;
    e.items = {a, t};
    e.last_sequence = 8;
    e.last_position = position::from_sequence(53);
    const auto eb = std::get<entries>(decode_server_message(encode(e), schema()));
    ASSERT_EQ(eb.items.size(), 2u);
    EXPECT_EQ(eb.items[0].old_row, a.old_row);
    EXPECT_EQ(eb.items[0].new_row, a.new_row);
    EXPECT_EQ(eb.items[0].unchanged, a.unchanged);
    EXPECT_FALSE(eb.items[0].end_of_transaction);
    EXPECT_EQ(eb.items[1].action, change_action::truncate);
    EXPECT_EQ(eb.last_sequence, 8u);
    EXPECT_EQ(eb.last_position, e.last_position);

    const auto rows = std::get<snapshot_rows>(
        decode_server_message(encode(snapshot_rows{{r(1, "eu"), r(2, value())}}), schema()));
    ASSERT_EQ(rows.rows.size(), 2u);
    EXPECT_EQ(rows.rows[1], r(2, value()));

    goaway g{"maintenance",
             std::chrono::system_clock::time_point(std::chrono::seconds(1700000000)),
             {"ws://127.0.0.1:9/v1/replication/public.users"}};
    const auto gb = std::get<goaway>(decode_server_message(encode(g), nullptr));
    EXPECT_EQ(gb.reason, g.reason);
    EXPECT_EQ(gb.deadline, g.deadline);
    EXPECT_EQ(gb.reconnect_to, g.reconnect_to);

    EXPECT_THROW(decode_server_message(R"({"type":"bogus"})", nullptr), error);
    EXPECT_THROW(decode_server_message(encode(snapshot_rows{{r(1, "eu")}}), nullptr), error);
}

TEST(replica_filters, equals_prefix_and_in_are_anded_and_null_never_matches) {
    const row_filter f({filter_spec::prefix("region", "e"), filter_spec::in("id", {1, 2.0, 3})},
                       *schema());
    EXPECT_TRUE(f.matches(r(1, "eu")));
    EXPECT_TRUE(f.matches(r(2, "east")));
    EXPECT_FALSE(f.matches(r(4, "eu")));
    EXPECT_FALSE(f.matches(r(1, "us")));
    EXPECT_FALSE(f.matches(r(1, value())));
    const row_filter score({filter_spec::equals("score", 2)}, *schema());
    EXPECT_TRUE(score.matches(r(1, "x", 2.0)));
    EXPECT_FALSE(score.matches(r(1, "x", 2.5)));
    EXPECT_TRUE(row_filter().matches(r(9, value())));
}

TEST(replica_filters, filters_the_table_cannot_match_are_refused) {
    const auto message_of = [](filter_spec f) {
        try {
            row_filter({f}, *schema());
        } catch (const error& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(message_of(filter_spec::equals("nope", 1)).find("no column \"nope\""),
              std::string::npos);
    EXPECT_NE(message_of(filter_spec::equals("id", "x")).find("not a value of column \"id\""),
              std::string::npos);
    EXPECT_NE(message_of(filter_spec::equals("id", nullptr)).find("null"), std::string::npos);
}

}  // namespace
}  // namespace laredo::replica
