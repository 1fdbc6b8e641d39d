// The fan-out target driven as the engine drives a target: its table, its journal (actions,
// positions, transactions, epochs), snapshots and their scheduler, drain.
#include "fanout_state.hpp"
#include "fanout_support.hpp"

#include "laredo/error.hpp"
#include "laredo/targets/fanout/fanout_target.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

namespace laredo::fanout_test {
namespace {

using namespace std::chrono_literals;
using boost::asio::awaitable;
using targets::fanout::fanout_target;
using targets::fanout::fanout_target_options;
using testing::run_async;

// The entries of the current epoch, as (action, position, old row, new row).
struct seen {
    change_action action;
    position pos;
    std::optional<row> old_row;
    std::optional<row> new_row;
    bool ends;
};

std::vector<seen> entries(const fanout_target& t) {
    auto state = targets::fanout::state_of(t);
    const auto j = state->log().current();
    std::vector<seen> out;
    for (const auto& e : state->log().read_after(j.id, j.pruned_through, 1'000'000).entries) {
        seen s{e->action, e->pos, std::nullopt, std::nullopt, e->end_of_transaction};
        if (!e->old_row.empty()) s.old_row = e->old_row.view().to_row(e->schema);
        if (!e->new_row.empty()) s.new_row = e->new_row.view().to_row(e->schema);
        out.push_back(std::move(s));
    }
    return out;
}

awaitable<void> baseline(fanout_target& t, std::vector<row> rows, std::uint64_t pos) {
    co_await t.on_init(accounts, accounts_schema());
    co_await t.on_baseline_rows(accounts, rows);
    co_await t.on_baseline_complete(accounts, position::from_sequence(pos));
}

awaitable<void> apply(fanout_target& t, std::vector<change_event> changes) {
    co_await t.on_changes(accounts, changes);
}

awaitable<void> apply_one(fanout_target& t, change_event c) {
    co_await t.on_changes(accounts, std::span<const change_event>(&c, 1));
}

TEST(fanout_target, journals_every_change_with_its_position_keyed_by_the_real_key) {
    run_async(1, 10s, [](boost::asio::io_context& ctx) -> awaitable<void> {
        fanout_target t(ctx.get_executor());
        EXPECT_FALSE(t.ready());
        const std::vector<row> initial{account("a", 1, "eu"), account("b", 1, "us")};
        co_await baseline(t, initial, 10);
        EXPECT_TRUE(t.ready());
        EXPECT_EQ(t.count(), 2u);
        EXPECT_TRUE(entries(t).empty());  // baseline rows are the epoch's start, not entries
        EXPECT_EQ(t.journal().head_position, position::from_sequence(10));

        const std::vector<change_event> first{insert(11, account("a", 2, "eu"), false),
                                              update(12, account("a", 1, "us", "ann")),
                                              remove(13, account("b", 1, value()))};
        co_await apply(t, first);
        const auto e = entries(t);
        EXPECT_EQ(e.size(), 3u);
        if (e.size() != 3) co_return;
        EXPECT_EQ(e[0].action, change_action::insert);
        EXPECT_FALSE(e[0].ends);
        EXPECT_EQ(e[1].action, change_action::update);
        EXPECT_EQ(e[1].pos, position::from_sequence(12));
        EXPECT_EQ(e[1].old_row, account("a", 1, "eu"));
        EXPECT_EQ(e[1].new_row, account("a", 1, "us", "ann"));
        EXPECT_TRUE(e[1].ends);
        EXPECT_EQ(e[2].action, change_action::delete_);
        EXPECT_EQ(e[2].old_row, account("b", 1, "us"));  // the stored row, not the identity
        EXPECT_EQ(t.count(), 2u);
        EXPECT_EQ(t.get({value("a"), value(1)}), account("a", 1, "us", "ann"));
        const auto j = t.journal();
        EXPECT_EQ(j.head_sequence, 3u);
        EXPECT_EQ(j.oldest_sequence, 1u);
        EXPECT_EQ(j.head_position, position::from_sequence(13));
    });
}

TEST(fanout_target, entries_say_what_happened_to_the_table) {
    run_async(1, 10s, [](boost::asio::io_context& ctx) -> awaitable<void> {
        fanout_target t(ctx.get_executor());
        const std::vector<row> initial{account("a", 1, "eu", "ann", "long notes")};
        co_await baseline(t, initial, 1);
        const std::vector<change_event> all{
            // an insert over an existing key replaces it: an UPDATE
            insert(2, account("a", 1, "eu", "anna", "long notes")),
            // an update of a missing row creates it: an INSERT
            update(3, account("a", 2, "us")),
            // a delete of a missing row changes nothing: no entry
            remove(4, account("z", 9, value())),
            // unchanged columns are taken from the stored row
            update(5, row(accounts_schema(),
                          {value("a"), value(1), value("us"), value("ann"), value::unchanged()})),
            // the key changes: the row moves
            update(6, account("a", 3, "us", "ann", "long notes"), account("a", 1, value())),
            truncate(7),
        };
        co_await apply(t, all);
        const auto e = entries(t);
        EXPECT_EQ(e.size(), 5u);
        if (e.size() != 5) co_return;
        EXPECT_EQ(e[0].action, change_action::update);
        EXPECT_EQ(e[1].action, change_action::insert);
        EXPECT_EQ(e[2].action, change_action::update);
        EXPECT_EQ(e[2].new_row, account("a", 1, "us", "ann", "long notes"));
        EXPECT_EQ(e[3].old_row, account("a", 1, "us", "ann", "long notes"));
        EXPECT_EQ(e[3].new_row, account("a", 3, "us", "ann", "long notes"));
        EXPECT_EQ(e[4].action, change_action::truncate);
        EXPECT_EQ(e[4].pos, position::from_sequence(7));
        EXPECT_EQ(t.count(), 0u);
        auto state = targets::fanout::state_of(t);
        const auto j = state->log().current();
        const auto raw = state->log().read_after(j.id, j.pruned_through, 10).entries;
        EXPECT_EQ(raw[2]->unchanged, std::vector<std::uint32_t>{4});
        EXPECT_NE(raw[2]->wire().find(R"("unchanged":["notes"])"), std::string::npos)
            << raw[2]->wire();
    });
}

TEST(fanout_target, a_table_without_a_key_is_refused_unless_key_columns_are_given) {
    run_async(1, 10s, [](boost::asio::io_context& ctx) -> awaitable<void> {
        const auto keyless =
            row_schema::make({{.name = "a", .type = "text"}, {.name = "b", .type = "text"}});
        fanout_target t(ctx.get_executor());
        try {
            co_await t.on_init(accounts, keyless);
            ADD_FAILURE() << "a keyless table was accepted";
        } catch (const error& e) {
            EXPECT_EQ(e.code(), make_error_code(errc::invalid_config));
            EXPECT_NE(std::string(e.what()).find("key"), std::string::npos);
        }
        fanout_target_options o;
        o.key_columns = {"b"};
        fanout_target keyed(ctx.get_executor(), o);
        co_await keyed.on_init(accounts, keyless);
        const std::vector<row> rows{row(keyless, {value("1"), value("x")}),
                                    row(keyless, {value("2"), value("x")})};
        co_await keyed.on_baseline_rows(accounts, rows);
        co_await keyed.on_baseline_complete(accounts, position::from_sequence(1));
        EXPECT_EQ(keyed.count(), 1u);
    });
}

TEST(fanout_target, a_rebuild_replaces_the_rows_and_starts_a_new_epoch) {
    run_async(1, 10s, [](boost::asio::io_context& ctx) -> awaitable<void> {
        fanout_target t(ctx.get_executor());
        const std::vector<row> initial{account("a", 1, "eu"), account("a", 2, "eu")};
        co_await baseline(t, initial, 5);
        co_await apply_one(t, insert(6, account("a", 3, "eu")));
        const auto before = t.journal();
        co_await t.begin_rebuild(accounts);
        const std::vector<row> fresh{account("a", 2, "us"), account("a", 4, "us")};
        co_await t.on_baseline_rows(accounts, fresh);
        co_await t.on_baseline_complete(accounts, position::from_sequence(20));
        co_await apply_one(t, insert(21, account("a", 5, "us")));  // goes to the new copy
        EXPECT_EQ(t.count(), 3u);                                  // readers still see the old rows
        co_await t.commit_rebuild(accounts);
        EXPECT_EQ(t.rows(), (std::vector<row>{account("a", 2, "us"), account("a", 4, "us"),
                                              account("a", 5, "us")}));
        const auto after = t.journal();
        EXPECT_NE(after.id, before.id);
        EXPECT_GE(after.head_sequence, before.head_sequence);
        EXPECT_EQ(after.entries, 0u);
        EXPECT_EQ(after.base_position, position::from_sequence(21));
        co_await apply_one(t, insert(22, account("a", 6, "us")));
        EXPECT_EQ(t.journal().head_sequence, before.head_sequence + 1);
    });
}

TEST(fanout_target, snapshots_are_kept_newest_first_by_count_and_age) {
    run_async(1, 10s, [](boost::asio::io_context& ctx) -> awaitable<void> {
        fanout_target_options o;
        o.snapshots.keep_count = 2;
        fanout_target t(ctx.get_executor(), o);
        EXPECT_THROW(t.take_snapshot(), error);  // not ready yet
        co_await baseline(t, std::vector<row>(1, account("a", 1, "eu")), 1);
        const auto first = t.take_snapshot();
        EXPECT_EQ(first.sequence, 0u);
        EXPECT_EQ(first.pos, position::from_sequence(1));
        EXPECT_EQ(first.row_count, 1u);
        EXPECT_EQ(t.take_snapshot().id, first.id);  // nothing changed: the same one
        co_await apply_one(t, insert(2, account("a", 2, "eu")));
        const auto second = t.take_snapshot();
        co_await apply_one(t, insert(3, account("a", 3, "eu")));
        const auto third = t.take_snapshot();
        EXPECT_EQ(third.sequence, 2u);
        EXPECT_EQ(third.pos, position::from_sequence(3));
        EXPECT_EQ(third.row_count, 3u);
        const auto kept = t.snapshots();
        EXPECT_EQ(kept.size(), 2u);
        if (kept.size() != 2) co_return;
        EXPECT_EQ(kept[0].id, third.id);
        EXPECT_EQ(kept[1].id, second.id);
    });
    run_async(1, 10s, [](boost::asio::io_context& ctx) -> awaitable<void> {
        fanout_target_options o;
        o.snapshots.keep_count = 0;
        o.snapshots.max_age = 30ms;
        fanout_target t(ctx.get_executor(), o);
        co_await baseline(t, std::vector<row>(1, account("a", 1, "eu")), 1);
        t.take_snapshot();
        co_await testing::sleep_for(50ms);
        co_await apply_one(t, insert(2, account("a", 2, "eu")));
        const auto fresh = t.take_snapshot();
        EXPECT_EQ(t.snapshots().size(), 1u);
        if (t.snapshots().empty()) co_return;
        EXPECT_EQ(t.snapshots()[0].id, fresh.id);
    });
}

TEST(fanout_target, the_snapshot_scheduler_takes_snapshots_and_retention_holds) {
    run_async(2, 10s, [](boost::asio::io_context& ctx) -> awaitable<void> {
        fanout_target_options o;
        o.snapshots.interval = 10ms;
        o.snapshots.keep_count = 3;
        fanout_target t(ctx.get_executor(), o);
        co_await baseline(t, std::vector<row>(1, account("a", 1, "eu")), 1);
        // Changes keep coming, so every scheduled snapshot is a new one.
        std::uint64_t pos = 1;
        for (int i = 0; i < 400 && t.snapshots().size() < 3; ++i) {
            ++pos;
            co_await apply_one(t, insert(pos, account("a", static_cast<std::int64_t>(pos), "eu")));
            co_await testing::sleep_for(5ms);
        }
        EXPECT_EQ(t.snapshots().size(), 3u);
        for (int i = 0; i < 5; ++i) {
            ++pos;
            co_await apply_one(t, insert(pos, account("a", static_cast<std::int64_t>(pos), "eu")));
            co_await testing::sleep_for(15ms);
        }
        EXPECT_EQ(t.snapshots().size(), 3u);  // retention holds
        // The scheduler catches up with the newest change.
        EXPECT_TRUE(co_await testing::eventually(
            [&] { return t.snapshots()[0].sequence == t.journal().head_sequence; }));
        co_await t.on_close(accounts);
    });
}

TEST(fanout_target, added_columns_continue_other_changes_rebaseline_and_both_start_an_epoch) {
    run_async(1, 10s, [](boost::asio::io_context& ctx) -> awaitable<void> {
        fanout_target t(ctx.get_executor());
        co_await baseline(t, std::vector<row>(1, account("a", 1, "eu")), 1);
        const auto before = t.journal().id;
        auto cols = accounts_schema()->columns();
        cols.push_back({.name = "extra", .type = "int8", .ordinal_position = 6});
        const row_schema wider(cols);
        const auto answer = co_await t.on_schema_change(accounts, *accounts_schema(), wider);
        EXPECT_EQ(answer.action, schema_change_action::continue_);
        EXPECT_NE(t.journal().id, before);
        EXPECT_EQ(t.schema()->size(), 6u);
        EXPECT_TRUE(t.rows().at(0).at("extra").is_null());
        cols.erase(cols.begin() + 3);  // drop "name"
        const row_schema narrower(cols);
        const auto second = co_await t.on_schema_change(accounts, wider, narrower);
        EXPECT_EQ(second.action, schema_change_action::rebaseline);
    });
}

TEST(fanout_target, drain_is_idempotent_keeps_the_sooner_deadline_and_can_be_undone) {
    boost::asio::io_context ctx;
    fanout_target t(ctx.get_executor());
    EXPECT_FALSE(t.draining().draining);
    t.drain("deploy", 10s, {"ws://elsewhere"});
    const auto first = t.draining();
    EXPECT_TRUE(first.draining);
    EXPECT_EQ(first.reason, "deploy");
    t.drain("later", 60s);
    EXPECT_EQ(t.draining().deadline, first.deadline);
    t.drain("sooner", 1s);
    EXPECT_EQ(t.draining().reason, "sooner");
    t.undrain();
    EXPECT_FALSE(t.draining().draining);
}

}  // namespace
}  // namespace laredo::fanout_test
