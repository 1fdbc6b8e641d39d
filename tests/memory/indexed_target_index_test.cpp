// Secondary indexes and lookup fields of the indexed memory target.
#include "laredo/targets/memory/indexed_target.hpp"

#include "memory_test_support.hpp"

#include "laredo/error.hpp"

#include <gtest/gtest.h>

using namespace laredo;
using namespace laredo::memory_test;
using laredo::targets::memory::indexed_target;
using laredo::targets::memory::indexed_target_options;

namespace {

indexed_target_options indexed_options() {
    indexed_target_options o;
    o.indexes = {{.name = "by_email", .fields = {"email"}, .unique = true},
                 {.name = "by_team", .fields = {"team"}, .unique = false},
                 {.name = "by_team_name", .fields = {"team", "name"}, .unique = false}};
    return o;
}

std::vector<std::int64_t> ids(const std::vector<row>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.at("id").get<std::int64_t>());
    return out;
}

using id_list = std::vector<std::int64_t>;

std::string error_text(const std::function<void()>& f) {
    try {
        f();
    } catch (const error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST(indexed_target_index, unique_index_finds_one_row) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(1, "ann", "ann@x", "red"), user(2, "bob", "bob@x", "red")});
    EXPECT_EQ(ids(t.lookup_index("by_email", {value("bob@x")})), id_list{2});
    EXPECT_TRUE(t.lookup_index("by_email", {value("nobody@x")}).empty());
}

TEST(indexed_target_index, non_unique_index_finds_all_rows_in_key_order) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(3, "cat", "c@x", "red"), user(1, "ann", "a@x", "red"),
                 user(2, "bob", "b@x", "blue")});
    EXPECT_EQ(ids(t.lookup_index("by_team", {value("red")})), (id_list{1, 3}));
    EXPECT_EQ(ids(t.lookup_index("by_team", {value("blue")})), id_list{2});
}

TEST(indexed_target_index, composite_index_matches_every_field) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(1, "ann", "a@x", "red"), user(2, "bob", "b@x", "red"),
                 user(3, "ann", "c@x", "blue")});
    EXPECT_EQ(ids(t.lookup_index("by_team_name", {value("red"), value("ann")})), id_list{1});
    EXPECT_EQ(ids(t.lookup_index("by_team_name", {value("blue"), value("ann")})), id_list{3});
}

// The Go original left stale entries behind on updates and replacing inserts.
TEST(indexed_target_index, update_moves_row_between_index_entries) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(1, "ann", "ann@x", "red")});
    apply(t, {update_of(user(1, "ann", "ann@new", "blue"))});
    EXPECT_TRUE(t.lookup_index("by_email", {value("ann@x")}).empty());
    EXPECT_TRUE(t.lookup_index("by_team", {value("red")}).empty());
    EXPECT_EQ(ids(t.lookup_index("by_email", {value("ann@new")})), id_list{1});
    EXPECT_EQ(ids(t.lookup_index("by_team", {value("blue")})), id_list{1});
}

TEST(indexed_target_index, replacing_insert_leaves_no_stale_or_duplicate_entries) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(1, "ann", "ann@x", "red")});
    apply(t,
          {insert_of(user(1, "ann", "ann@y", "red")), insert_of(user(1, "ann", "ann@y", "red"))});
    EXPECT_TRUE(t.lookup_index("by_email", {value("ann@x")}).empty());
    // One entry, not one per insert.
    EXPECT_EQ(ids(t.lookup_index("by_team", {value("red")})), id_list{1});
}

TEST(indexed_target_index, baseline_upsert_leaves_no_stale_entries) {
    indexed_target t(indexed_options());
    init(t);
    baseline_rows(t, {user(1, "ann", "ann@x", "red")});
    baseline_rows(t, {user(1, "ann", "ann@y", "blue")});
    EXPECT_TRUE(t.lookup_index("by_email", {value("ann@x")}).empty());
    EXPECT_TRUE(t.lookup_index("by_team", {value("red")}).empty());
}

TEST(indexed_target_index, delete_removes_the_rows_entries_only) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(1, "ann", "a@x", "red"), user(2, "bob", "b@x", "red")});
    apply(t, {delete_of(user_key(1))});
    EXPECT_TRUE(t.lookup_index("by_email", {value("a@x")}).empty());
    EXPECT_EQ(ids(t.lookup_index("by_team", {value("red")})), id_list{2});
}

TEST(indexed_target_index, key_change_reindexes_under_the_new_key) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(1, "ann", "a@x", "red")});
    apply(t, {update_of(user(9, "ann", "a@x", "red"), user_key(1))});
    EXPECT_EQ(ids(t.lookup_index("by_email", {value("a@x")})), id_list{9});
    EXPECT_EQ(ids(t.lookup_index("by_team", {value("red")})), id_list{9});
}

TEST(indexed_target_index, truncate_empties_the_indexes) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(1, "ann", "a@x", "red")});
    apply(t, {truncate_of()});
    EXPECT_TRUE(t.lookup_index("by_team", {value("red")}).empty());
    apply(t, {insert_of(user(2, "bob", "a@x", "red"))});
    EXPECT_EQ(ids(t.lookup_index("by_email", {value("a@x")})), id_list{2});
}

TEST(indexed_target_index, unique_conflict_is_an_error_naming_index_and_key) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(1, "ann", "same@x"), user(2, "bob", "bob@x")});
    const auto text = error_text([&] { apply(t, {update_of(user(2, "bob", "same@x"))}); });
    EXPECT_NE(text.find("by_email"), std::string::npos) << text;
    EXPECT_NE(text.find("same@x"), std::string::npos) << text;
    // Nothing changed: bob keeps his address and ann keeps hers.
    EXPECT_EQ(t.get(2)->at("email"), value("bob@x"));
    EXPECT_EQ(ids(t.lookup_index("by_email", {value("same@x")})), id_list{1});
    EXPECT_EQ(ids(t.lookup_index("by_email", {value("bob@x")})), id_list{2});
}

TEST(indexed_target_index, unique_conflict_has_the_target_failed_code) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(1, "ann", "same@x")});
    try {
        apply(t, {insert_of(user(2, "bob", "same@x"))});
        FAIL() << "conflict accepted";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::target_failed));
    }
    EXPECT_EQ(t.count(), 1u);
}

// The Go original let the last writer take a unique key, so deleting the first owner
// removed the entry the second one now held.
TEST(indexed_target_index, unique_key_can_move_once_released_and_deleting_the_old_owner_keeps_it) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(1, "ann", "shared@x"), user(2, "bob", "bob@x")});
    apply(t, {update_of(user(1, "ann", "ann@x")), update_of(user(2, "bob", "shared@x"))});
    apply(t, {delete_of(user_key(1))});
    EXPECT_EQ(ids(t.lookup_index("by_email", {value("shared@x")})), id_list{2});
}

TEST(indexed_target_index, a_row_keeps_its_own_unique_key_when_updated) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(1, "ann", "ann@x")});
    apply(t, {update_of(user(1, "anna", "ann@x"))});
    apply(t, {update_of(user(7, "anna", "ann@x"), user_key(1))});
    EXPECT_EQ(ids(t.lookup_index("by_email", {value("ann@x")})), id_list{7});
}

TEST(indexed_target_index, null_unique_keys_do_not_conflict) {
    indexed_target t(indexed_options());
    init(t);
    baseline(t, {user(1, "ann", value()), user(2, "bob", value())});
    EXPECT_EQ(t.count(), 2u);
    EXPECT_EQ(ids(t.lookup_index("by_email", {value()})), (id_list{1, 2}));
}

TEST(indexed_target_index, unknown_index_is_an_error_naming_it) {
    indexed_target t(indexed_options());
    init(t);
    const auto text = error_text([&] { (void)t.lookup_index("by_nothing", {value(1)}); });
    EXPECT_NE(text.find("by_nothing"), std::string::npos) << text;
}

TEST(indexed_target_index, wrong_number_of_index_values_is_an_error) {
    indexed_target t(indexed_options());
    init(t);
    EXPECT_THROW((void)t.lookup_index("by_team_name", {value("red")}), error);
}

TEST(indexed_target_index, index_on_a_missing_field_is_refused_at_init) {
    indexed_target_options o;
    o.indexes = {{.name = "by_phone", .fields = {"phone"}}};
    indexed_target t(o);
    const auto text = error_text([&] { init(t); });
    EXPECT_NE(text.find("by_phone"), std::string::npos) << text;
    EXPECT_NE(text.find("phone"), std::string::npos) << text;
}

TEST(indexed_target_index, bad_index_options_are_refused_at_construction) {
    indexed_target_options unnamed;
    unnamed.indexes = {{.name = "", .fields = {"email"}}};
    EXPECT_THROW(indexed_target{unnamed}, error);
    indexed_target_options no_fields;
    no_fields.indexes = {{.name = "x", .fields = {}}};
    EXPECT_THROW(indexed_target{no_fields}, error);
    indexed_target_options twice;
    twice.indexes = {{.name = "x", .fields = {"email"}}, {.name = "x", .fields = {"team"}}};
    EXPECT_THROW(indexed_target{twice}, error);
    indexed_target_options zero;
    zero.max_atomic_transaction_rows = 0;
    EXPECT_THROW(indexed_target{zero}, error);
}

TEST(indexed_target_lookup, finds_the_first_row_by_lookup_fields) {
    indexed_target_options o;
    o.lookup_fields = {"team", "name"};
    indexed_target t(o);
    init(t);
    baseline(t, {user(5, "ann", "", "red"), user(2, "ann", "", "red"), user(3, "bob", "", "red")});
    const auto r = t.lookup("red", "ann");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at("id"), value(2));
    EXPECT_EQ(ids(t.lookup_all({value("red"), value("ann")})), (id_list{2, 5}));
    EXPECT_FALSE(t.lookup("blue", "ann"));
    apply(t, {update_of(user(2, "ann", "", "blue"))});
    EXPECT_EQ(t.lookup("red", "ann")->at("id"), value(5));
    EXPECT_EQ(t.lookup("blue", "ann")->at("id"), value(2));
}

TEST(indexed_target_lookup, lookup_without_lookup_fields_is_an_error) {
    indexed_target t;
    init(t);
    EXPECT_THROW((void)t.lookup("ann"), error);
}

TEST(indexed_target_lookup, lookup_index_does_not_expose_the_lookup_fields) {
    indexed_target_options o;
    o.lookup_fields = {"name"};
    indexed_target t(o);
    init(t);
    EXPECT_THROW((void)t.lookup_index("", {value("ann")}), error);
}

TEST(indexed_target_index, reports_the_bytes_of_rows_and_of_index_tables) {
    indexed_target plain;
    indexed_target indexed(indexed_options());
    init(plain);
    init(indexed);
    std::vector<row> rows;
    for (int i = 0; i < 1000; ++i) {
        rows.push_back(user(i, "name" + std::to_string(i), "e" + std::to_string(i) + "@x", "red"));
    }
    baseline(plain, rows);
    baseline(indexed, rows);
    // The same packed rows; three secondary tables beside the key's.
    EXPECT_EQ(plain.packed_bytes(), indexed.packed_bytes());
    EXPECT_GT(plain.packed_bytes(), 1000u * 20);
    EXPECT_GT(plain.index_bytes(), 1000u * 8);
    EXPECT_GT(indexed.index_bytes(), plain.index_bytes() + 2 * 1000u * 8);
    apply(plain, {truncate_of()});
    EXPECT_EQ(plain.packed_bytes(), 0u);
}
