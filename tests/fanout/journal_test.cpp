// The fan-out journal on its own: sequences, epochs, pruning limits, pins, resume decisions.
#include "journal.hpp"

#include "laredo/replica/positions.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace laredo::targets::fanout::detail {
namespace {

using namespace std::chrono_literals;

position_compare structural() {
    return [](const position& a, const position& b) { return replica::compare_positions(a, b); };
}

entry_ptr entry(std::uint64_t seq, std::uint64_t pos, bool ends = true,
                time_point at = std::chrono::system_clock::now()) {
    auto e = std::make_shared<journal_entry>();
    e->sequence = seq;
    e->pos = position::from_sequence(pos);
    e->action = change_action::truncate;
    e->end_of_transaction = ends;
    e->appended_at = at;
    return e;
}

// Appends entries seq from+1 .. to, at positions 10 * seq.
void fill(journal& j, std::uint64_t from, std::uint64_t to) {
    std::vector<entry_ptr> batch;
    for (auto s = from + 1; s <= to; ++s) batch.push_back(entry(s, 10 * s));
    j.append(std::move(batch));
}

std::vector<std::uint64_t> sequences(const journal::read_result& r) {
    std::vector<std::uint64_t> out;
    for (const auto& e : r.entries) out.push_back(e->sequence);
    return out;
}

TEST(fanout_journal, reads_entries_after_a_sequence_in_batches) {
    journal j({}, structural());
    const auto id = j.reset(0, position::from_sequence(0));
    fill(j, 0, 5);
    EXPECT_EQ(sequences(j.read_after(id, 0, 100)), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(sequences(j.read_after(id, 2, 2)), (std::vector<std::uint64_t>{3, 4}));
    EXPECT_TRUE(j.read_after(id, 5, 100).entries.empty());
    EXPECT_EQ(j.read_after("other", 2, 10).status, journal::read_status::epoch_changed);
    const auto s = j.current();
    EXPECT_EQ(s.head_sequence, 5u);
    EXPECT_EQ(s.oldest_sequence, 1u);
    EXPECT_EQ(s.head_position, position::from_sequence(50));
}

TEST(fanout_journal, a_new_epoch_keeps_sequences_growing_under_a_new_id) {
    journal j({}, structural());
    const auto first = j.reset(0, position::from_sequence(0));
    fill(j, 0, 3);
    const auto second = j.reset(3, position::from_sequence(100));
    EXPECT_NE(first, second);
    EXPECT_FALSE(j.covers_sequence(first, 3));
    EXPECT_TRUE(j.covers_sequence(second, 3));
    j.append({entry(4, 110)});
    EXPECT_EQ(sequences(j.read_after(second, 3, 10)), (std::vector<std::uint64_t>{4}));
}

TEST(fanout_journal, prunes_by_count_then_reports_a_gap_to_readers_behind) {
    journal j({.max_entries = 3}, structural());
    std::uint64_t pruned = 0;
    j.on_pruned = [&](std::uint64_t n) { pruned += n; };
    const auto id = j.reset(0, position::from_sequence(0));
    fill(j, 0, 10);
    EXPECT_EQ(j.current().entries, 3u);
    EXPECT_EQ(j.current().oldest_sequence, 8u);
    EXPECT_EQ(pruned, 7u);
    EXPECT_EQ(j.read_after(id, 5, 10).status, journal::read_status::gap);
    EXPECT_EQ(sequences(j.read_after(id, 7, 10)), (std::vector<std::uint64_t>{8, 9, 10}));
    // The base moves with the pruning: the table as of the last pruned entry.
    EXPECT_EQ(j.current().base_position, position::from_sequence(70));
}

TEST(fanout_journal, prunes_by_bytes_and_by_age) {
    journal by_bytes({.max_bytes = 3 * entry(1, 1)->bytes()}, structural());
    by_bytes.reset(0, position::from_sequence(0));
    fill(by_bytes, 0, 8);
    EXPECT_EQ(by_bytes.current().entries, 3u);

    journal by_age({.max_age = 1h}, structural());
    by_age.reset(0, position::from_sequence(0));
    const auto old = std::chrono::system_clock::now() - 2h;
    by_age.append({entry(1, 10, true, old), entry(2, 20, true, old), entry(3, 30)});
    EXPECT_EQ(by_age.current().oldest_sequence, 3u);
}

TEST(fanout_journal, a_pin_stops_pruning_by_count_bytes_and_age_until_it_moves) {
    journal j({.max_entries = 2, .max_bytes = 2 * entry(1, 1)->bytes(), .max_age = 1h},
              structural());
    const auto id = j.reset(0, position::from_sequence(0));
    const auto pin = j.pin(3);
    const auto old = std::chrono::system_clock::now() - 2h;
    std::vector<entry_ptr> batch;
    for (std::uint64_t s = 1; s <= 10; ++s) batch.push_back(entry(s, 10 * s, true, old));
    j.append(std::move(batch));
    // Everything after 3 stays, over every limit.
    EXPECT_EQ(j.current().oldest_sequence, 4u);
    EXPECT_EQ(sequences(j.read_after(id, 3, 100)).size(), 7u);
    j.move_pin(pin, 6);
    EXPECT_EQ(j.current().oldest_sequence, 7u);
    j.unpin(pin);
    EXPECT_EQ(j.current().entries, 0u);
}

TEST(fanout_journal, resume_by_position_needs_a_position_the_journal_covers) {
    journal j({.max_entries = 4}, structural());
    j.reset(0, position::from_sequence(5));
    fill(j, 0, 3);  // positions 10, 20, 30
    EXPECT_EQ(j.resume_after_position(position::from_sequence(5)), 0u);
    EXPECT_EQ(j.resume_after_position(position::from_sequence(20)), 2u);
    EXPECT_EQ(j.resume_after_position(position::from_sequence(25)), 2u);
    EXPECT_EQ(j.resume_after_position(position::from_sequence(30)), 3u);
    // Ahead of anything the journal reached: not ours.
    EXPECT_EQ(j.resume_after_position(position::from_sequence(31)), std::nullopt);
    // Before the base.
    EXPECT_EQ(j.resume_after_position(position::from_sequence(4)), std::nullopt);
    EXPECT_EQ(j.resume_after_position(position()), std::nullopt);
    // A heartbeat between transactions moves the head: positions up to it are covered.
    j.reach(position::from_sequence(40));
    EXPECT_EQ(j.resume_after_position(position::from_sequence(35)), 3u);
    fill(j, 3, 8);  // prunes 1..4: base moves to 40's entry
    EXPECT_EQ(j.resume_after_position(position::from_sequence(30)), std::nullopt);
    EXPECT_EQ(j.resume_after_position(position::from_sequence(40)), 4u);

    journal no_base({}, structural());
    no_base.reset(0, position());
    fill(no_base, 0, 2);
    EXPECT_EQ(no_base.resume_after_position(position::from_sequence(10)), std::nullopt);
}

TEST(fanout_journal, heartbeats_inside_a_transaction_do_not_move_the_head) {
    journal j({}, structural());
    j.reset(0, position::from_sequence(0));
    j.append({entry(1, 10, false)});
    j.reach(position::from_sequence(15));
    EXPECT_EQ(j.current().head_position, position::from_sequence(10));
    EXPECT_EQ(j.current().boundary_sequence, 0u);
    j.append({entry(2, 20, true)});
    j.reach(position::from_sequence(25));
    EXPECT_EQ(j.current().head_position, position::from_sequence(25));
    EXPECT_EQ(j.current().boundary_sequence, 2u);
}

TEST(fanout_journal, a_sequence_ahead_of_the_head_or_of_another_epoch_is_not_covered) {
    journal j({.max_entries = 3}, structural());
    const auto id = j.reset(0, position::from_sequence(0));
    fill(j, 0, 5);
    EXPECT_TRUE(j.covers_sequence(id, 5));
    EXPECT_TRUE(j.covers_sequence(id, 2));
    EXPECT_FALSE(j.covers_sequence(id, 1));  // entry 2 is gone
    EXPECT_FALSE(j.covers_sequence(id, 6));  // ahead of the server
    EXPECT_FALSE(j.covers_sequence("", 3));
}

struct counting_listener final : journal_listener {
    std::atomic<int> calls{0};
    void on_journal_changed() override { ++calls; }
};

TEST(fanout_journal, listeners_hear_appends_resets_and_wakes_until_they_are_gone) {
    journal j({}, structural());
    auto l = std::make_shared<counting_listener>();
    j.subscribe(l);
    j.reset(0, position::from_sequence(0));
    fill(j, 0, 1);
    j.notify_all();
    EXPECT_EQ(l->calls, 3);
    std::weak_ptr<counting_listener> weak = l;
    l.reset();
    fill(j, 1, 2);  // a listener that went away is skipped
    EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace laredo::targets::fanout::detail
