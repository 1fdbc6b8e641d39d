// The line source example (examples/line_source) against a real upstream on a loopback TCP
// port: driven directly as the engine drives it, then through the engine into an indexed
// memory target. Every coroutine case runs on an io_context of 1 and of 4 threads.
#include "line_source.hpp"
#include "line_upstream.hpp"

#include "coro_test.hpp"

#include "laredo/engine.hpp"
#include "laredo/targets/memory/indexed_target.hpp"
#include "laredo/testing/recording_handler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <thread>

namespace laredo::testing {
namespace {

namespace asio = boost::asio;
using asio::use_awaitable;
using examples::line_source;
using examples::line_source_options;
using examples::line_upstream;
using examples::upstream_change;
using targets::memory::indexed_target;
using targets::memory::indexed_target_options;
using opt = std::optional<std::string>;

const table_identifier users{"public", "users"};
const table_identifier orders{"public", "orders"};
const std::vector<table_identifier> just_users{users};

line_source_options options_for(const line_upstream& up) {
    line_source_options options;
    options.upstream = up.endpoint();
    return options;
}

upstream_change insert(std::string id, opt name, opt note = std::nullopt) {
    return {change_action::insert, users, {{"id", id}, {"name", name}, {"note", note}}};
}
upstream_change update(std::string id, std::string column, opt v) {
    return {change_action::update, users, {{"id", id}, {std::move(column), std::move(v)}}};
}
upstream_change remove(std::string id) { return {change_action::delete_, users, {{"id", id}}}; }

std::uint64_t commit_one(line_upstream& up, upstream_change c) {
    const std::vector<upstream_change> txn{std::move(c)};
    return up.commit(txn);
}

row user_row(const schema_ptr& schema, value id, value name, value note) {
    return row(schema, {std::move(id), std::move(name), std::move(note)});
}

class line : public threaded {};
LAREDO_THREADED_SUITE(line);

// An upstream with a users table (id key, name, note).
struct upstream_with_users {
    line_upstream up;
    explicit upstream_with_users(io_context& ctx, int send_buffer_bytes = 0)
        : up(ctx.get_executor(), send_buffer_bytes) {
        up.add_table(users, {"id", "name", "note"});
    }
};

// A source that has run init on the users table.
awaitable<schema_ptr> init_users(line_source& src) {
    const source_config config{just_users};
    const auto schemas = co_await on_source(src, src.init(config));
    co_return row_schema::make(schemas.at(users));
}

TEST_P(line, init_reads_columns_and_key_metadata_from_the_upstream) {
    run([&](io_context& ctx) -> awaitable<void> {
        line_upstream up(ctx.get_executor());
        const table_identifier members{"org", "members"};
        up.add_table(users, {"id", "name", "note"});
        up.add_table(members, {"org", "user", "role"}, 2);
        line_source src(ctx.get_executor(), options_for(up));
        EXPECT_EQ(src.state(), source_state::closed);
        const std::vector<table_identifier> tables{users, members};
        const source_config config{tables};
        const auto schemas = co_await on_source(src, src.init(config));
        EXPECT_EQ(src.state(), source_state::connected);
        CO_ASSERT_EQ(schemas.size(), 2u);
        const auto& m = schemas.at(members);
        CO_ASSERT_EQ(m.size(), 3u);
        EXPECT_EQ(m[0].name, "org");
        EXPECT_TRUE(m[0].primary_key);
        EXPECT_FALSE(m[0].nullable);
        EXPECT_EQ(m[0].primary_key_ordinal, 1);
        EXPECT_EQ(m[1].primary_key_ordinal, 2);
        EXPECT_FALSE(m[2].primary_key);
        EXPECT_EQ(m[2].primary_key_ordinal, 0);
        EXPECT_EQ(m[2].ordinal_position, 3);
        EXPECT_EQ(m[2].type, "text");
        EXPECT_EQ(schemas.at(users)[0].name, "id");
        EXPECT_EQ(src.type_name(), "line");
        co_await on_source(src, src.close());
        EXPECT_EQ(src.state(), source_state::closed);
    });
}

TEST_P(line, an_unknown_table_fails_init_and_validation_naming_it) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        line_source src(ctx.get_executor(), options_for(u.up));
        const table_identifier ghosts{"public", "ghosts"};
        const std::vector<table_identifier> tables{users, ghosts};
        const source_config config{tables};
        const auto f = co_await failure_of(on_source(src, src.init(config)));
        EXPECT_EQ(f.code, errc::unknown_table);
        EXPECT_NE(f.message.find("public.ghosts"), std::string::npos) << f.message;
        EXPECT_EQ(src.state(), source_state::error);
        const auto problems = co_await on_source(src, src.validate_tables(tables));
        CO_ASSERT_EQ(problems.size(), 1u);
        EXPECT_EQ(problems[0].table, ghosts);
        EXPECT_EQ(problems[0].code, "TABLE_NOT_FOUND");
        EXPECT_NE(problems[0].message.find("public.ghosts"), std::string::npos);
    });
}

TEST_P(line, a_refused_connection_is_transient) {
    run([&](io_context& ctx) -> awaitable<void> {
        line_source_options options;
        {
            // A port nobody listens on any more.
            asio::ip::tcp::acceptor probe(ctx, {asio::ip::address_v4::loopback(), 0});
            options.upstream = probe.local_endpoint();
        }
        line_source src(ctx.get_executor(), options);
        const source_config config{just_users};
        const auto f = co_await failure_of(on_source(src, src.init(config)));
        EXPECT_EQ(f.code, errc::transient);
        EXPECT_NE(f.message.find("cannot connect to 127.0.0.1:"), std::string::npos) << f.message;
        EXPECT_EQ(src.state(), source_state::reconnecting);
    });
}

TEST_P(line, baseline_delivers_every_row_in_batches_as_of_the_newest_change) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        std::vector<upstream_change> txn{insert("1", "ann", "two words"), insert("2", "bob"),
                                         insert("3", "c=y%", "line\nbreak"), insert("4", "dan")};
        u.up.commit(txn);
        commit_one(u.up, update("1", "note", "changed"));
        commit_one(u.up, remove("4"));
        auto options = options_for(u.up);
        options.batch_size = 2;
        line_source src(ctx.get_executor(), options);
        const auto schema = co_await init_users(src);
        recording_handler sink(src.get_executor());
        const auto at = co_await on_source(src, src.baseline(just_users, sink));
        EXPECT_EQ(at, position::from_sequence(u.up.newest()));
        EXPECT_EQ(u.up.newest(), 6u);
        const std::vector<row> expected{user_row(schema, "1", "ann", "changed"),
                                        user_row(schema, "2", "bob", value()),
                                        user_row(schema, "3", "c=y%", "line\nbreak")};
        std::vector<row> got;
        for (const auto& [table, r] : sink.rows()) {
            EXPECT_EQ(table, users);
            got.push_back(r);
        }
        EXPECT_EQ(got, expected);
        EXPECT_EQ(sink.row_batch_sizes(), (std::vector<std::size_t>{2, 1}));
        EXPECT_TRUE(sink.all_calls_on_expected_executor());
    });
}

TEST_P(line, stream_delivers_each_transaction_as_a_batch_ending_at_its_commit) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        commit_one(u.up, insert("1", "ann"));
        line_source src(ctx.get_executor(), options_for(u.up));
        const auto schema = co_await init_users(src);
        recording_handler handler(src.get_executor());
        const auto at = co_await on_source(src, src.baseline(just_users, handler));
        stream_runner stream(src, at, handler);

        std::vector<upstream_change> first{insert("5", "eve", "x"), update("5", "name", "eva")};
        u.up.commit(first);
        commit_one(u.up, remove("1"));
        commit_one(u.up, upstream_change{change_action::truncate, users, {}});
        EXPECT_TRUE(co_await eventually([&] { return handler.event_count() == 4; }));
        EXPECT_EQ(src.state(), source_state::streaming);
        EXPECT_TRUE(co_await stream.cancel());
        EXPECT_FALSE(stream.failure());
        EXPECT_EQ(src.state(), source_state::connected);

        EXPECT_EQ(handler.batch_sizes(), (std::vector<std::size_t>{2, 1, 1}));
        const auto events = handler.events();
        CO_ASSERT_EQ(events.size(), 4u);
        EXPECT_EQ(events[0].action, change_action::insert);
        EXPECT_EQ(events[0].new_values, user_row(schema, "5", "eve", "x"));
        EXPECT_FALSE(events[0].ends_transaction);
        EXPECT_EQ(events[0].pos, position::from_sequence(2));
        EXPECT_EQ(events[1].action, change_action::update);
        EXPECT_EQ(events[1].new_values.at("name"), value("eva"));
        EXPECT_TRUE(events[1].new_values.at("note").is_unchanged());
        EXPECT_TRUE(events[1].ends_transaction);
        EXPECT_EQ(events[2].action, change_action::delete_);
        EXPECT_EQ(events[2].identity().at("id"), value("1"));
        EXPECT_EQ(events[3].action, change_action::truncate);
        for (std::size_t i = 0; i < events.size(); ++i) {
            EXPECT_EQ(events[i].table, users);
            EXPECT_GT(src.compare_positions(events[i].pos, i == 0 ? at : events[i - 1].pos), 0);
        }
        EXPECT_TRUE(handler.all_calls_on_expected_executor());
    });
}

TEST_P(line, a_large_transaction_arrives_in_parts_and_only_its_last_change_ends_it) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        auto options = options_for(u.up);
        options.batch_size = 2;
        line_source src(ctx.get_executor(), options);
        co_await init_users(src);
        recording_handler handler(src.get_executor());
        stream_runner stream(src, position::from_sequence(0), handler);
        std::vector<upstream_change> big;
        for (int i = 1; i <= 5; ++i) big.push_back(insert(std::to_string(i), "n"));
        u.up.commit(big);
        EXPECT_TRUE(co_await eventually([&] { return handler.event_count() == 5; }));
        EXPECT_TRUE(co_await stream.cancel());
        EXPECT_EQ(handler.batch_sizes(), (std::vector<std::size_t>{2, 2, 1}));
        const auto events = handler.events();
        for (std::size_t i = 0; i < events.size(); ++i)
            EXPECT_EQ(events[i].ends_transaction, i == events.size() - 1) << i;
    });
}

TEST_P(line, a_transaction_of_other_tables_becomes_a_heartbeat) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        u.up.add_table(orders, {"id", "total"});
        line_source src(ctx.get_executor(), options_for(u.up));
        co_await init_users(src);
        recording_handler handler(src.get_executor());
        stream_runner stream(src, position::from_sequence(0), handler);
        const std::vector<upstream_change> order{{change_action::insert, orders, {{"id", "7"}}}};
        const auto n = u.up.commit(order);
        EXPECT_TRUE(co_await eventually([&] { return handler.heartbeats().size() == 1; }));
        EXPECT_TRUE(co_await stream.cancel());
        EXPECT_EQ(handler.heartbeats(), std::vector<position>{position::from_sequence(n)});
        EXPECT_EQ(handler.event_count(), 0u);
    });
}

TEST_P(line, ack_writes_the_position_to_the_upstream_with_or_without_a_stream) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        commit_one(u.up, insert("1", "ann"));
        line_source src(ctx.get_executor(), options_for(u.up));
        co_await init_users(src);
        recording_handler handler(src.get_executor());
        const auto at = co_await on_source(src, src.baseline(just_users, handler));
        co_await on_source(src, src.ack(at));  // no stream connection yet: one of its own
        EXPECT_TRUE(co_await eventually([&] { return u.up.last_ack() == 1u; }));
        stream_runner stream(src, at, handler);
        const auto n = commit_one(u.up, insert("2", "bob"));
        EXPECT_TRUE(co_await eventually([&] { return handler.event_count() == 1; }));
        co_await on_source(src, src.ack(handler.events().back().pos));
        EXPECT_TRUE(co_await eventually([&] { return u.up.last_ack() == n; }));
        EXPECT_TRUE(co_await stream.cancel());
    });
}

TEST_P(line, cancellation_ends_the_stream_cleanly_and_the_final_ack_still_arrives) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        line_source src(ctx.get_executor(), options_for(u.up));
        co_await init_users(src);
        recording_handler handler(src.get_executor());
        stream_runner stream(src, position::from_sequence(0), handler);
        const auto n = commit_one(u.up, insert("1", "ann"));
        EXPECT_TRUE(co_await eventually([&] { return handler.event_count() == 1; }));
        EXPECT_TRUE(co_await stream.cancel());
        EXPECT_FALSE(stream.failure());
        EXPECT_EQ(src.state(), source_state::connected);
        co_await on_source(src, src.ack(position::from_sequence(n)));
        EXPECT_TRUE(co_await eventually([&] { return u.up.last_ack() == n; }));
        // The stream's connection stays open until close (the others were closed earlier).
        EXPECT_TRUE(co_await eventually([&] { return u.up.open_connections() == 1; }));
        co_await on_source(src, src.close());
        EXPECT_TRUE(co_await eventually([&] { return u.up.open_connections() == 0; }));
    });
}

TEST_P(line, cancellation_while_the_handler_holds_the_stream_back_is_a_clean_end) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        line_source src(ctx.get_executor(), options_for(u.up));
        co_await init_users(src);
        recording_handler handler(src.get_executor());
        handler.close_gate();
        stream_runner stream(src, position::from_sequence(0), handler);
        commit_one(u.up, insert("1", "ann"));
        EXPECT_TRUE(co_await eventually([&] { return handler.waiting_at_gate() == 1; }));
        EXPECT_TRUE(co_await stream.cancel());
        EXPECT_FALSE(stream.failure());
    });
}

TEST_P(line, a_malformed_line_fails_the_stream_naming_the_line) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        line_source src(ctx.get_executor(), options_for(u.up));
        co_await init_users(src);
        recording_handler handler(src.get_executor());
        stream_runner stream(src, position::from_sequence(0), handler);
        commit_one(u.up, insert("1", "ann"));  // lines 1-3: BEGIN, the insert, COMMIT
        u.up.send_raw("FROB x=1");
        EXPECT_TRUE(co_await stream.wait_done());
        const auto f = failure_of(stream.failure());
        EXPECT_EQ(f.code, errc::corrupt_data);
        EXPECT_NE(f.message.find("malformed line 4 from 127.0.0.1:"), std::string::npos)
            << f.message;
        EXPECT_NE(f.message.find("unknown message \"FROB\" in \"FROB x=1\""), std::string::npos)
            << f.message;
        EXPECT_EQ(src.state(), source_state::error);
        EXPECT_EQ(handler.event_count(), 1u);  // the transaction before it was delivered
    });
}

TEST_P(line, a_change_that_does_not_fit_the_table_is_malformed) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        line_source src(ctx.get_executor(), options_for(u.up));
        co_await init_users(src);
        recording_handler handler(src.get_executor());
        stream_runner stream(src, position::from_sequence(0), handler);
        u.up.send_raw("BEGIN");
        u.up.send_raw("1 INSERT public.users id=1 colour=red");
        EXPECT_TRUE(co_await stream.wait_done());
        const auto f = failure_of(stream.failure());
        EXPECT_EQ(f.code, errc::corrupt_data);
        EXPECT_NE(f.message.find("line 2 from"), std::string::npos) << f.message;
        EXPECT_NE(f.message.find("no column \"colour\""), std::string::npos) << f.message;
    });
}

TEST_P(line, a_lost_connection_fails_the_stream_as_transient) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        line_source src(ctx.get_executor(), options_for(u.up));
        co_await init_users(src);
        recording_handler handler(src.get_executor());
        stream_runner stream(src, position::from_sequence(0), handler);
        EXPECT_TRUE(co_await eventually([&] { return u.up.streams_served() == 1; }));
        u.up.drop_connections();
        EXPECT_TRUE(co_await stream.wait_done());
        const auto f = failure_of(stream.failure());
        EXPECT_EQ(f.code, errc::transient);
        EXPECT_NE(f.message.find("connection to 127.0.0.1:"), std::string::npos) << f.message;
        EXPECT_EQ(src.state(), source_state::reconnecting);
    });
}

TEST_P(line, streaming_from_before_the_upstreams_last_ack_demands_a_rebaseline) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        line_source src(ctx.get_executor(), options_for(u.up));
        co_await init_users(src);
        recording_handler handler(src.get_executor());
        {
            stream_runner stream(src, position::from_sequence(0), handler);
            commit_one(u.up, insert("1", "ann"));
            const auto n = commit_one(u.up, insert("2", "bob"));
            co_await on_source(src, src.ack(position::from_sequence(n)));
            EXPECT_TRUE(co_await eventually([&] { return u.up.last_ack() == n; }));
            EXPECT_TRUE(co_await stream.cancel());
        }
        stream_runner again(src, position::from_sequence(1), handler);
        EXPECT_TRUE(co_await again.wait_done());
        const auto f = failure_of(again.failure());
        EXPECT_EQ(f.code, errc::rebaseline_required);
        EXPECT_NE(f.message.find("HISTORY_GONE"), std::string::npos) << f.message;
    });
}

TEST_P(line, close_ends_a_running_stream_and_releases_its_socket) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        line_source src(ctx.get_executor(), options_for(u.up));
        co_await init_users(src);
        recording_handler handler(src.get_executor());
        stream_runner stream(src, position::from_sequence(0), handler);
        EXPECT_TRUE(co_await eventually(
            [&] { return u.up.streams_served() == 1 && u.up.open_connections() == 1; }));
        co_await on_source(src, src.close());
        EXPECT_TRUE(co_await stream.wait_done());
        EXPECT_FALSE(stream.failure());
        EXPECT_EQ(src.state(), source_state::closed);
        EXPECT_TRUE(co_await eventually([&] { return u.up.open_connections() == 0; }));
    });
}

TEST_P(line, state_follows_the_lifecycle_through_pause_and_resume) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        line_source src(ctx.get_executor(), options_for(u.up));
        co_await init_users(src);
        EXPECT_EQ(src.state(), source_state::connected);
        recording_handler handler(src.get_executor());
        stream_runner stream(src, position::from_sequence(0), handler);
        EXPECT_TRUE(co_await eventually([&] { return src.state() == source_state::streaming; }));
        co_await on_source(src, src.pause());
        EXPECT_EQ(src.state(), source_state::paused);
        co_await on_source(src, src.resume());
        EXPECT_EQ(src.state(), source_state::streaming);
        EXPECT_TRUE(co_await stream.cancel());
        co_await on_source(src, src.close());
        EXPECT_EQ(src.state(), source_state::closed);
    });
}

TEST_P(line, resume_answers_from_the_upstreams_history) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        line_source src(ctx.get_executor(), options_for(u.up));
        EXPECT_TRUE(src.supports_resume());
        EXPECT_EQ(co_await on_source(src, src.last_acked_position()), std::nullopt);
        EXPECT_TRUE(co_await on_source(src, src.can_resume_from(position())));
        co_await init_users(src);
        recording_handler handler(src.get_executor());
        stream_runner stream(src, position::from_sequence(0), handler);
        for (int i = 1; i <= 3; ++i) commit_one(u.up, insert(std::to_string(i), "n"));
        co_await on_source(src, src.ack(position::from_sequence(2)));
        EXPECT_TRUE(co_await eventually([&] { return u.up.last_ack() == 2u; }));
        EXPECT_TRUE(co_await stream.cancel());
        EXPECT_EQ(co_await on_source(src, src.last_acked_position()), position::from_sequence(2));
        EXPECT_FALSE(co_await on_source(src, src.can_resume_from(position::from_sequence(1))));
        EXPECT_TRUE(co_await on_source(src, src.can_resume_from(position::from_sequence(2))));
        EXPECT_TRUE(co_await on_source(src, src.can_resume_from(position::from_sequence(3))));
        EXPECT_FALSE(co_await on_source(src, src.can_resume_from(position::from_sequence(4))));
    });
}

TEST(line_positions, change_numbers_round_trip_and_malformed_strings_are_rejected) {
    io_context ctx;
    line_source src(ctx.get_executor(), line_source_options{});
    EXPECT_EQ(src.position_to_string(position::from_sequence(1234)), "1234");
    EXPECT_EQ(src.position_from_string("1234"), position::from_sequence(1234));
    EXPECT_EQ(src.position_from_string(src.position_to_string(position{})), position{});
    EXPECT_LT(src.compare_positions(position::from_sequence(9), position::from_sequence(10)), 0);
    EXPECT_LT(src.compare_positions(position{}, position::from_sequence(0)), 0);
    EXPECT_EQ(src.compare_positions(position::from_sequence(3), position::from_sequence(3)), 0);
    for (const char* text : {"x", "-1", "1 ", "1:2", "99999999999999999999"}) {
        try {
            src.position_from_string(text);
            ADD_FAILURE() << text << " was accepted";
        } catch (const laredo::error& e) {
            EXPECT_EQ(e.code(), errc::invalid_position);
            EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
        }
    }
    EXPECT_EQ(src.ordering(), ordering_guarantee::total_order);
    EXPECT_EQ(src.lag(), lag_info{});
}

TEST(line_options, a_batch_size_of_zero_is_refused) {
    io_context ctx;
    line_source_options options;
    options.batch_size = 0;
    try {
        line_source src(ctx.get_executor(), options);
        ADD_FAILURE() << "accepted";
    } catch (const laredo::error& e) {
        EXPECT_EQ(e.code(), errc::invalid_config);
    }
}

TEST(line_protocol, every_message_parses) {
    namespace lp = examples::line_protocol;
    using kind = lp::message::kind;
    const auto columns = lp::parse("COLUMNS s.t a* b c*");
    EXPECT_EQ(columns.what, kind::columns);
    ASSERT_EQ(columns.columns.size(), 3u);
    EXPECT_EQ(columns.columns[2].name, "c");
    EXPECT_EQ(columns.columns[2].primary_key_ordinal, 2);
    const auto r = lp::parse("ROW s.t a=1 b c=x%20y%3D%25");
    EXPECT_EQ(r.what, kind::row);
    EXPECT_EQ(r.fields, (std::vector<lp::field>{{"a", "1"}, {"b", std::nullopt}, {"c", "x y=%"}}));
    EXPECT_EQ(lp::parse("END 41").number, 41u);
    const auto h = lp::parse("HISTORY - 41");
    EXPECT_EQ(h.acked, std::nullopt);
    EXPECT_EQ(lp::parse("HISTORY 12 41").acked, 12u);
    EXPECT_EQ(lp::parse("BEGIN\r").what, kind::begin);
    EXPECT_EQ(lp::parse("COMMIT").what, kind::commit);
    const auto c = lp::parse("44 DELETE s.t a=1");
    EXPECT_EQ(c.what, kind::change);
    EXPECT_EQ(c.action, change_action::delete_);
    EXPECT_EQ(c.number, 44u);
    EXPECT_EQ(c.table, table_identifier("s", "t"));
    const auto e = lp::parse("ERROR UNKNOWN_TABLE no table s.t");
    EXPECT_EQ(e.error_code, "UNKNOWN_TABLE");
    EXPECT_EQ(e.error_text, "no table s.t");
    const std::string raw = "a b=c%d\n\r\t\x7f";
    EXPECT_EQ(lp::decode(lp::encode(raw)), raw);
    EXPECT_EQ(lp::encode(raw).find_first_of(" =\n"), std::string::npos);
}

TEST(line_protocol, malformed_lines_are_rejected_saying_why) {
    namespace lp = examples::line_protocol;
    const std::vector<std::pair<std::string, std::string>> cases{
        {"", "unknown message \"\""},
        {"FROB", "unknown message \"FROB\""},
        {"BEGIN now", "expected BEGIN alone"},
        {"12 MERGE s.t a=1", "unknown action \"MERGE\""},
        {"1x INSERT s.t a=1", "\"1x\" is not a change number"},
        {"12 INSERT nodot a=1", "\"nodot\" is not schema.table"},
        {"12 INSERT s.t =1", "has no column name"},
        {"12 TRUNCATE s.t a=1", "TRUNCATE takes no columns"},
        {"COLUMNS s.t a b", "no key column"},
        {"HISTORY 1", "expected HISTORY"},
        {"ROW s.t a=%G1", "bad escape"},
        {"ROW s.t a=%4", "bad escape"},
        {"END -1", "\"-1\" is not a change number"},
    };
    for (const auto& [line, why] : cases) {
        try {
            lp::parse(line);
            ADD_FAILURE() << "accepted: " << line;
        } catch (const lp::malformed& e) {
            EXPECT_NE(std::string(e.what()).find(why), std::string::npos)
                << line << " -> " << e.what();
        }
    }
}

// --- Through the engine, into an indexed memory target. ---

struct line_engine {
    std::shared_ptr<line_source> source;
    std::shared_ptr<indexed_target> target;
    engine eng;

    line_engine(io_context& ctx, line_source_options options, pipeline_options pipeline = {},
                indexed_target_options target_options = {},
                std::shared_ptr<indexed_target> reuse = nullptr)
        : source(std::make_shared<line_source>(ctx.get_executor(), std::move(options))),
          target(reuse ? reuse : std::make_shared<indexed_target>(target_options)),
          eng(make(ctx, std::move(pipeline))) {}

    engine make(io_context& ctx, pipeline_options pipeline) {
        engine_options fast;
        fast.source_retry.initial = std::chrono::milliseconds(10);
        fast.source_retry.max = std::chrono::milliseconds(50);
        return engine::builder()
            .with_options(fast)
            .add_source("line", source)
            .add_pipeline("line", users, target, std::move(pipeline))
            .build(ctx.get_executor());
    }

    std::optional<std::string> name_of(const std::string& id) const {
        const auto r = target->get(id);
        const std::string* name = r ? r->at("name").get_if<std::string>() : nullptr;
        if (!name) return std::nullopt;
        return *name;
    }
};

TEST_P(line, engine_brings_the_baseline_and_every_change_to_an_indexed_target) {
    run([&](io_context& ctx) -> awaitable<void> {
        // [guide:engine-test]
        upstream_with_users u(ctx);
        std::vector<upstream_change> rows{insert("1", "ann"), insert("2", "bob")};
        u.up.commit(rows);
        line_engine t(ctx, options_for(u.up));
        co_await t.eng.async_start(use_awaitable);
        co_await t.eng.async_await_ready(use_awaitable);
        EXPECT_EQ(t.target->count(), 2u);
        EXPECT_EQ(t.name_of("2"), "bob");

        std::vector<upstream_change> txn{update("1", "name", "ANN"), insert("3", "cy", "new")};
        u.up.commit(txn);
        const auto last = commit_one(u.up, remove("2"));
        EXPECT_TRUE(co_await eventually([&] {
            return t.target->count() == 2 && t.name_of("1") == "ANN" && t.name_of("3") == "cy";
        }));
        EXPECT_FALSE(t.target->get("2"));
        // ACK what the target applied, over the stream connection.
        EXPECT_TRUE(co_await eventually([&] { return u.up.last_ack() == last; }));
        co_await t.eng.async_stop(use_awaitable);
        EXPECT_EQ(t.source->state(), source_state::closed);
        EXPECT_TRUE(co_await eventually([&] { return u.up.open_connections() == 0; }));
        // [/guide:engine-test]
    });
}

TEST_P(line, engine_pause_stops_reading_so_tcp_holds_the_upstream_back_and_nothing_is_lost) {
    run(
        [&](io_context& ctx) -> awaitable<void> {
            constexpr int small_socket_buffer = 16 * 1024;
            upstream_with_users u(ctx, small_socket_buffer);
            auto options = options_for(u.up);
            options.receive_buffer_bytes = small_socket_buffer;
            pipeline_options small_buffer;
            small_buffer.buffer_size = 4;
            line_engine t(ctx, options, small_buffer);
            co_await t.eng.async_start(use_awaitable);
            co_await t.eng.async_await_ready(use_awaitable);
            co_await t.eng.async_pause("line", use_awaitable);
            // (The stream may still be connecting: it starts paused then.)
            EXPECT_TRUE(
                co_await eventually([&] { return t.source->state() == source_state::paused; }));

            // About 2 MB of changes; the buffers on the way (pipeline, read buffer, both sockets)
            // hold well under 300 KB of them.
            const std::string note(4096, 'x');
            constexpr int changes = 500;
            for (int i = 1; i <= changes; ++i)
                commit_one(u.up, insert(std::to_string(i), "n", note));
            EXPECT_TRUE(co_await eventually([&] { return u.up.changes_sent() > 0; }));
            co_await sleep_for(std::chrono::milliseconds(200));
            // The upstream cannot write everything: its socket is full because nobody reads.
            EXPECT_LT(u.up.changes_sent(), u.up.newest());
            EXPECT_EQ(t.target->count(), 0u);
            EXPECT_LE(t.eng.pipelines()[0].buffer_depth, 4u);

            co_await t.eng.async_resume("line", use_awaitable);
            EXPECT_TRUE(co_await eventually([&] { return t.target->count() == changes; },
                                            std::chrono::seconds(30)));
            EXPECT_TRUE(co_await eventually([&] { return u.up.changes_sent() == u.up.newest(); }));
            for (int i = 1; i <= changes; ++i) {
                const auto r = t.target->get(std::to_string(i));
                EXPECT_TRUE(r && r->at("note") == value(note)) << i;
            }
            EXPECT_TRUE(co_await eventually([&] { return u.up.last_ack() == u.up.newest(); }));
            co_await t.eng.async_stop(use_awaitable);
        },
        std::chrono::seconds(60));
}

TEST_P(line, engine_reconnects_after_a_lost_connection_without_losing_a_change) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        line_engine t(ctx, options_for(u.up));
        co_await t.eng.async_start(use_awaitable);
        co_await t.eng.async_await_ready(use_awaitable);
        for (int i = 1; i <= 3; ++i) commit_one(u.up, insert(std::to_string(i), "before"));
        EXPECT_TRUE(co_await eventually([&] { return t.target->count() == 3; }));
        u.up.drop_connections();
        for (int i = 4; i <= 6; ++i) commit_one(u.up, insert(std::to_string(i), "after"));
        commit_one(u.up, update("1", "name", "changed"));
        // The engine streams again from its last ACK; pipelines skip what they applied.
        EXPECT_TRUE(co_await eventually([&] {
            return u.up.streams_served() >= 2 && t.target->count() == 6 &&
                   t.name_of("1") == "changed" && t.name_of("6") == "after";
        }));
        EXPECT_EQ(t.eng.pipelines()[0].state, pipeline_state::streaming);
        EXPECT_TRUE(co_await eventually([&] { return u.up.last_ack() == u.up.newest(); }));
        co_await t.eng.async_stop(use_awaitable);
    });
}

TEST_P(line, engine_puts_the_pipeline_in_error_naming_a_malformed_line) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        line_engine t(ctx, options_for(u.up));
        co_await t.eng.async_start(use_awaitable);
        co_await t.eng.async_await_ready(use_awaitable);
        u.up.send_raw("FROB");
        EXPECT_TRUE(co_await eventually(
            [&] { return t.eng.pipelines()[0].state == pipeline_state::error; }));
        const auto why = t.eng.pipelines()[0].last_error;
        EXPECT_NE(why.find("malformed line 1 from 127.0.0.1:"), std::string::npos) << why;
        EXPECT_EQ(t.source->state(), source_state::error);
        co_await t.eng.async_stop(use_awaitable);
    });
}

TEST_P(line, engine_restarted_on_the_same_target_resumes_without_a_baseline) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        commit_one(u.up, insert("1", "ann"));
        indexed_target_options keep;
        keep.keep_position_across_engines = true;
        std::shared_ptr<indexed_target> target;
        {
            line_engine first(ctx, options_for(u.up), {}, keep);
            target = first.target;
            co_await first.eng.async_start(use_awaitable);
            co_await first.eng.async_await_ready(use_awaitable);
            const auto n = commit_one(u.up, insert("2", "bob"));
            EXPECT_TRUE(co_await eventually([&] { return u.up.last_ack() == n; }));
            co_await first.eng.async_stop(use_awaitable);
        }
        // Changes while no engine runs wait in the upstream's history.
        commit_one(u.up, insert("3", "cy"));
        commit_one(u.up, remove("1"));
        line_engine second(ctx, options_for(u.up), {}, {}, target);
        co_await second.eng.async_start(use_awaitable);
        co_await second.eng.async_await_ready(use_awaitable);
        EXPECT_TRUE(co_await eventually([&] { return target->count() == 2 && !target->get("1"); }));
        EXPECT_EQ(second.name_of("3"), "cy");
        EXPECT_EQ(u.up.snapshots_served(), 1u);  // the first engine's baseline only
        co_await second.eng.async_stop(use_awaitable);
    });
}

TEST_P(line, engine_started_after_reset_source_takes_a_new_baseline) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        commit_one(u.up, insert("1", "ann"));
        indexed_target_options keep;
        keep.keep_position_across_engines = true;
        std::shared_ptr<indexed_target> target;
        {
            line_engine first(ctx, options_for(u.up), {}, keep);
            target = first.target;
            co_await first.eng.async_start(use_awaitable);
            co_await first.eng.async_await_ready(use_awaitable);
            co_await first.eng.async_stop(use_awaitable);
        }
        commit_one(u.up, insert("2", "bob"));
        line_source tool(ctx.get_executor(), options_for(u.up));
        co_await on_source(tool, tool.reset_source(false));
        EXPECT_FALSE(co_await on_source(tool, tool.can_resume_from(position::from_sequence(1))));
        line_engine second(ctx, options_for(u.up), {}, {}, target);
        co_await second.eng.async_start(use_awaitable);
        co_await second.eng.async_await_ready(use_awaitable);
        EXPECT_EQ(u.up.snapshots_served(), 2u);
        EXPECT_EQ(target->count(), 2u);
        co_await second.eng.async_stop(use_awaitable);
    });
}

// --- Wiring, as the guide shows it. ---

TEST(line_wiring, standalone_the_embedder_runs_the_io_context_on_its_own_threads) {
    io_context upstream_ctx;
    auto upstream_work = asio::make_work_guard(upstream_ctx);
    std::thread upstream_thread([&] { upstream_ctx.run(); });
    auto up = std::make_unique<line_upstream>(upstream_ctx.get_executor());
    up->add_table(users, {"id", "name", "note"});
    commit_one(*up, insert("1", "ann"));
    const auto upstream_address = up->endpoint();

    // [guide:wiring-standalone]
    boost::asio::io_context ctx;
    auto work = boost::asio::make_work_guard(ctx);  // run() returns only when we say so
    laredo::examples::line_source_options options;
    options.upstream = upstream_address;  // where the line server listens
    auto source = std::make_shared<line_source>(ctx.get_executor(), options);
    auto target = std::make_shared<indexed_target>();
    auto engine = laredo::engine::builder()
                      .add_source("line", source)
                      .add_pipeline("line", table_identifier("public", "users"), target)
                      .build(ctx.get_executor());
    auto started = engine.async_start(laredo::with_diagnostics(boost::asio::use_future));
    std::vector<std::thread> threads;  // the engine starts none: run the context yourself
    for (int i = 0; i < 4; ++i) threads.emplace_back([&ctx] { ctx.run(); });
    started.get();  // throws laredo::error when the engine cannot start
    std::optional<laredo::row> ann;
    if (engine.await_ready(std::chrono::seconds(30))) {
        ann = target->get("1");  // reads are safe from any thread
    }
    engine.async_stop(boost::asio::use_future).get();  // drain, final ACK, close
    work.reset();
    for (auto& t : threads) t.join();
    // [/guide:wiring-standalone]

    ASSERT_TRUE(ann);
    EXPECT_EQ(ann->at("name"), value("ann"));
    EXPECT_EQ(source->state(), source_state::closed);
    // The final ACK was written before the engine stopped; the upstream reads it soon.
    for (int i = 0; i < 5000 && up->last_ack() != 1u; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(up->last_ack(), 1u);
    up.reset();
    upstream_work.reset();
    upstream_thread.join();
}

// [guide:wiring-embedded]
// Your application already runs an io_context (a server, a client...): give the engine its
// executor. Nothing here blocks a thread; the engine shares the context with your code.
awaitable<void> run_with_engine(line_source_options options,
                                std::function<awaitable<void>(indexed_target&)> serve) {
    const auto executor = co_await boost::asio::this_coro::executor;
    auto source = std::make_shared<line_source>(executor, std::move(options));
    auto target = std::make_shared<indexed_target>();
    auto engine = laredo::engine::builder()
                      .add_source("line", source)
                      .add_pipeline("line", table_identifier("public", "users"), target)
                      .build(executor);
    co_await engine.async_start(boost::asio::use_awaitable);
    co_await engine.async_await_ready(boost::asio::use_awaitable);
    co_await serve(*target);  // your application's work, reading the target
    co_await engine.async_stop(boost::asio::use_awaitable);
}
// [/guide:wiring-embedded]

TEST_P(line, wiring_inside_an_existing_io_context) {
    run([&](io_context& ctx) -> awaitable<void> {
        upstream_with_users u(ctx);
        commit_one(u.up, insert("1", "ann"));
        bool served = false;
        std::function<awaitable<void>(indexed_target&)> serve =
            [&](indexed_target& users_target) -> awaitable<void> {
            EXPECT_EQ(users_target.count(), 1u);
            commit_one(u.up, insert("2", "bob"));
            served = co_await eventually([&] { return users_target.count() == 2; });
        };
        co_await run_with_engine(options_for(u.up), serve);
        EXPECT_TRUE(served);
        // The final ACK was written before the engine stopped; the upstream reads it soon.
        EXPECT_TRUE(co_await eventually([&] { return u.up.last_ack() == 2u; }));
    });
}

}  // namespace
}  // namespace laredo::testing
