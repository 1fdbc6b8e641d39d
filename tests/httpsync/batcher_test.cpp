// The batcher alone: limits by rows and bytes, transactions kept whole, a too-large
// transaction cut with null commit positions, the timer's partial flush, confirm positions.
#include "batcher.hpp"

#include "laredo/json/values.hpp"

#include <boost/json/value.hpp>

#include <gtest/gtest.h>

namespace laredo::targets::httpsync::detail {
namespace {

using clock_type = batcher::clock;

// A change of transaction `tx` at position `pos`, encoded the simple way the tests need:
// {"n":pos (open).
change_event change(std::uint64_t pos, std::uint64_t tx, bool ends) {
    change_event c;
    c.pos = position::from_sequence(pos);
    c.transaction_id = tx;
    c.ends_transaction = ends;
    return c;
}

std::string open_json(std::uint64_t pos, std::size_t padding = 0) {
    return "{\"n\":" + std::to_string(pos) + ",\"pad\":\"" + std::string(padding, 'x') + "\"";
}

void add(batcher& b, std::uint64_t pos, std::uint64_t tx, bool ends, std::size_t padding = 0) {
    b.add_change(open_json(pos, padding), change(pos, tx, ends), "\"" + std::to_string(pos) + "\"",
                 true, clock_type::now());
}

std::vector<batch> drain(batcher& b) {
    std::vector<batch> out;
    while (b.has_ready()) out.push_back(b.pop_ready());
    return out;
}

// The positions and commit positions of the changes in a body.
std::vector<std::pair<std::int64_t, std::string>> entries(const batch& b) {
    std::vector<std::pair<std::int64_t, std::string>> out;
    const auto body = json::parse(b.body);
    for (const auto& e : body.as_array()) {
        const auto& commit = e.as_object().at("commit_position");
        out.emplace_back(e.as_object().at("n").as_int64(),
                         commit.is_null() ? "null" : std::string(commit.as_string()));
    }
    return out;
}

TEST(batcher, a_batch_is_ready_when_it_holds_batch_size_changes) {
    batcher b("/changes", "[", "]", {3, 1u << 20});
    for (std::uint64_t i = 1; i <= 7; ++i) add(b, i, i, true);
    const auto ready = drain(b);
    ASSERT_EQ(ready.size(), 2u);
    EXPECT_EQ(ready[0].rows, 3u);
    EXPECT_EQ(ready[1].rows, 3u);
    EXPECT_EQ(ready[0].confirms, position::from_sequence(3));
    EXPECT_EQ(ready[1].confirms, position::from_sequence(6));
    EXPECT_EQ(ready[0].path, "/changes");
    EXPECT_EQ((entries(ready[1])),
              (std::vector<std::pair<std::int64_t, std::string>>{{4, "4"}, {5, "5"}, {6, "6"}}));
    EXPECT_EQ(b.size(), 1u);  // the seventh waits
    EXPECT_EQ(ready[0].changes.size(), 3u);
    EXPECT_EQ(ready[0].changes[2].pos, position::from_sequence(3));
}

TEST(batcher, a_batch_never_exceeds_the_byte_limit) {
    const std::size_t limit = 2000;
    batcher b("/changes", "[", "]", {1000, limit});
    for (std::uint64_t i = 1; i <= 40; ++i) add(b, i, i, true, 150);
    b.flush_all();
    const auto ready = drain(b);
    ASSERT_GT(ready.size(), 1u);
    std::size_t total = 0;
    for (const auto& r : ready) {
        EXPECT_LE(r.body.size(), limit);
        total += r.rows;
        EXPECT_NO_THROW(json::parse(r.body));
    }
    EXPECT_EQ(total, 40u);
}

TEST(batcher, a_single_change_larger_than_the_byte_limit_goes_alone) {
    batcher b("/changes", "[", "]", {100, 1024});
    add(b, 1, 1, true);
    add(b, 2, 2, true, 5000);
    add(b, 3, 3, true);
    b.flush_all();
    const auto ready = drain(b);
    ASSERT_EQ(ready.size(), 3u);
    EXPECT_EQ(ready[1].rows, 1u);
    EXPECT_GT(ready[1].body.size(), 5000u);
}

TEST(batcher, a_transaction_is_not_split_when_it_fits_a_batch) {
    batcher b("/changes", "[", "]", {5, 1u << 20});
    add(b, 1, 1, false);
    add(b, 2, 1, false);
    add(b, 3, 1, true);  // tx 1: 3 changes
    add(b, 4, 2, false);
    add(b, 5, 2, false);
    add(b, 6, 2, false);  // tx 2 would not fit beside tx 1: tx 1 goes alone
    auto ready = drain(b);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ((entries(ready[0])),
              (std::vector<std::pair<std::int64_t, std::string>>{{1, "3"}, {2, "3"}, {3, "3"}}));
    EXPECT_EQ(ready[0].confirms, position::from_sequence(3));
    add(b, 7, 2, true);
    b.flush_all();
    ready = drain(b);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].rows, 4u);
    for (const auto& [n, commit] : entries(ready[0])) EXPECT_EQ(commit, "7") << n;
    EXPECT_EQ(ready[0].confirms, position::from_sequence(7));
}

TEST(batcher, a_transaction_larger_than_a_batch_is_cut_and_its_first_parts_have_no_commit) {
    batcher b("/changes", "[", "]", {3, 1u << 20});
    for (std::uint64_t i = 1; i <= 7; ++i) add(b, i, 9, i == 7);
    const auto ready = drain(b);
    ASSERT_EQ(ready.size(), 2u);
    for (const auto& r : ready) {
        EXPECT_EQ(r.rows, 3u);
        EXPECT_FALSE(r.confirms.has_value());  // nothing whole in them
        for (const auto& [n, commit] : entries(r)) EXPECT_EQ(commit, "null") << n;
    }
    b.flush_all();
    const auto last = drain(b);
    ASSERT_EQ(last.size(), 1u);
    EXPECT_EQ((entries(last[0])), (std::vector<std::pair<std::int64_t, std::string>>{{7, "7"}}));
    EXPECT_EQ(last[0].confirms, position::from_sequence(7));
}

TEST(batcher, the_timer_flush_sends_whole_transactions_and_keeps_the_unfinished_one) {
    batcher b("/changes", "[", "]", {100, 1u << 20});
    add(b, 1, 1, true);
    add(b, 2, 2, false);
    EXPECT_TRUE(b.has_complete());
    b.flush_complete(clock_type::now());
    auto ready = drain(b);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].rows, 1u);
    EXPECT_EQ(b.size(), 1u);
    EXPECT_FALSE(b.has_complete());
    b.flush_complete(clock_type::now());  // nothing whole: nothing to send
    EXPECT_FALSE(b.has_ready());
    add(b, 3, 2, true);
    b.flush_complete(clock_type::now());
    ready = drain(b);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ((entries(ready[0])),
              (std::vector<std::pair<std::int64_t, std::string>>{{2, "3"}, {3, "3"}}));
}

TEST(batcher, flush_all_sends_an_unfinished_transaction_with_a_null_commit_position) {
    batcher b("/changes", "[", "]", {100, 1u << 20});
    add(b, 1, 1, true);
    add(b, 2, 2, false);
    b.flush_all();
    const auto ready = drain(b);
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ((entries(ready[0])),
              (std::vector<std::pair<std::int64_t, std::string>>{{1, "1"}, {2, "null"}}));
    EXPECT_EQ(ready[0].confirms, position::from_sequence(1));
    EXPECT_TRUE(b.empty());
}

TEST(batcher, baseline_rows_are_framed_and_limited_by_rows) {
    batcher b("/baseline/batch", "{\"table\":\"s.t\",\"rows\":[", "]}", {2, 1u << 20});
    for (int i = 0; i < 5; ++i) b.add_item("{\"id\":" + std::to_string(i) + "}", clock_type::now());
    EXPECT_EQ(b.queued_rows(), 5u);
    b.flush_all();
    const auto ready = drain(b);
    ASSERT_EQ(ready.size(), 3u);
    EXPECT_EQ(ready[0].body, R"({"table":"s.t","rows":[{"id":0},{"id":1}]})");
    EXPECT_EQ(ready[2].rows, 1u);
    EXPECT_FALSE(ready[0].confirms.has_value());
}

TEST(batcher, changes_are_not_copied_unless_asked) {
    batcher b("/changes", "[", "]", {100, 1u << 20});
    b.add_change(open_json(1), change(1, 1, true), "\"1\"", false, clock_type::now());
    b.flush_all();
    EXPECT_TRUE(b.pop_ready().changes.empty());
}

}  // namespace
}  // namespace laredo::targets::httpsync::detail
