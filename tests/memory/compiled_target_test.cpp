// The compiled memory target: rows compiled into domain objects kept by key.
#include "laredo/targets/memory/compiled_target.hpp"

#include "memory_test_support.hpp"

#include "laredo/error.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

using namespace laredo;
using namespace laredo::memory_test;
using laredo::targets::memory::compiled_target;
using laredo::targets::memory::compiled_target_options;

namespace {

struct card {
    std::int64_t id = 0;
    std::string label;
    std::string team;
    std::string bio;
};

std::string text_or_empty(const value& v) {
    if (const auto* s = v.get_if<std::string>()) return *s;
    return v.is_null() ? "" : v.to_string();
}

// Refuses names starting with '!'; keeps everything else.
card compile_card(const row& r) {
    const auto name = text_or_empty(r.at("name"));
    if (!name.empty() && name.front() == '!') throw std::runtime_error("bad name " + name);
    return card{r.at("id").get<std::int64_t>(), name + "/" + text_or_empty(r.at("team")),
                text_or_empty(r.at("team")), text_or_empty(r.at("bio"))};
}

compiled_target_options<card> card_options() {
    compiled_target_options<card> o;
    o.compiler = compile_card;
    return o;
}

compiled_target_options<card> red_only() {
    auto o = card_options();
    o.filter = [](const row& r) { return r.at("team") == value("red"); };
    return o;
}

std::vector<std::int64_t> ids(const compiled_target<card>& t) {
    std::vector<std::int64_t> out;
    t.for_each([&](const card& c) { out.push_back(c.id); });
    return out;
}
using id_list = std::vector<std::int64_t>;

}  // namespace

TEST(compiled_target, compiles_rows_into_objects_kept_by_key) {
    compiled_target<card> t(card_options());
    EXPECT_EQ(t.type_name(), "memory.compiled");
    init(t);
    baseline(t, {user(2, "bob", "", "blue"), user(1, "ann", "", "red")});
    EXPECT_EQ(t.count(), 2u);
    ASSERT_TRUE(t.get(1));
    EXPECT_EQ(t.get(1)->label, "ann/red");
    EXPECT_EQ(t.get({value(2)})->team, "blue");
    EXPECT_EQ(t.get(3), nullptr);
    EXPECT_EQ(ids(t), (id_list{1, 2}));
    EXPECT_EQ(t.objects().size(), 2u);
}

TEST(compiled_target, inserts_updates_deletes_and_truncates) {
    compiled_target<card> t(card_options());
    init(t);
    baseline(t, {user(1, "ann", "", "red")});
    apply(t, {insert_of(user(2, "bob", "", "red")), update_of(user(1, "anna", "", "red")),
              update_of(user(5, "bob", "", "blue"), user_key(2))});
    EXPECT_EQ(t.get(1)->label, "anna/red");
    EXPECT_EQ(t.get(2), nullptr);
    EXPECT_EQ(t.get(5)->team, "blue");
    apply(t, {delete_of(user_key(1)), delete_of(user_key(42))});
    EXPECT_EQ(ids(t), id_list{5});
    apply(t, {truncate_of()});
    EXPECT_EQ(t.count(), 0u);
}

TEST(compiled_target, filter_keeps_only_matching_rows) {
    compiled_target<card> t(red_only());
    init(t);
    baseline(t, {user(1, "ann", "", "red"), user(2, "bob", "", "blue")});
    EXPECT_EQ(ids(t), id_list{1});
    apply(t, {insert_of(user(3, "cat", "", "blue"))});
    EXPECT_EQ(t.get(3), nullptr);
}

TEST(compiled_target, update_that_leaves_the_filter_deletes_the_object) {
    compiled_target<card> t(red_only());
    init(t);
    baseline(t, {user(1, "ann", "", "red")});
    std::vector<std::string> seen;
    auto sub = t.listen([&](const card* o, const card* n) {
        seen.push_back((o ? o->label : "-") + ">" + (n ? n->label : "-"));
    });
    apply(t, {update_of(user(1, "ann", "", "blue"))});
    EXPECT_EQ(t.get(1), nullptr);
    apply(t, {update_of(user(1, "ann", "", "red"))});
    EXPECT_EQ(t.get(1)->label, "ann/red");
    EXPECT_EQ(seen, (std::vector<std::string>{"ann/red>-", "->ann/red"}));
}

TEST(compiled_target, compiler_errors_are_counted_and_described) {
    compiled_target<card> t(card_options());
    init(t);
    baseline(t, {user(1, "ann", "", "red"), user(2, "!bob", "", "red")});
    EXPECT_EQ(t.count(), 1u);
    EXPECT_EQ(t.rejected_count(), 1u);
    ASSERT_TRUE(t.last_error());
    EXPECT_NE(t.last_error()->find("bad name !bob"), std::string::npos) << *t.last_error();
    // A failed update keeps the previous object.
    apply(t, {update_of(user(1, "!ann", "", "red"))});
    EXPECT_EQ(t.rejected_count(), 2u);
    EXPECT_EQ(t.get(1)->label, "ann/red");
}

TEST(compiled_target, update_merges_unchanged_values_before_compiling) {
    compiled_target<card> t(card_options());
    init(t);
    baseline(t, {user(1, "ann", "", "red", "toasted bio")});
    apply(t, {update_of(user(1, "anna", "", "red", value::unchanged()))});
    EXPECT_EQ(t.get(1)->bio, "toasted bio");
    // The kept row has the merged value too.
    EXPECT_EQ(t.find(user_key(1))->at("bio"), value("toasted bio"));
}

TEST(compiled_target, needs_a_compiler) {
    EXPECT_THROW(compiled_target<card>(compiled_target_options<card>{}), error);
}

TEST(compiled_target, a_table_without_a_key_is_refused_unless_key_fields_are_given) {
    const auto keyless = row_schema::make({{.name = "code", .type = "text"}});
    const table_identifier table{"public", "codes"};
    compiled_target_options<std::string> o;
    o.compiler = [](const row& r) { return r.at("code").get<std::string>(); };
    compiled_target<std::string> refused(o);
    EXPECT_THROW(init(refused, keyless, table), error);

    o.key_fields = {"code"};
    compiled_target<std::string> keyed(o);
    init(keyed, keyless, table);
    baseline(keyed, {row(keyless, {value("a")}), row(keyless, {value("b")})}, 1, table);
    EXPECT_EQ(keyed.count(), 2u);
    EXPECT_EQ(*keyed.get("b"), "b");
}

TEST(compiled_target, key_fields_other_than_the_table_key) {
    auto o = card_options();
    o.key_fields = {"email"};
    compiled_target<card> t(o);
    init(t);
    baseline(t, {user(1, "ann", "ann@x", "red"), user(2, "bob", "bob@x", "red")});
    EXPECT_EQ(t.get("ann@x")->id, 1);
    // The old tuple carries only the table key; the entry is still found and re-keyed.
    apply(t, {update_of(user(1, "ann", "ann@new", "red"), user_key(1))});
    EXPECT_EQ(t.get("ann@x"), nullptr);
    EXPECT_EQ(t.get("ann@new")->id, 1);
    apply(t, {delete_of(user_key(2))});
    EXPECT_EQ(t.get("bob@x"), nullptr);
    EXPECT_EQ(t.count(), 1u);
    EXPECT_THROW(apply(t, {insert_of(user(3, "cat", "ann@new", "red"))}), error);
    EXPECT_EQ(t.get("ann@new")->id, 1);
}

TEST(compiled_target, restore_filters_and_compiles_again_without_listener_calls) {
    compiled_target<card> source(card_options());
    init(source);
    baseline(source, {user(1, "ann", "", "red"), user(2, "bob", "", "blue")});
    const auto rows = export_rows(source);
    EXPECT_EQ(rows.size(), 2u);

    compiled_target<card> copy(red_only());
    init(copy);
    int calls = 0;
    auto sub = copy.listen([&](const card*, const card*) { ++calls; });
    restore(copy, rows, 12);
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(ids(copy), id_list{1});
    EXPECT_EQ(copy.get(1)->label, "ann/red");
    EXPECT_EQ(copy.persisted_position(), position::from_sequence(12));
}

TEST(compiled_target, rebuild_swaps_in_the_new_copy_without_stale_objects) {
    compiled_target<card> t(card_options());
    init(t);
    baseline(t, {user(1, "ann"), user(2, "bob")});
    begin_rebuild(t);
    baseline_rows(t, {user(2, "bobby"), user(3, "cat")});
    EXPECT_EQ(ids(t), (id_list{1, 2}));
    baseline_complete(t, 9);
    commit_rebuild(t);
    EXPECT_EQ(ids(t), (id_list{2, 3}));
    EXPECT_EQ(t.get(2)->label, "bobby/");
    EXPECT_EQ(t.confirmed_position(), position::from_sequence(9));
}

TEST(compiled_target, schema_change_asks_for_a_rebaseline) {
    compiled_target<card> t(card_options());
    init(t);
    auto columns = users_schema()->columns();
    columns.push_back({.name = "age", .type = "int4"});
    EXPECT_EQ(schema_change(t, *users_schema(), *row_schema::make(columns)).action,
              schema_change_action::rebaseline);
}

TEST(compiled_target, open_transactions_stay_invisible_until_their_commit) {
    compiled_target<card> t(card_options());
    init(t);
    baseline(t, {});
    apply(t, {insert_of(user(1, "ann"), 2, false)});
    EXPECT_EQ(t.count(), 0u);
    EXPECT_FALSE(t.is_durable());
    apply(t, {insert_of(user(2, "bob"), 3, true)});
    EXPECT_EQ(t.count(), 2u);
    EXPECT_TRUE(t.is_durable());
    EXPECT_EQ(t.confirmed_position(), position::from_sequence(3));
}

TEST(compiled_target, listeners_see_old_and_new_objects) {
    compiled_target<card> t(card_options());
    init(t);
    std::vector<std::string> seen;
    auto sub = t.listen([&](const card* o, const card* n) {
        seen.push_back((o ? o->label : "-") + ">" + (n ? n->label : "-"));
    });
    baseline(t, {user(1, "ann", "", "red")});
    apply(t, {update_of(user(1, "anna", "", "red")), delete_of(user_key(1)),
              insert_of(user(2, "bob")), truncate_of()});
    sub.unsubscribe();
    apply(t, {insert_of(user(3, "cat"))});
    EXPECT_EQ(seen, (std::vector<std::string>{"->ann/red", "ann/red>anna/red", "anna/red>-",
                                              "->bob/", "->-"}));
}

TEST(compiled_target, get_with_the_wrong_number_of_key_values_is_an_error) {
    compiled_target<card> t(card_options());
    init(t);
    EXPECT_THROW((void)t.get(1, 2), error);
}
