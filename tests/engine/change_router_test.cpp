// The change router on its own (no io_context): how a source's calls become per-table
// deliveries, with each table's part of a transaction ended at the commit.
#include "change_router.hpp"

#include "laredo/row.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace laredo::detail {
namespace {

const table_identifier t1{"public", "t1"};
const table_identifier t2{"public", "t2"};
const table_identifier t3{"public", "t3"};

change_event change(const table_identifier& t, std::uint64_t pos, bool ends = false) {
    change_event e;
    e.table = t;
    e.pos = position::from_sequence(pos);
    e.ends_transaction = ends;
    return e;
}

std::vector<std::uint64_t> positions(const change_router::delivery& d) {
    std::vector<std::uint64_t> out;
    for (const auto& e : d.events) out.push_back(e.pos.sequence());
    return out;
}

TEST(change_router, one_table_batch_goes_out_whole) {
    change_router r({t1});
    auto out = r.route({change(t1, 1), change(t1, 2, true), change(t1, 3, true)});
    ASSERT_EQ(out.deliveries.size(), 1u);
    EXPECT_EQ(positions(out.deliveries[0]), (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_EQ(out.last_commit, position::from_sequence(3));
    EXPECT_TRUE(r.at_boundary());
}

TEST(change_router, split_transaction_ends_in_a_table_the_commit_call_does_not_hold) {
    change_router r({t1, t2});
    // Call 1: t1 and t2 changes of one open transaction; call 2: t1's commit.
    auto first = r.route({change(t1, 1), change(t2, 2)});
    EXPECT_TRUE(first.deliveries.empty());  // each table's latest change waits for the commit
    EXPECT_TRUE(first.last_commit.empty());
    EXPECT_FALSE(r.at_boundary());
    auto second = r.route({change(t1, 3, true)});
    ASSERT_EQ(second.deliveries.size(), 2u);
    std::map<table_identifier, change_router::delivery> by_table;
    for (auto& d : second.deliveries) by_table[d.table] = d;
    EXPECT_EQ(positions(by_table[t1]), (std::vector<std::uint64_t>{1, 3}));
    EXPECT_FALSE(by_table[t1].events[0].ends_transaction);
    EXPECT_TRUE(by_table[t1].events[1].ends_transaction);
    EXPECT_EQ(positions(by_table[t2]), (std::vector<std::uint64_t>{2}));
    EXPECT_TRUE(by_table[t2].events[0].ends_transaction);
    // t2's part ended before the commit: it reaches the commit too.
    EXPECT_EQ(by_table[t2].then_reached, position::from_sequence(3));
    EXPECT_TRUE(by_table[t1].then_reached.empty());
    EXPECT_EQ(second.last_commit, position::from_sequence(3));
    EXPECT_TRUE(r.at_boundary());
}

TEST(change_router, large_one_table_transaction_holds_only_its_latest_change) {
    change_router r({t1});
    auto first = r.route({change(t1, 1), change(t1, 2), change(t1, 3)});
    ASSERT_EQ(first.deliveries.size(), 1u);
    EXPECT_EQ(positions(first.deliveries[0]), (std::vector<std::uint64_t>{1, 2}));
    EXPECT_TRUE(confirmable_position(first.deliveries[0].events, {}).empty());
    auto second = r.route({change(t1, 4, true)});
    ASSERT_EQ(second.deliveries.size(), 1u);
    EXPECT_EQ(positions(second.deliveries[0]), (std::vector<std::uint64_t>{3, 4}));
    EXPECT_EQ(confirmable_position(second.deliveries[0].events, {}), position::from_sequence(4));
}

TEST(change_router, batch_ending_inside_a_transaction_confirms_its_last_commit) {
    change_router r({t1});
    auto out = r.route({change(t1, 1, true), change(t1, 2), change(t1, 3)});
    ASSERT_EQ(out.deliveries.size(), 1u);
    EXPECT_EQ(positions(out.deliveries[0]), (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(confirmable_position(out.deliveries[0].events, {}), position::from_sequence(1));
    EXPECT_EQ(out.last_commit, position::from_sequence(1));
}

TEST(change_router, changes_of_tables_without_pipelines_are_dropped_but_their_commit_counts) {
    change_router r({t1});
    auto out = r.route({change(t1, 1), change(t3, 2, true)});
    ASSERT_EQ(out.deliveries.size(), 1u);
    EXPECT_EQ(positions(out.deliveries[0]), (std::vector<std::uint64_t>{1}));
    EXPECT_TRUE(out.deliveries[0].events[0].ends_transaction);
    EXPECT_EQ(out.deliveries[0].then_reached, position::from_sequence(2));
    EXPECT_EQ(out.last_commit, position::from_sequence(2));
    auto other = r.route({change(t3, 3, true)});
    EXPECT_TRUE(other.deliveries.empty());
    EXPECT_EQ(other.last_commit, position::from_sequence(3));
}

TEST(change_router, reset_drops_the_open_transaction) {
    change_router r({t1, t2});
    (void)r.route({change(t1, 1), change(t2, 2)});
    r.reset();
    EXPECT_TRUE(r.at_boundary());
    auto out = r.route({change(t2, 1), change(t1, 2, true)});
    std::size_t events = 0;
    for (const auto& d : out.deliveries) events += d.events.size();
    EXPECT_EQ(events, 2u);  // the held changes of before the reset are gone
}

// Random transactions over three tables, cut at random points: per table, the deliveries
// hold every change once, in order, and a change ends a transaction exactly when it is the
// table's last change in that transaction.
TEST(change_router, random_splits_keep_every_table_whole) {
    std::mt19937_64 rng(7);
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const std::vector<table_identifier> tables{t1, t2, t3};
    std::vector<change_event> events;
    std::map<table_identifier, std::vector<std::pair<std::uint64_t, bool>>> expected;
    std::uint64_t pos = 1;
    for (int tx = 0; tx < 3000; ++tx) {
        const int n = pick(1, 6);
        std::map<table_identifier, std::size_t> last_in_tx;
        for (int i = 0; i < n; ++i) {
            const auto& t = tables[pick(0, 2)];
            events.push_back(change(t, pos++, i == n - 1));
            expected[t].emplace_back(events.back().pos.sequence(), false);
            last_in_tx[t] = expected[t].size() - 1;
        }
        for (const auto& [t, i] : last_in_tx) expected[t][i].second = true;
    }
    change_router r({t1, t2, t3});
    std::map<table_identifier, std::vector<std::pair<std::uint64_t, bool>>> got;
    std::size_t i = 0;
    while (i < events.size()) {
        const auto n = std::min<std::size_t>(events.size() - i, pick(1, 5));
        std::vector<change_event> call(events.begin() + static_cast<std::ptrdiff_t>(i),
                                       events.begin() + static_cast<std::ptrdiff_t>(i + n));
        i += n;
        auto out = r.route(std::move(call));
        for (const auto& d : out.deliveries) {
            ASSERT_FALSE(d.events.empty());
            for (const auto& e : d.events)
                got[d.table].emplace_back(e.pos.sequence(), e.ends_transaction);
        }
    }
    EXPECT_TRUE(r.at_boundary());
    for (const auto& t : tables) EXPECT_EQ(got[t], expected[t]) << t.to_string();
}

}  // namespace
}  // namespace laredo::detail
