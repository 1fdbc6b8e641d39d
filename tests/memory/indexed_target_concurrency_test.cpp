// Listeners and concurrent readers of the indexed memory target.
#include "laredo/targets/memory/indexed_target.hpp"

#include "memory_test_support.hpp"

#include "laredo/error.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

using namespace laredo;
using namespace laredo::memory_test;
using laredo::targets::memory::indexed_target;
using laredo::targets::memory::indexed_target_options;
using laredo::targets::memory::subscription;

namespace {

std::string describe(const row* old_row, const row* new_row) {
    return (old_row ? old_row->at("name").to_string() : "-") + ">" +
           (new_row ? new_row->at("name").to_string() : "-");
}

schema_ptr accounts_schema() {
    static const schema_ptr s = row_schema::make({
        {.name = "id", .type = "int8", .primary_key = true, .primary_key_ordinal = 1},
        {.name = "balance", .type = "int8"},
    });
    return s;
}

row account(std::int64_t id, std::int64_t balance) {
    return row(accounts_schema(), {value(id), value(balance)});
}

}  // namespace

TEST(indexed_target_listeners, see_old_and_new_rows_of_every_change) {
    indexed_target t;
    init(t);
    std::vector<std::string> seen;
    auto sub = t.listen([&](const row* o, const row* n) { seen.push_back(describe(o, n)); });
    baseline(t, {user(1, "ann")});
    apply(t, {insert_of(user(2, "bob")), update_of(user(2, "bobby")),
              update_of(user(3, "ann"), user_key(1)), delete_of(user_key(2)),
              delete_of(user_key(99)), truncate_of()});
    EXPECT_EQ(seen, (std::vector<std::string>{"->ann", "->bob", "bob>bobby", "ann>ann", "bobby>-",
                                              "->-"}));
}

TEST(indexed_target_listeners, truncate_is_announced_as_two_nulls) {
    indexed_target t;
    init(t);
    baseline(t, {user(1, "ann")});
    int truncates = 0;
    auto sub = t.listen([&](const row* o, const row* n) {
        if (!o && !n) ++truncates;
    });
    apply(t, {truncate_of()});
    EXPECT_EQ(truncates, 1);
}

TEST(indexed_target_listeners, stop_after_unsubscribe_or_destruction) {
    indexed_target t;
    init(t);
    int a = 0, b = 0;
    auto sub_a = t.listen([&](const row*, const row*) { ++a; });
    {
        auto sub_b = t.listen([&](const row*, const row*) { ++b; });
        apply(t, {insert_of(user(1, "ann"))});
    }
    sub_a.unsubscribe();
    EXPECT_FALSE(sub_a.active());
    apply(t, {insert_of(user(2, "bob"))});
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 1);
}

TEST(indexed_target_listeners, a_released_subscription_keeps_listening) {
    indexed_target t;
    init(t);
    int calls = 0;
    t.listen([&](const row*, const row*) { ++calls; }).release();
    apply(t, {insert_of(user(1, "ann"))});
    EXPECT_EQ(calls, 1);
}

TEST(indexed_target_listeners, may_read_the_target_and_unsubscribe_themselves) {
    indexed_target t;
    init(t);
    std::vector<std::size_t> counts;
    subscription sub;
    sub = t.listen([&](const row*, const row* n) {
        counts.push_back(t.count());
        if (n && n->at("id") == value(2)) sub.unsubscribe();
    });
    apply(t, {insert_of(user(1, "ann")), insert_of(user(2, "bob")), insert_of(user(3, "cat"))});
    apply(t, {insert_of(user(4, "dan"))});
    // Listeners run after the batch is visible, so each read sees all three rows; the
    // third change is not announced since the listener left during the second.
    EXPECT_EQ(counts, (std::vector<std::size_t>{3, 3}));
}

TEST(indexed_target_listeners, a_subscription_may_outlive_its_target) {
    subscription sub;
    {
        indexed_target t;
        init(t);
        sub = t.listen([](const row*, const row*) {});
    }
    sub.unsubscribe();
    EXPECT_FALSE(sub.active());
}

TEST(indexed_target_listeners, a_throwing_listener_fails_the_operation_after_the_change) {
    indexed_target t;
    init(t);
    int later = 0;
    auto bad = t.listen([](const row*, const row*) { throw std::runtime_error("listener boom"); });
    auto good = t.listen([&](const row*, const row*) { ++later; });
    try {
        apply(t, {insert_of(user(1, "ann"))});
        FAIL() << "the listener's failure was swallowed";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::target_failed));
        EXPECT_NE(std::string(e.what()).find("listener boom"), std::string::npos);
    }
    EXPECT_EQ(later, 1);
    EXPECT_EQ(t.count(), 1u);
}

TEST(indexed_target_listeners, baseline_and_restore) {
    indexed_target t;
    init(t);
    std::vector<std::string> seen;
    auto sub = t.listen([&](const row* o, const row* n) { seen.push_back(describe(o, n)); });
    baseline(t, {user(1, "ann")});
    restore(t, {user(2, "bob")}, 3);
    EXPECT_EQ(seen, std::vector<std::string>{"->ann"});
}

// Each transaction moves an amount between two accounts; readers on 4 threads must always
// see the same total. Transactions alternate between arriving whole and split across two
// batches (held until their commit).
TEST(indexed_target_concurrency, readers_never_see_half_a_transaction) {
    indexed_target t;
    const table_identifier table{"public", "accounts"};
    init(t, accounts_schema(), table);
    baseline(t, {account(1, 1000), account(2, 1000)}, 1, table);

    std::atomic<bool> done{false};
    std::atomic<long> reads{0};
    std::atomic<long> torn{0};
    std::vector<std::thread> readers;
    for (int i = 0; i < 4; ++i) {
        readers.emplace_back([&, i] {
            while (!done.load()) {
                std::int64_t total = 0;
                if (i % 2 == 0) {
                    for (const auto& r : t.rows()) total += r.at("balance").get<std::int64_t>();
                } else {
                    t.for_each([&](const row& r) { total += r.at("balance").get<std::int64_t>(); });
                }
                if (total != 2000) ++torn;
                ++reads;
            }
        });
    }

    std::int64_t a = 1000, b = 1000;
    std::uint64_t pos = 2;
    for (int i = 0; i < 2000; ++i) {
        const std::int64_t amount = (i % 7) - 3;
        a -= amount;
        b += amount;
        auto first = insert_of(account(1, a), pos++, false);
        auto second = update_of(account(2, b), {}, pos++, true);
        first.table = second.table = table;
        if (i % 2 == 0) {
            apply(t, {first, second}, table);
        } else {
            apply(t, {first}, table);
            apply(t, {second}, table);
        }
    }
    done = true;
    for (auto& r : readers) r.join();
    EXPECT_EQ(torn.load(), 0);
    EXPECT_GT(reads.load(), 0);
    EXPECT_EQ(t.get(1)->at("balance"), value(a));
    EXPECT_EQ(t.get(2)->at("balance"), value(b));
}

// The key's hash table and the secondary indexes grow many times while readers on 4 threads
// look rows up: a row committed before a read began is always found, by key and by index
// (bigger tables are built beside the live ones and swapped in under the lock).
TEST(indexed_target_concurrency, readers_find_every_row_while_the_tables_grow) {
    indexed_target_options o;
    o.indexes = {{.name = "by_team", .fields = {"team"}},
                 {.name = "by_email", .fields = {"email"}, .unique = true}};
    indexed_target t(o);
    init(t);
    baseline(t, {}, 1);
    const auto email = [](std::int64_t id) { return value("user" + std::to_string(id) + "@x"); };

    constexpr std::int64_t batches = 120;
    constexpr std::int64_t per_batch = 250;
    std::atomic<std::int64_t> committed{0};  // rows [0, committed) are in
    std::atomic<bool> done{false};
    std::atomic<long> reads{0};
    std::atomic<long> misses{0};
    std::vector<std::thread> readers;
    for (unsigned seed = 0; seed < 4; ++seed) {
        readers.emplace_back([&, seed] {
            std::mt19937_64 rng(seed);
            while (!done.load()) {
                const std::int64_t n = committed.load();
                if (n == 0) continue;
                const auto id = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n));
                const auto r = t.get(id);
                if (!r || r->at("email") != email(id)) ++misses;
                if (t.lookup_index("by_email", {email(id)}).size() != 1) ++misses;
                if (t.count() < static_cast<std::size_t>(n)) ++misses;
                ++reads;
            }
        });
    }
    std::uint64_t pos = 2;
    for (std::int64_t b = 0; b < batches; ++b) {
        std::vector<change_event> batch;
        for (std::int64_t i = b * per_batch; i < (b + 1) * per_batch; ++i) {
            batch.push_back(insert_of(user(i, "u", email(i), i % 2 ? "red" : "blue"), pos++));
        }
        memory_test::apply(t, std::move(batch));
        committed = (b + 1) * per_batch;
    }
    done = true;
    for (auto& r : readers) r.join();
    EXPECT_EQ(misses.load(), 0);
    EXPECT_GT(reads.load(), 0);
    EXPECT_EQ(t.count(), static_cast<std::size_t>(batches * per_batch));
    EXPECT_EQ(t.lookup_index("by_team", {value("red")}).size() +
                  t.lookup_index("by_team", {value("blue")}).size(),
              t.count());
}
