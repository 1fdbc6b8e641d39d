// Writes of the indexed memory target: baseline, upserts, updates, deletes, keys.
#include "laredo/targets/memory/indexed_target.hpp"

#include "memory_test_support.hpp"

#include "laredo/error.hpp"

#include <gtest/gtest.h>

using namespace laredo;
using namespace laredo::memory_test;
using laredo::targets::memory::indexed_target;
using laredo::targets::memory::indexed_target_options;

namespace {

std::vector<std::int64_t> ids(const std::vector<row>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.at("id").get<std::int64_t>());
    return out;
}

schema_ptr tenant_users_schema() {
    static const schema_ptr s = row_schema::make({
        {.name = "tenant", .type = "text", .primary_key = true, .primary_key_ordinal = 1},
        {.name = "id", .type = "int8", .primary_key = true, .primary_key_ordinal = 2},
        {.name = "name", .type = "text"},
    });
    return s;
}

schema_ptr keyless_schema() {
    static const schema_ptr s = row_schema::make({
        {.name = "code", .type = "text"},
        {.name = "label", .type = "text"},
    });
    return s;
}

}  // namespace

TEST(indexed_target, baseline_rows_are_readable_by_key_and_counted) {
    indexed_target t;
    EXPECT_EQ(t.type_name(), "memory.indexed");
    init(t);
    baseline(t, {user(1, "ann", "ann@x"), user(2, "bob")});
    EXPECT_EQ(t.count(), 2u);
    const auto ann = t.get({value(1)});
    ASSERT_TRUE(ann);
    EXPECT_EQ(*ann, user(1, "ann", "ann@x"));
    EXPECT_EQ(t.get(2)->at("name"), value("bob"));
    EXPECT_FALSE(t.get(3));
    EXPECT_EQ(t.schema(), users_schema());
}

TEST(indexed_target, get_with_the_wrong_number_of_key_values_is_an_error) {
    indexed_target t;
    init(t);
    EXPECT_THROW((void)t.get(1, 2), error);
}

TEST(indexed_target, composite_keys_order_and_find_rows_by_all_key_columns) {
    indexed_target t;
    const table_identifier table{"public", "tenant_users"};
    init(t, tenant_users_schema(), table);
    const auto s = tenant_users_schema();
    baseline(
        t, {make_row(s, {"b", 1, "b1"}), make_row(s, {"a", 2, "a2"}), make_row(s, {"a", 1, "a1"})},
        1, table);
    EXPECT_EQ(t.get("a", 2)->at("name"), value("a2"));
    EXPECT_EQ(t.get("b", 1)->at("name"), value("b1"));
    EXPECT_FALSE(t.get("b", 2));
    std::vector<std::string> order;
    t.for_each([&](const row& r) { order.push_back(r.at("name").get<std::string>()); });
    EXPECT_EQ(order, (std::vector<std::string>{"a1", "a2", "b1"}));
}

TEST(indexed_target, iterates_in_key_order) {
    indexed_target t;
    init(t);
    baseline(t, {user(30, "c"), user(-5, "a"), user(7, "b"), user(100, "d")});
    EXPECT_EQ(ids(t.rows()), (std::vector<std::int64_t>{-5, 7, 30, 100}));
}

TEST(indexed_target, an_insert_of_an_existing_key_replaces_the_row) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann", "ann@x")});
    apply(t, {insert_of(user(1, "anna"))});
    EXPECT_EQ(t.count(), 1u);
    EXPECT_EQ(*t.get(1), user(1, "anna"));
}

TEST(indexed_target, baseline_rows_upsert) {
    indexed_target t;
    init(t);
    baseline_rows(t, {user(1, "ann")});
    baseline_rows(t, {user(1, "anna"), user(2, "bob")});
    EXPECT_EQ(t.count(), 2u);
    EXPECT_EQ(t.get(1)->at("name"), value("anna"));
}

TEST(indexed_target, update_replaces_the_row_found_by_its_identity) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann"), user(2, "bob")});
    apply(t, {update_of(user(2, "bobby", "b@x"))});
    EXPECT_EQ(*t.get(2), user(2, "bobby", "b@x"));
    EXPECT_EQ(t.count(), 2u);
}

TEST(indexed_target, update_that_changes_the_key_removes_the_old_key) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann"), user(2, "bob")});
    apply(t, {update_of(user(10, "ann"), user_key(1))});
    EXPECT_FALSE(t.get(1));
    EXPECT_EQ(t.get(10)->at("name"), value("ann"));
    EXPECT_EQ(ids(t.rows()), (std::vector<std::int64_t>{2, 10}));
}

TEST(indexed_target, update_onto_an_existing_key_replaces_that_row) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann"), user(2, "bob")});
    apply(t, {update_of(user(2, "ann"), user_key(1))});
    EXPECT_EQ(t.count(), 1u);
    EXPECT_EQ(t.get(2)->at("name"), value("ann"));
}

TEST(indexed_target, update_merges_unchanged_values_from_the_stored_row) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann", "ann@x", "red", "a long toasted biography")});
    apply(t, {update_of(user(1, "anna", value::unchanged(), "blue", value::unchanged()))});
    EXPECT_EQ(*t.get(1), user(1, "anna", "ann@x", "blue", "a long toasted biography"));
}

TEST(indexed_target, update_with_a_key_change_merges_unchanged_values_from_the_old_key) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann", "ann@x", "red", "bio")});
    apply(t, {update_of(user(5, "ann", "ann@x", "red", value::unchanged()), user_key(1))});
    EXPECT_EQ(t.get(5)->at("bio"), value("bio"));
    EXPECT_FALSE(t.get(1));
}

TEST(indexed_target, update_of_a_missing_row_inserts_it_keeping_unchanged_markers) {
    indexed_target t;
    init(t);
    baseline(t, {});
    apply(t, {update_of(user(3, "cat", value::unchanged()))});
    const auto r = t.get(3);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at("name"), value("cat"));
    // The value is unknown, not null: a later change that sends it fills it.
    EXPECT_TRUE(r->at("email").is_unchanged());
    apply(t, {update_of(user(3, "cat", "cat@x"))});
    EXPECT_EQ(t.get(3)->at("email"), value("cat@x"));
}

TEST(indexed_target, delete_removes_by_identity_key_and_ignores_missing_rows) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann"), user(2, "bob")});
    apply(t, {delete_of(user_key(1)), delete_of(user_key(42))});
    EXPECT_FALSE(t.get(1));
    EXPECT_EQ(t.count(), 1u);
}

TEST(indexed_target, truncate_removes_every_row) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann"), user(2, "bob")});
    apply(t, {truncate_of()});
    EXPECT_EQ(t.count(), 0u);
    EXPECT_FALSE(t.get(1));
    apply(t, {insert_of(user(3, "cat"))});
    EXPECT_EQ(t.count(), 1u);
}

TEST(indexed_target, single_change_calls_apply_like_batches) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann")});
    const auto ins = insert_of(user(2, "bob"));
    const auto upd = update_of(user(1, "anna"));
    const auto del = delete_of(user_key(2));
    drive([&]() -> boost::asio::awaitable<void> {
        co_await t.on_insert(users_table, ins);
        co_await t.on_update(users_table, upd);
    });
    EXPECT_EQ(t.count(), 2u);
    EXPECT_EQ(t.get(1)->at("name"), value("anna"));
    drive([&]() -> boost::asio::awaitable<void> { co_await t.on_delete(users_table, del); });
    EXPECT_EQ(t.count(), 1u);
    const auto trunc = truncate_of();
    drive([&]() -> boost::asio::awaitable<void> { co_await t.on_truncate(users_table, trunc); });
    EXPECT_EQ(t.count(), 0u);
}

TEST(indexed_target, a_table_without_a_key_is_refused_at_init) {
    indexed_target t;
    const table_identifier table{"public", "codes"};
    try {
        init(t, keyless_schema(), table);
        FAIL() << "a table without a key was accepted";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_config));
        EXPECT_NE(std::string(e.what()).find("public.codes"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("key"), std::string::npos) << e.what();
    }
}

TEST(indexed_target, configured_key_columns_key_a_table_without_a_primary_key) {
    indexed_target_options options;
    options.key_columns = {"code"};
    indexed_target t(options);
    const table_identifier table{"public", "codes"};
    init(t, keyless_schema(), table);
    const auto s = keyless_schema();
    baseline(t, {make_row(s, {"b", "bee"}), make_row(s, {"a", "ay"})}, 1, table);
    // Two rows, not collapsed into one.
    EXPECT_EQ(t.count(), 2u);
    EXPECT_EQ(t.get("a")->at("label"), value("ay"));
}

TEST(indexed_target, a_configured_key_column_that_does_not_exist_is_named) {
    indexed_target_options options;
    options.key_columns = {"nope"};
    indexed_target t(options);
    try {
        init(t);
        FAIL() << "accepted a missing key column";
    } catch (const error& e) {
        EXPECT_NE(std::string(e.what()).find("\"nope\""), std::string::npos) << e.what();
    }
}

TEST(indexed_target, find_returns_the_stored_row_for_an_identity) {
    indexed_target t;
    init(t);
    EXPECT_TRUE(t.keeps_rows());
    baseline(t, {user(1, "ann", "ann@x", "red", "bio")});
    const auto r = t.find(user_key(1));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at("bio"), value("bio"));
    EXPECT_FALSE(t.find(user_key(2)));
}

TEST(indexed_target, a_row_of_another_schema_is_refused) {
    indexed_target t;
    init(t);
    const auto other = row_schema::make(
        {{.name = "id", .type = "int8", .primary_key = true, .primary_key_ordinal = 1}});
    EXPECT_THROW(apply(t, {insert_of(make_row(other, {1}))}), error);
    EXPECT_EQ(t.count(), 0u);
}

TEST(indexed_target, rows_of_an_equal_schema_object_are_accepted) {
    indexed_target t;
    init(t);
    const auto copy = std::make_shared<const row_schema>(*users_schema());
    apply(t, {insert_of(row(copy, {value(1), value("ann"), value(), value(), value()}))});
    EXPECT_EQ(t.get(1)->at("name"), value("ann"));
}

TEST(indexed_target, serves_only_the_table_it_was_initialised_for) {
    indexed_target t;
    init(t);
    const table_identifier other{"public", "other"};
    EXPECT_THROW(apply(t, {insert_of(user(1, "ann"))}, other), error);
}

TEST(indexed_target, refuses_calls_before_init) {
    indexed_target t;
    EXPECT_THROW(apply(t, {insert_of(user(1, "ann"))}), error);
    EXPECT_EQ(t.count(), 0u);
    EXPECT_FALSE(t.get(1));
}
