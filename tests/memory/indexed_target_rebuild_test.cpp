// Whole-table operations of the indexed memory target: rebuilds, snapshots, positions,
// schema changes, reuse by a new engine.
#include "laredo/targets/memory/indexed_target.hpp"

#include "memory_test_support.hpp"

#include "laredo/error.hpp"

#include <gtest/gtest.h>

using namespace laredo;
using namespace laredo::memory_test;
using laredo::targets::memory::indexed_target;
using laredo::targets::memory::indexed_target_options;
using laredo::targets::memory::rebuild_mode;

namespace {

std::vector<std::int64_t> ids(const std::vector<row>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.at("id").get<std::int64_t>());
    return out;
}
using id_list = std::vector<std::int64_t>;

indexed_target_options with_team_index(rebuild_mode mode = rebuild_mode::shadow) {
    indexed_target_options o;
    o.indexes = {{.name = "by_team", .fields = {"team"}}};
    o.rebuild = mode;
    return o;
}

}  // namespace

TEST(indexed_target_rebuild, swap_leaves_no_stale_rows_or_index_entries) {
    indexed_target t(with_team_index());
    init(t);
    baseline(t, {user(1, "ann", "", "red"), user(2, "bob", "", "red"), user(3, "cat")});
    begin_rebuild(t);
    baseline_rows(t, {user(2, "bob", "", "blue"), user(4, "dan", "", "red")});
    baseline_complete(t, 10);
    commit_rebuild(t);
    EXPECT_EQ(ids(t.rows()), (id_list{2, 4}));
    EXPECT_EQ(ids(t.lookup_index("by_team", {value("red")})), id_list{4});
    EXPECT_EQ(ids(t.lookup_index("by_team", {value("blue")})), id_list{2});
}

TEST(indexed_target_rebuild, readers_see_the_old_rows_until_commit) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann"), user(2, "bob")});
    begin_rebuild(t);
    EXPECT_EQ(ids(t.rows()), (id_list{1, 2}));
    baseline_rows(t, {user(3, "cat")});
    EXPECT_EQ(ids(t.rows()), (id_list{1, 2}));
    EXPECT_FALSE(t.get(3));
    baseline_complete(t, 5);
    EXPECT_EQ(ids(t.rows()), (id_list{1, 2}));
    commit_rebuild(t);
    EXPECT_EQ(ids(t.rows()), id_list{3});
}

TEST(indexed_target_rebuild, changes_during_a_rebuild_go_to_the_new_copy) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann")});
    begin_rebuild(t);
    baseline_rows(t, {user(1, "ann"), user(2, "bob", "bob@x", "", "bio")});
    baseline_complete(t, 5);
    apply(t, {update_of(user(2, "bobby", value::unchanged(), "", value::unchanged()), {}, 6)});
    // find() serves the copy changes are applied to, so the pipeline merges from it.
    EXPECT_EQ(t.find(user_key(2))->at("name"), value("bobby"));
    EXPECT_FALSE(t.get(2));
    commit_rebuild(t);
    EXPECT_EQ(*t.get(2), user(2, "bobby", "bob@x", "", "bio"));
}

TEST(indexed_target_rebuild, a_second_begin_restarts_the_new_copy) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann")});
    begin_rebuild(t);
    baseline_rows(t, {user(2, "bob")});
    begin_rebuild(t);
    baseline_rows(t, {user(3, "cat")});
    baseline_complete(t, 9);
    commit_rebuild(t);
    EXPECT_EQ(ids(t.rows()), id_list{3});
}

TEST(indexed_target_rebuild, reset_mode_empties_first_and_refills_in_place) {
    indexed_target t(with_team_index(rebuild_mode::reset));
    init(t);
    baseline(t, {user(1, "ann", "", "red"), user(2, "bob", "", "red")});
    begin_rebuild(t);
    EXPECT_EQ(t.count(), 0u);
    baseline_rows(t, {user(2, "bob", "", "blue")});
    EXPECT_EQ(ids(t.rows()), id_list{2});
    baseline_complete(t, 4);
    commit_rebuild(t);
    EXPECT_EQ(ids(t.rows()), id_list{2});
    EXPECT_TRUE(t.lookup_index("by_team", {value("red")}).empty());
}

TEST(indexed_target_rebuild, commit_announces_the_difference_to_listeners) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann"), user(2, "bob"), user(3, "cat")});
    std::vector<std::string> seen;
    auto sub = t.listen([&](const row* old_row, const row* new_row) {
        seen.push_back((old_row ? old_row->at("name").to_string() : "-") + ">" +
                       (new_row ? new_row->at("name").to_string() : "-"));
    });
    begin_rebuild(t);
    baseline_rows(t, {user(2, "bob"), user(3, "cathy"), user(4, "dan")});
    baseline_complete(t, 2);
    EXPECT_TRUE(seen.empty());
    commit_rebuild(t);
    EXPECT_EQ(seen, (std::vector<std::string>{"ann>-", "cat>cathy", "->dan"}));
}

TEST(indexed_target_snapshot, export_and_restore_round_trip_without_listener_calls) {
    indexed_target source;
    init(source);
    EXPECT_TRUE(source.supports_consistent_snapshot());
    baseline(source, {user(2, "bob", "b@x", "red", value::unchanged()), user(1, "ann")});
    const auto exported = export_rows(source);
    EXPECT_EQ(ids(exported), (id_list{1, 2}));

    indexed_target copy;
    init(copy);
    baseline(copy, {user(9, "stale")});
    int calls = 0;
    auto sub = copy.listen([&](const row*, const row*) { ++calls; });
    restore(copy, exported, 77);
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(copy.rows(), exported);
    EXPECT_TRUE(copy.get(2)->at("bio").is_unchanged());
    EXPECT_EQ(copy.persisted_position(), position::from_sequence(77));
    EXPECT_EQ(copy.confirmed_position(), position::from_sequence(77));
}

TEST(indexed_target_positions, persisted_position_is_empty_without_a_snapshot) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann")}, 5);
    apply(t, {insert_of(user(2, "bob"), 6)});
    EXPECT_EQ(t.persisted_position(), std::nullopt);
    EXPECT_EQ(t.confirmed_position(), position::from_sequence(6));
    EXPECT_TRUE(t.is_durable());
}

TEST(indexed_target_positions, persisted_position_stays_at_the_restored_snapshot) {
    indexed_target t;
    init(t);
    restore(t, {user(1, "ann")}, 40);
    apply(t, {insert_of(user(2, "bob"), 41)});
    EXPECT_EQ(t.persisted_position(), position::from_sequence(40));
    EXPECT_EQ(t.confirmed_position(), position::from_sequence(41));
}

TEST(indexed_target_positions, keep_position_across_engines_reports_the_last_applied_position) {
    indexed_target_options o;
    o.keep_position_across_engines = true;
    indexed_target t(o);
    init(t);
    EXPECT_EQ(t.persisted_position(), std::nullopt);
    baseline(t, {user(1, "ann")}, 5);
    EXPECT_EQ(t.persisted_position(), position::from_sequence(5));
    apply(t, {insert_of(user(2, "bob"), 6, false)});
    // Half a transaction is not a position to resume from.
    EXPECT_EQ(t.persisted_position(), position::from_sequence(5));
    EXPECT_FALSE(t.is_durable());
    apply(t, {insert_of(user(3, "cat"), 7, true)});
    EXPECT_EQ(t.persisted_position(), position::from_sequence(7));
    EXPECT_TRUE(t.is_durable());
}

TEST(indexed_target_positions, a_new_engine_resumes_on_the_same_object) {
    indexed_target_options o;
    o.keep_position_across_engines = true;
    indexed_target t(o);
    init(t);
    baseline(t, {user(1, "ann")}, 5);
    apply(t, {insert_of(user(2, "bob"), 6)});
    // Part of a transaction the first engine never finished.
    apply(t, {insert_of(user(3, "half"), 7, false)});

    // The new engine: init again, then stream from the persisted position.
    init(t);
    EXPECT_EQ(t.persisted_position(), position::from_sequence(6));
    EXPECT_EQ(ids(t.rows()), (id_list{1, 2}));
    EXPECT_TRUE(t.is_durable());
    apply(t, {insert_of(user(3, "cat"), 7, false), insert_of(user(4, "dan"), 8, true)});
    EXPECT_EQ(ids(t.rows()), (id_list{1, 2, 3, 4}));
    EXPECT_EQ(t.get(3)->at("name"), value("cat"));
}

TEST(indexed_target_positions, a_baseline_after_reinit_replaces_the_kept_rows) {
    indexed_target_options o;
    o.keep_position_across_engines = true;
    indexed_target t(o);
    init(t);
    baseline(t, {user(1, "ann"), user(2, "bob")}, 5);
    init(t);
    baseline_rows(t, {user(2, "bob")});
    // Readers keep the old rows until the new baseline is complete.
    EXPECT_EQ(ids(t.rows()), (id_list{1, 2}));
    baseline_complete(t, 20);
    EXPECT_EQ(ids(t.rows()), id_list{2});
    EXPECT_EQ(t.persisted_position(), position::from_sequence(20));
}

TEST(indexed_target_positions, an_empty_baseline_after_reinit_empties_the_table) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann")}, 5);
    init(t);
    baseline_complete(t, 6);
    EXPECT_EQ(t.count(), 0u);
}

TEST(indexed_target_transactions, large_transactions_apply_in_chunks_and_report_it) {
    indexed_target_options o;
    o.max_atomic_transaction_rows = 2;
    indexed_target t(o);
    init(t);
    baseline(t, {}, 1);
    apply(t, {insert_of(user(1, "a"), 2, false), insert_of(user(2, "b"), 3, false),
              insert_of(user(3, "c"), 4, false)});
    EXPECT_TRUE(t.is_mid_transaction());
    EXPECT_FALSE(t.is_durable());
    EXPECT_EQ(t.count(), 3u);
    EXPECT_EQ(t.confirmed_position(), position::from_sequence(1));
    apply(t, {insert_of(user(4, "d"), 5, true)});
    EXPECT_FALSE(t.is_mid_transaction());
    EXPECT_TRUE(t.is_durable());
    EXPECT_EQ(t.confirmed_position(), position::from_sequence(5));
}

TEST(indexed_target_transactions, an_open_transaction_is_invisible_until_its_commit) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann")}, 1);
    apply(t, {insert_of(user(2, "bob"), 2, false)});
    EXPECT_FALSE(t.get(2));
    EXPECT_FALSE(t.is_mid_transaction());
    EXPECT_FALSE(t.is_durable());
    apply(t, {delete_of(user_key(1), 3, true)});
    EXPECT_TRUE(t.get(2));
    EXPECT_FALSE(t.get(1));
}

TEST(indexed_target_schema, added_columns_continue_and_read_as_null_in_old_rows) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann")});
    auto columns = users_schema()->columns();
    columns.push_back({.name = "age", .type = "int4"});
    const auto wider = row_schema::make(columns);
    const auto response = schema_change(t, *users_schema(), *wider);
    EXPECT_EQ(response.action, schema_change_action::continue_);
    EXPECT_NE(response.message.find("age"), std::string::npos) << response.message;
    EXPECT_TRUE(t.get(1)->at("age").is_null());
    apply(t,
          {insert_of(row(wider, {value(2), value("bob"), value(), value(), value(), value(30)}))});
    EXPECT_EQ(t.get(2)->at("age"), value(30));
    EXPECT_EQ(t.get(1)->at("name"), value("ann"));
}

TEST(indexed_target_schema, a_column_added_with_a_default_asks_for_a_rebaseline) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann")});
    auto columns = users_schema()->columns();
    columns.push_back({.name = "level", .type = "int4", .default_value = "7"});
    const auto response = schema_change(t, *users_schema(), *row_schema::make(columns));
    // Stored rows have 7 in the source, but no change ever says so.
    EXPECT_EQ(response.action, schema_change_action::rebaseline);
    EXPECT_NE(response.message.find("level (default 7)"), std::string::npos) << response.message;
    // Meanwhile the rows have the column (null until the new copy brings the default), so the
    // reload's rows fit.
    EXPECT_TRUE(t.get(1)->at("level").is_null());
}

TEST(indexed_target_schema, a_column_added_in_the_middle_repacks_the_rows) {
    indexed_target_options o;
    o.indexes = {{.name = "by_team", .fields = {"team"}}};
    indexed_target t(o);
    init(t);
    baseline(t, {user(1, "ann", "a@x", "red", "bio")});
    auto columns = users_schema()->columns();
    columns.insert(columns.begin() + 1, {.name = "age", .type = "int4"});
    const auto reordered = row_schema::make(columns);
    EXPECT_EQ(schema_change(t, *users_schema(), *reordered).action,
              schema_change_action::continue_);
    const auto r = t.get(1);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at("team"), value("red"));
    EXPECT_EQ(r->at("bio"), value("bio"));
    EXPECT_TRUE(r->at("age").is_null());
    EXPECT_EQ(ids(t.lookup_index("by_team", {value("red")})), id_list{1});
}

TEST(indexed_target_schema, dropped_or_retyped_columns_ask_for_a_rebaseline) {
    indexed_target t;
    init(t);
    auto dropped = users_schema()->columns();
    dropped.pop_back();
    EXPECT_EQ(schema_change(t, *users_schema(), *row_schema::make(dropped)).action,
              schema_change_action::rebaseline);
    auto retyped = users_schema()->columns();
    retyped[1].type = "int8";
    EXPECT_EQ(schema_change(t, *users_schema(), *row_schema::make(retyped)).action,
              schema_change_action::rebaseline);
}
