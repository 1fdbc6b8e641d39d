#include "transaction_batcher.hpp"

#include "laredo/error.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

using namespace laredo;
using laredo::targets::memory::detail::transaction_batcher;

namespace {

// A change numbered `n` (its position), ending its transaction or not.
change_event change(std::uint64_t n, bool ends) {
    change_event c;
    c.pos = position::from_sequence(n);
    c.ends_transaction = ends;
    return c;
}

// Records each group as the list of its positions.
struct recorder {
    std::vector<std::vector<std::uint64_t>> groups;
    transaction_batcher::apply_fn fn() {
        return [this](std::span<const change_event* const> group) {
            std::vector<std::uint64_t> g;
            for (const auto* c : group) g.push_back(c->pos.sequence());
            groups.push_back(std::move(g));
        };
    }
};

using groups = std::vector<std::vector<std::uint64_t>>;

}  // namespace

TEST(transaction_batcher, applies_complete_transactions_of_a_batch_together) {
    transaction_batcher b(100);
    recorder r;
    const std::vector<change_event> batch{change(1, false), change(2, true), change(3, true)};
    b.feed(batch, r.fn());
    EXPECT_EQ(r.groups, (groups{{1, 2, 3}}));
    EXPECT_FALSE(b.holding());
    EXPECT_FALSE(b.mid_transaction());
}

TEST(transaction_batcher, holds_an_open_transaction_until_its_commit_arrives) {
    transaction_batcher b(100);
    recorder r;
    const std::vector<change_event> first{change(1, true), change(2, false), change(3, false)};
    b.feed(first, r.fn());
    EXPECT_EQ(r.groups, (groups{{1}}));
    EXPECT_TRUE(b.holding());
    EXPECT_EQ(b.held_count(), 2u);
    {
        // The held copies must survive the batch they came from.
        const std::vector<change_event> second{change(4, false)};
        b.feed(second, r.fn());
    }
    EXPECT_EQ(r.groups.size(), 1u);
    const std::vector<change_event> third{change(5, true)};
    b.feed(third, r.fn());
    EXPECT_EQ(r.groups, (groups{{1}, {2, 3, 4, 5}}));
    EXPECT_FALSE(b.holding());
}

TEST(transaction_batcher, a_transaction_of_exactly_the_limit_is_applied_whole) {
    transaction_batcher b(3);
    recorder r;
    const std::vector<change_event> batch{change(1, false), change(2, false), change(3, true)};
    b.feed(batch, r.fn());
    EXPECT_EQ(r.groups, (groups{{1, 2, 3}}));
    EXPECT_FALSE(b.mid_transaction());
}

TEST(transaction_batcher, splits_a_large_transaction_into_chunks_and_reports_it) {
    transaction_batcher b(2);
    recorder r;
    const std::vector<change_event> first{change(1, true), change(2, false), change(3, false),
                                          change(4, false)};
    b.feed(first, r.fn());
    // The complete transaction first, then a chunk of the large one, then (since readers
    // already see part of it) the rest of what arrived.
    EXPECT_EQ(r.groups, (groups{{1}, {2, 3}, {4}}));
    EXPECT_TRUE(b.mid_transaction());
    EXPECT_FALSE(b.holding());
    const std::vector<change_event> second{change(5, true), change(6, true)};
    b.feed(second, r.fn());
    EXPECT_EQ(r.groups, (groups{{1}, {2, 3}, {4}, {5, 6}}));
    EXPECT_FALSE(b.mid_transaction());
}

TEST(transaction_batcher, bounds_groups_of_small_transactions) {
    transaction_batcher b(2);
    recorder r;
    const std::vector<change_event> batch{change(1, true), change(2, true), change(3, true)};
    b.feed(batch, r.fn());
    EXPECT_EQ(r.groups, (groups{{1, 2}, {3}}));
}

TEST(transaction_batcher, a_failure_drops_what_was_held) {
    transaction_batcher b(100);
    recorder r;
    const std::vector<change_event> first{change(1, false)};
    b.feed(first, r.fn());
    EXPECT_TRUE(b.holding());
    const std::vector<change_event> second{change(2, true)};
    const transaction_batcher::apply_fn fail = [](std::span<const change_event* const>) {
        throw std::runtime_error("boom");
    };
    EXPECT_THROW(b.feed(second, fail), std::runtime_error);
    EXPECT_FALSE(b.holding());
}

TEST(transaction_batcher, refuses_a_zero_limit) { EXPECT_THROW(transaction_batcher(0), error); }
