// The indexed target's storage: the open-addressing table, the key's hash index over packed
// rows, secondary indexes with groups, checked against a model.
#include "row_store.hpp"
#include "flat_table.hpp"
#include "value_hash.hpp"

#include "laredo/error.hpp"
#include "laredo/targets/memory/packed_row.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace laredo;
using laredo::targets::memory::packed_row;
using laredo::targets::memory::packed_view;
using laredo::targets::memory::value_view;
using laredo::targets::memory::detail::flat_table;
using laredo::targets::memory::detail::index_layout;
using laredo::targets::memory::detail::row_store;
namespace detail = laredo::targets::memory::detail;

namespace {

using word = flat_table::word;

// Words stand for themselves; the hash is whatever the test says.
word w(std::size_t i) { return static_cast<word>(i) * 16 + 16; }

std::size_t find(const flat_table& t, std::uint64_t hash, word x) {
    return t.find(hash, [x](word y) { return y == x; });
}

// Rows are handed to a store as packed views; the packed rows live as long as the test.
packed_view pack(std::vector<value> values) {
    static std::vector<packed_row> kept;
    kept.push_back(packed_row::encode(values));
    return kept.back().view();
}

std::vector<value_view> views(const std::vector<value>& values) {
    std::vector<value_view> out;
    for (const auto& v : values) out.push_back(value_view::of(v));
    return out;
}

packed_view find_key(const row_store& s, std::vector<value> key) {
    const auto v = views(key);
    return s.find(v);
}

std::vector<std::int64_t> ids(const std::vector<packed_view>& rows) {
    std::vector<std::int64_t> out;
    for (const auto r : rows) out.push_back(r[0].integer());
    return out;
}

}  // namespace

// --- flat_table ---

TEST(flat_table, words_with_one_hash_are_told_apart_by_the_predicate) {
    flat_table t;
    const auto same_hash = [](word) { return std::uint64_t{42}; };
    for (std::size_t i = 0; i < 200; ++i) t.insert(42, w(i), same_hash);
    EXPECT_EQ(t.size(), 200u);
    for (std::size_t i = 0; i < 200; ++i) {
        const auto slot = find(t, 42, w(i));
        ASSERT_NE(slot, flat_table::npos) << i;
        EXPECT_EQ(t.at(slot), w(i));
    }
    EXPECT_EQ(find(t, 42, w(999)), flat_table::npos);
    // Erasing from the middle of the run leaves the words after it reachable.
    for (std::size_t i = 0; i < 200; i += 2) t.erase(find(t, 42, w(i)));
    for (std::size_t i = 0; i < 200; ++i) {
        EXPECT_EQ(find(t, 42, w(i)) != flat_table::npos, i % 2 == 1) << i;
    }
    EXPECT_EQ(t.size(), 100u);
}

TEST(flat_table, probes_wrap_around_the_end_and_reuse_tombstones) {
    flat_table t;
    // The highest hash lands on the last slot: the next words wrap to the first slots.
    const std::uint64_t last = std::numeric_limits<std::uint64_t>::max();
    const auto all_last = [last](word) { return last; };
    for (std::size_t i = 0; i < 5; ++i) t.insert(last, w(i), all_last);
    for (std::size_t i = 0; i < 5; ++i) EXPECT_NE(find(t, last, w(i)), flat_table::npos) << i;
    // Erase and insert many times: tombstones are reused or cleaned, the table stays small.
    for (std::size_t round = 0; round < 1000; ++round) {
        t.erase(find(t, last, w(round % 5)));
        t.insert(last, w(round % 5), all_last);
    }
    EXPECT_EQ(t.size(), 5u);
    EXPECT_LE(t.capacity(), 16u);
    for (std::size_t i = 0; i < 5; ++i) EXPECT_NE(find(t, last, w(i)), flat_table::npos) << i;
}

TEST(flat_table, grows_by_half_and_keeps_at_most_85_percent_full) {
    flat_table t;
    const auto hash = [](word x) { return detail::mix(x); };
    std::size_t previous = 0;
    for (std::size_t i = 0; i < 100'000; ++i) {
        t.insert(hash(w(i)), w(i), hash);
        EXPECT_LE(t.size() * 20, t.capacity() * 17);
        if (t.capacity() != previous) {
            // Growth by about half: an index costs at most 1 / 0.57 of a full table.
            if (previous > 100) {
                EXPECT_LE(t.capacity(), previous * 3 / 2 + 8);
            }
            previous = t.capacity();
        }
    }
    for (std::size_t i = 0; i < 100'000; ++i)
        ASSERT_NE(find(t, hash(w(i)), w(i)), flat_table::npos);
    EXPECT_GE(t.size() * 100, t.capacity() * 56);
}

TEST(flat_table, a_rebuilt_copy_fits_what_is_coming_and_leaves_the_original_alone) {
    flat_table t;
    const auto hash = [](word x) { return detail::mix(x); };
    for (std::size_t i = 0; i < 1000; ++i) t.insert(hash(w(i)), w(i), hash);
    ASSERT_FALSE(t.fits(t.capacity()));
    const flat_table grown = t.rebuilt(5000, hash);
    EXPECT_TRUE(grown.fits(5000));
    EXPECT_EQ(grown.size(), 1000u);
    EXPECT_EQ(t.size(), 1000u);
    for (std::size_t i = 0; i < 1000; ++i) {
        EXPECT_NE(find(t, hash(w(i)), w(i)), flat_table::npos);
        EXPECT_NE(find(grown, hash(w(i)), w(i)), flat_table::npos);
    }
    // After most words are erased, a rebuild shrinks the table.
    flat_table shrinking = t.rebuilt(0, hash);
    for (std::size_t i = 10; i < 1000; ++i) shrinking.erase(find(shrinking, hash(w(i)), w(i)));
    const flat_table small = shrinking.rebuilt(0, hash);
    EXPECT_LT(small.capacity(), shrinking.capacity() / 4);
    for (std::size_t i = 0; i < 10; ++i) EXPECT_NE(find(small, hash(w(i)), w(i)), flat_table::npos);
}

// --- hashing ---

TEST(value_hash, equal_views_hash_equally_and_alternatives_differ) {
    const value nan1(std::nan("1"));
    const value nan2(-std::nan("2"));
    EXPECT_EQ(detail::hash_of(value_view::of(nan1)), detail::hash_of(value_view::of(nan2)));
    EXPECT_EQ(detail::hash_of(value_view::of(value(0.0))),
              detail::hash_of(value_view::of(value(-0.0))));
    // Same integer content, different alternatives: different values, different hashes.
    EXPECT_NE(detail::hash_of(value_view::of(value(std::int64_t{5}))),
              detail::hash_of(value_view::of(value(timestamptz_value{5}))));
    EXPECT_NE(detail::hash_of(value_view::of(value("5"))),
              detail::hash_of(value_view::of(value(numeric_value{"5"}))));
    // A packed column hashes like the value it came from.
    const std::vector<value> values{value(7), value("ann"), value(2.5)};
    const auto packed = packed_row::encode(values);
    const std::vector<std::size_t> columns{2, 0};
    const std::vector<value_view> key{value_view::of(values[2]), value_view::of(values[0])};
    EXPECT_EQ(detail::hash_of(packed.view(), columns), detail::hash_of(key));
}

// --- row_store ---

TEST(row_store, every_value_alternative_works_as_a_key) {
    // One table per alternative, keyed by a column of that alternative (null and unchanged
    // are one value each).
    const std::vector<std::vector<value>> kinds{
        {value(), value::unchanged()},
        {value(true), value(false)},
        {value(std::int64_t{-1}), value(std::int64_t{0}),
         value(std::numeric_limits<std::int64_t>::max())},
        {value(0.0), value(-1.5), value(std::nan("")),
         value(std::numeric_limits<double>::infinity())},
        {value(numeric_value{"1.0"}), value(numeric_value{"1.00"})},
        {value(""), value("a"), value(std::string(300, 'z'))},
        {value(bytes_value{std::string("\0\1", 2)}), value(bytes_value{"x"})},
        {value(date_value{0}), value(date_value{date_value::minus_infinity})},
        {value(time_value{1}), value(time_value{86'399'999'999})},
        {value(timestamp_value{-5}), value(timestamp_value{timestamp_value::plus_infinity})},
        {value(timestamptz_value{-5}), value(timestamptz_value{7})},
        {value(interval_value{"1 day"}), value(interval_value{"2 days"})},
        {value(json_value{"{}"}), value(json_value{"[]"})},
        {value(array_value{"{1}"}), value(array_value{"{2}"})},
    };
    for (const auto& keys : kinds) {
        row_store s({0}, {});
        for (std::size_t i = 0; i < keys.size(); ++i) {
            s.put(pack({keys[i], value(static_cast<std::int64_t>(i))}));
        }
        ASSERT_EQ(s.size(), keys.size()) << keys[0].to_string();
        for (std::size_t i = 0; i < keys.size(); ++i) {
            const auto r = find_key(s, {keys[i]});
            ASSERT_FALSE(r.empty()) << keys[i].to_string();
            EXPECT_EQ(r[1].integer(), static_cast<std::int64_t>(i)) << keys[i].to_string();
        }
        // A value of another alternative with the same content is another key.
        EXPECT_TRUE(find_key(s, {value(std::string("absent"))}).empty());
    }
    // -0.0 finds 0.0 and any NaN finds NaN, as they compare equal.
    row_store doubles({0}, {});
    doubles.put(pack({value(0.0), value(1)}));
    doubles.put(pack({value(std::nan("")), value(2)}));
    EXPECT_EQ(find_key(doubles, {value(-0.0)})[1].integer(), 1);
    EXPECT_EQ(find_key(doubles, {value(-std::nan("3"))})[1].integer(), 2);
    EXPECT_TRUE(find_key(doubles, {value(std::int64_t{0})}).empty());
}

TEST(row_store, composite_keys_match_on_every_column) {
    // Key (region text, id int8, at timestamptz) in columns 2, 0, 3.
    row_store s({2, 0, 3}, {});
    s.put(pack({value(1), value("a"), value("eu"), value(timestamptz_value{10})}));
    s.put(pack({value(1), value("b"), value("us"), value(timestamptz_value{10})}));
    s.put(pack({value(2), value("c"), value("eu"), value(timestamptz_value{10})}));
    s.put(pack({value(1), value("d"), value("eu"), value(timestamptz_value{11})}));
    s.put(pack({value(1), value("e"), value("eu"), value()}));
    EXPECT_EQ(s.size(), 5u);
    EXPECT_EQ(find_key(s, {value("eu"), value(1), value(timestamptz_value{10})})[1].bytes(), "a");
    EXPECT_EQ(find_key(s, {value("us"), value(1), value(timestamptz_value{10})})[1].bytes(), "b");
    EXPECT_EQ(find_key(s, {value("eu"), value(1), value()})[1].bytes(), "e");
    EXPECT_TRUE(find_key(s, {value("us"), value(2), value(timestamptz_value{10})}).empty());
    // Same key: replaced, not added.
    s.put(pack({value(1), value("a2"), value("eu"), value(timestamptz_value{10})}));
    EXPECT_EQ(s.size(), 5u);
    EXPECT_EQ(find_key(s, {value("eu"), value(1), value(timestamptz_value{10})})[1].bytes(), "a2");
    // Key order: region, then id, then time (null sorts first).
    std::vector<std::string> order;
    for (const auto r : s.in_key_order()) order.emplace_back(r[1].bytes());
    EXPECT_EQ(order, (std::vector<std::string>{"e", "a2", "d", "c", "b"}));
    EXPECT_FALSE(s.erase(views({value("eu"), value(2), value(timestamptz_value{10})})).empty());
    EXPECT_EQ(s.size(), 4u);
}

TEST(row_store, a_key_change_moves_the_row_and_frees_the_old_key) {
    row_store s({0}, {{"by_name", {1}, true}});
    s.put(pack({value(1), value("ann")}));
    s.put(pack({value(2), value("bob")}));
    const packed_view old = find_key(s, {value(1)});
    auto result = s.put(pack({value(9), value("ann")}), old);
    EXPECT_TRUE(result.removed);
    EXPECT_FALSE(result.replaced);
    EXPECT_TRUE(find_key(s, {value(1)}).empty());
    EXPECT_EQ(find_key(s, {value(9)})[1].bytes(), "ann");
    EXPECT_EQ(ids(s.index_lookup(0, views({value("ann")}))), std::vector<std::int64_t>{9});
    // Onto an existing key: both the moved row and the one there are replaced by one row.
    const packed_view nine = find_key(s, {value(9)});
    result = s.put(pack({value(2), value("cat")}), nine);
    EXPECT_TRUE(result.removed);
    EXPECT_TRUE(result.replaced);
    EXPECT_EQ(s.size(), 1u);
    EXPECT_TRUE(s.index_lookup(0, views({value("ann")})).empty());
    EXPECT_TRUE(s.index_lookup(0, views({value("bob")})).empty());
    EXPECT_EQ(ids(s.index_lookup(0, views({value("cat")}))), std::vector<std::int64_t>{2});
}

TEST(row_store, rows_sharing_an_index_value_form_a_group_and_leave_it) {
    row_store s({0}, {{"by_team", {1}, false}});
    for (int i = 0; i < 1000; ++i) s.put(pack({value(i), value(i % 3 == 0 ? "red" : "blue")}));
    EXPECT_EQ(s.index_lookup(0, views({value("red")})).size(), 334u);
    EXPECT_EQ(s.index_size(0), 1000u);
    // Results come in key order.
    const auto red = ids(s.index_lookup(0, views({value("red")})));
    EXPECT_TRUE(std::is_sorted(red.begin(), red.end()));
    // Updates that keep the value repoint the entry; those that change it move it.
    for (int i = 0; i < 1000; i += 3) s.put(pack({value(i), value(i < 500 ? "red" : "green")}));
    EXPECT_EQ(s.index_lookup(0, views({value("red")})).size(), 167u);
    EXPECT_EQ(s.index_lookup(0, views({value("green")})).size(), 167u);
    // Down to one row: the group becomes a plain entry again, then none.
    for (int i = 3; i < 500; i += 3) s.erase(views({value(i)}));
    EXPECT_EQ(ids(s.index_lookup(0, views({value("red")}))), std::vector<std::int64_t>{0});
    s.erase(views({value(0)}));
    EXPECT_TRUE(s.index_lookup(0, views({value("red")})).empty());
    EXPECT_EQ(s.index_size(0), s.size());
}

TEST(row_store, a_unique_index_allows_nulls_and_a_row_keeping_its_own_value) {
    row_store s({0}, {{"by_email", {1}, true}});
    s.put(pack({value(1), value()}));
    s.put(pack({value(2), value()}));
    s.put(pack({value(3), value("c@x")}));
    EXPECT_EQ(ids(s.index_lookup(0, views({value()}))), (std::vector<std::int64_t>{1, 2}));
    s.put(pack({value(3), value("c@x")}));
    try {
        s.put(pack({value(4), value("c@x")}));
        FAIL() << "a second owner was accepted";
    } catch (const error& e) {
        EXPECT_NE(std::string(e.what()).find("by_email"), std::string::npos) << e.what();
    }
    EXPECT_EQ(s.size(), 3u);
    EXPECT_EQ(ids(s.index_lookup(0, views({value("c@x")}))), std::vector<std::int64_t>{3});
}

TEST(row_store, reserving_beside_swaps_in_a_table_that_needs_no_growth) {
    row_store s({0}, {{"by_name", {1}, false}});
    for (int i = 0; i < 100; ++i) s.put(pack({value(i), value(std::to_string(i))}));
    const std::size_t before = s.table_bytes();
    s.reserve_beside(10'000);
    // Until the swap the store uses the tables it had.
    EXPECT_EQ(s.table_bytes(), before);
    EXPECT_EQ(find_key(s, {value(5)})[1].bytes(), "5");
    s.swap_in_reserved();
    const std::size_t reserved = s.table_bytes();
    EXPECT_GT(reserved, before);
    for (int i = 100; i < 10'100; ++i) s.put(pack({value(i), value(std::to_string(i))}));
    EXPECT_EQ(s.table_bytes(), reserved) << "a table grew after the reserve";
    EXPECT_EQ(s.size(), 10'100u);
    EXPECT_EQ(ids(s.index_lookup(0, views({value("5000")}))), std::vector<std::int64_t>{5000});
}

// Random inserts, updates (some changing the key or the indexed values, some onto existing
// keys) and deletes, against a std::map model: every key and every index value finds exactly
// the model's rows, so no entry is lost and none is stale.
TEST(row_store, random_changes_match_a_model) {
    // (id, team, code, payload); by_team has few values, by_code is unique but often null.
    row_store s({0}, {{"by_team", {1}, false}, {"by_code", {2}, true}});
    std::map<std::int64_t, std::vector<value>> model;
    std::mt19937_64 rng(20240611);
    const auto pick = [&](std::int64_t n) {
        return std::uniform_int_distribution<std::int64_t>(0, n - 1)(rng);
    };
    const auto make = [&](std::int64_t id) {
        const std::int64_t code = pick(4) == 0 ? -1 : pick(3000);
        return std::vector<value>{value(id), value("team" + std::to_string(pick(5))),
                                  code < 0 ? value() : value(code),
                                  value(std::string(static_cast<std::size_t>(pick(200)), 'p'))};
    };
    const auto code_taken = [&](const std::vector<value>& r, std::int64_t except_a,
                                std::int64_t except_b) {
        if (r[2].is_null()) return false;
        for (const auto& [id, other] : model) {
            if (id != except_a && id != except_b && other[2] == r[2]) return true;
        }
        return false;
    };
    for (int step = 0; step < 6000; ++step) {
        const std::int64_t id = pick(500);
        const int what = static_cast<int>(pick(10));
        if (what < 5) {  // insert or replace
            auto r = make(id);
            if (code_taken(r, id, id)) {
                EXPECT_THROW(s.put(pack(r)), error);
                continue;
            }
            s.put(pack(r));
            model[id] = r;
        } else if (what < 8) {  // update, maybe changing the key
            const auto it = model.find(id);
            if (it == model.end()) continue;
            const std::int64_t to = pick(2) ? id : pick(500);
            auto r = make(to);
            if (code_taken(r, id, to)) {
                EXPECT_THROW(s.put(pack(r), find_key(s, {value(id)})), error);
                continue;
            }
            s.put(pack(r), find_key(s, {value(id)}));
            model.erase(id);
            model[to] = r;
        } else {
            s.erase(views({value(id)}));
            model.erase(id);
        }
        if (step % 500 != 499) continue;
        ASSERT_EQ(s.size(), model.size());
        std::map<std::string, std::set<std::int64_t>> teams;
        std::map<std::int64_t, std::set<std::int64_t>> codes;
        for (const auto& [key, r] : model) {
            const auto found = find_key(s, {value(key)});
            ASSERT_FALSE(found.empty()) << key;
            EXPECT_EQ(found.values(4), r);
            teams[r[1].get<std::string>()].insert(key);
            if (!r[2].is_null()) codes[r[2].get<std::int64_t>()].insert(key);
        }
        for (int t = 0; t < 5; ++t) {
            const std::string team = "team" + std::to_string(t);
            const auto got = ids(s.index_lookup(0, views({value(team)})));
            EXPECT_EQ(std::set<std::int64_t>(got.begin(), got.end()), teams[team]) << team;
            EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
        }
        for (std::int64_t c = 0; c < 3000; ++c) {
            const auto got = ids(s.index_lookup(1, views({value(c)})));
            EXPECT_EQ(std::set<std::int64_t>(got.begin(), got.end()), codes[c]) << c;
        }
        EXPECT_EQ(s.index_size(0), model.size());
        EXPECT_EQ(s.index_size(1), model.size());
    }
}

TEST(flat_table, refuses_a_pointer_beyond_48_bits) {
    flat_table t;
    const auto hash = [](word x) { return detail::mix(x); };
    const word high = word{1} << 50;
    EXPECT_THROW(t.insert(hash(high), high, hash), error);
    EXPECT_TRUE(t.empty());
}

// --- the rows' arena ---

TEST(row_arena, reuses_freed_blocks_of_a_size_and_serves_large_rows_apart) {
    detail::row_arena arena;
    std::byte* a = arena.allocate(150);
    std::byte* b = arena.allocate(150);
    EXPECT_NE(a, b);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 8, 0u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b) % 8, 0u);
    arena.deallocate(a, 150);
    // The same rounded size (152) takes the freed block back; another size does not.
    EXPECT_EQ(arena.allocate(149), a);
    std::byte* c = arena.allocate(200);
    EXPECT_NE(c, a);
    const std::size_t slabs = arena.bytes();
    std::byte* large = arena.allocate(100'000);
    EXPECT_EQ(arena.bytes(), slabs + 100'000);
    arena.deallocate(large, 100'000);
    EXPECT_EQ(arena.bytes(), slabs);
    // Many rows: a slab at a time, the end of a full slab kept for smaller rows.
    for (int i = 0; i < 10'000; ++i) arena.allocate(static_cast<std::size_t>(40 + i % 300));
    EXPECT_LT(arena.bytes(), std::size_t{10'000} * 340 * 11 / 10 + slabs);
}

TEST(row_store, rows_taken_out_return_to_the_arena) {
    row_store s({0}, {});
    for (int i = 0; i < 1000; ++i) s.put(pack({value(i), value(std::string(100, 'x'))}));
    const std::size_t full = s.arena_bytes();
    // Replacing rows by rows of other sizes and deleting them reuses the freed blocks.
    for (int round = 0; round < 20; ++round) {
        for (int i = 0; i < 1000; ++i) {
            s.put(pack(
                {value(i), value(std::string(100 + static_cast<std::size_t>(round % 2), 'y'))}));
        }
    }
    for (int i = 0; i < 1000; i += 2) EXPECT_FALSE(s.erase(views({value(i)})).empty());
    for (int i = 0; i < 1000; i += 2) s.put(pack({value(i), value(std::string(100, 'z'))}));
    EXPECT_LE(s.arena_bytes(), 2 * full + 256 * 1024);
    EXPECT_EQ(find_key(s, {value(2)})[1].bytes(), std::string(100, 'z'));
    EXPECT_EQ(find_key(s, {value(3)})[1].bytes(), std::string(101, 'y'));
}
