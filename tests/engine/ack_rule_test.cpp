// The ACK rule on its own (no io_context): what a source may be acked from what its
// pipelines confirmed, were handed and what the source delivered.
#include "ack_rule.hpp"

#include <gtest/gtest.h>

namespace laredo::detail {
namespace {

position at(std::uint64_t n) { return position::from_sequence(n); }

ack_rule rule(std::size_t pipelines) {
    return ack_rule(pipelines, [](const position& a, const position& b) {
        return a.sequence() < b.sequence() ? -1 : (a.sequence() > b.sequence() ? 1 : 0);
    });
}

TEST(ack_rule, a_pipeline_that_confirmed_nothing_holds_the_ack_back) {
    auto r = rule(2);
    r.confirm(0, at(5));
    EXPECT_EQ(r.ackable(), std::nullopt);
    r.confirm(1, at(3));
    EXPECT_EQ(r.ackable(), at(3));
}

TEST(ack_rule, confirmations_never_go_backwards) {
    auto r = rule(1);
    r.confirm(0, at(5));
    r.confirm(0, at(4));  // a rewind re-delivered it
    EXPECT_EQ(r.ackable(), at(5));
}

TEST(ack_rule, an_idle_pipeline_reaches_what_the_source_delivered) {
    auto r = rule(2);
    r.confirm(0, at(1));
    r.confirm(1, at(1));
    // Changes of table 0 only, in calls of their own: pipeline 1 has nothing pending.
    r.expect(0, at(4));
    r.reached(at(4));
    EXPECT_EQ(r.ackable(), at(1));  // pipeline 0 still applies them
    r.confirm(0, at(4));
    EXPECT_EQ(r.ackable(), at(4));  // pipeline 1 does not hold it back (it reached 4)
}

TEST(ack_rule, a_pipeline_with_work_pending_counts_at_what_it_confirmed) {
    auto r = rule(2);
    r.confirm(0, at(1));
    r.confirm(1, at(1));
    r.expect(1, at(6));
    r.expect(0, at(7));
    r.reached(at(7));
    r.confirm(0, at(7));
    EXPECT_EQ(r.ackable(), at(1));  // pipeline 1 has not applied 6 yet
    r.confirm(1, at(6));
    EXPECT_EQ(r.ackable(), at(7));
}

TEST(ack_rule, pipelines_out_of_the_ack_do_not_count_until_they_rejoin) {
    auto r = rule(2);
    r.confirm(0, at(9));
    r.set_member(1, false);
    EXPECT_EQ(r.ackable(), at(9));
    r.set_member(1, true);
    EXPECT_EQ(r.ackable(), std::nullopt);  // it has confirmed nothing
    r.set_member(0, false);
    r.set_member(1, false);
    EXPECT_EQ(r.ackable(), std::nullopt);  // none counts
}

TEST(ack_rule, the_cap_bounds_the_ack_and_only_moves_forward) {
    auto r = rule(1);
    r.confirm(0, at(9));
    r.set_cap(at(4));
    EXPECT_EQ(r.ackable(), at(4));
    r.set_cap(at(2));  // older: ignored
    EXPECT_EQ(r.ackable(), at(4));
    r.set_cap(at(12));
    EXPECT_EQ(r.ackable(), at(9));
}

}  // namespace
}  // namespace laredo::detail
