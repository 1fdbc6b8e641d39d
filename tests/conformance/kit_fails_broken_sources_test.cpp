// The kit can fail: each deliberately broken source makes the check of the rule it breaks
// fail with a message that names the item and says what was observed, while the same check
// passes for the unbroken wrapper.
#include "broken_sources.hpp"

#include "laredo/testing/conformance.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <set>

namespace laredo::testing {
namespace {

using sources::testsource::position_mode;
using sources::testsource::test_source_options;
using ::testing::HasSubstr;

conformance_options quick() {
    conformance_options o;
    o.deadline = std::chrono::milliseconds(3000);
    o.stop_bound = std::chrono::milliseconds(1000);
    o.idle_period = std::chrono::milliseconds(50);
    o.rows_per_table = 5;
    o.changes = 12;
    o.threads = 2;
    return o;
}

test_source_options pair_positions() {
    test_source_options o;
    o.positions = position_mode::pair;
    return o;
}

test_source_options with_resume() {
    test_source_options o;
    o.supports_resume = true;
    return o;
}

struct broken_case {
    std::string name;
    conformance_check check;
    fixture_factory broken;
    fixture_factory intact;  // the same wrapper without the fault
    std::string observed;    // part of the failure message
};

void PrintTo(const broken_case& c, std::ostream* os) { *os << c.name; }

class kit_fails : public ::testing::TestWithParam<broken_case> {};

TEST_P(kit_fails, for_the_broken_source_and_passes_the_intact_one) {
    const auto& c = GetParam();
    const auto item = std::string(name_of(c.check));

    const auto failed = run_conformance_check(c.check, c.broken, quick());
    // What a source author would read.
    std::cout << failed.to_string() << '\n';
    EXPECT_FALSE(failed.passed()) << "the check passed a broken source";
    EXPECT_FALSE(failed.skipped.has_value()) << failed.to_string();
    EXPECT_EQ(failed.item, item);
    for (const auto& f : failed.failures) EXPECT_EQ(f.rfind(item + ": ", 0), 0u) << f;
    EXPECT_THAT(failed.to_string(), HasSubstr(c.observed));

    const auto passed = run_conformance_check(c.check, c.intact, quick());
    EXPECT_TRUE(passed.passed()) << passed.to_string();
}

using namespace broken;

const broken_case cases[] = {
    {"positions_go_backwards", conformance_check::positions_strictly_increase,
     wrapped<backwards_positions>(), wrapped<forwarding_source>(), "is not after"},
    {"stream_returns_before_cancellation",
     conformance_check::stream_runs_until_cancelled_then_completes_cleanly,
     wrapped<early_return_stream>(), wrapped<forwarding_source>(),
     "stream() returned while idle before it was cancelled"},
    {"round_trip_loses_the_row_number",
     conformance_check::position_strings_round_trip_and_agree_with_compare,
     wrapped<lossy_position_strings>(pair_positions()),
     wrapped<forwarding_source>(pair_positions()), "the round trip loses information"},
    {"malformed_strings_accepted", conformance_check::malformed_position_strings_are_rejected,
     wrapped<lenient_position_parser>(), wrapped<forwarding_source>(),
     "accepted a malformed string"},
    {"close_leaks_a_socket", conformance_check::close_releases_everything,
     wrapped<socket_leaking_close>(), wrapped<forwarding_source>(), "-> socket:["},
    {"close_leaves_a_timer", conformance_check::close_releases_everything,
     wrapped<timer_leaking_close>(), wrapped<forwarding_source>(), "the io_context still had work"},
    {"failure_swallowed", conformance_check::source_failure_surfaces_as_an_error,
     wrapped<swallowed_failure>(), wrapped<forwarding_source>(), "neither failed nor returned"},
    {"changes_lost", conformance_check::stream_delivers_every_change_exactly_once,
     wrapped<lossy_stream>(), wrapped<forwarding_source>(), "were not delivered"},
    {"changes_lost_under_the_engine", conformance_check::concurrent_calls_while_streaming_are_safe,
     wrapped<lossy_stream>(), wrapped<forwarding_source>(), "did not reach the engine's targets"},
    {"no_key_metadata", conformance_check::init_reports_every_table_with_primary_key,
     wrapped<keyless_init>(), wrapped<forwarding_source>(), "has no key column"},
    {"unknown_table_accepted", conformance_check::unknown_table_is_an_error_naming_it,
     wrapped<unknown_tables_ignored>(), wrapped<forwarding_source>(),
     "init accepted the table public.laredo_conformance_missing"},
    {"state_never_paused", conformance_check::state_follows_the_lifecycle,
     wrapped<never_paused_state>(), wrapped<forwarding_source>(),
     "after pause() returned while streaming, state() is STREAMING; expected PAUSED"},
    {"acks_not_persisted", conformance_check::last_acked_position_returns_what_was_acked,
     wrapped<forgetful_acks>(with_resume()), wrapped<forwarding_source>(with_resume()),
     "last_acked_position() returned nullopt"},
    {"resume_refused", conformance_check::restarted_engine_resumes_without_baseline_or_loss,
     wrapped<forgetful_acks>(with_resume()), wrapped<forwarding_source>(with_resume()),
     "took a new baseline"},
};

INSTANTIATE_TEST_SUITE_P(broken, kit_fails, ::testing::ValuesIn(cases),
                         [](const ::testing::TestParamInfo<broken_case>& info) {
                             return info.param.name;
                         });

// A source that cannot be broken by its fixture is skipped, and says why.
class unbreakable_fixture final : public testsource_fixture {
  public:
    bool break_upstream() override { return false; }
};

TEST(kit_skips, the_failure_check_when_the_fixture_cannot_break_its_upstream) {
    const auto r = run_conformance_check(
        conformance_check::source_failure_surfaces_as_an_error,
        [] { return std::make_unique<unbreakable_fixture>(); }, quick());
    EXPECT_TRUE(r.passed()) << r.to_string();
    ASSERT_TRUE(r.skipped.has_value());
    EXPECT_THAT(*r.skipped, HasSubstr("break_upstream"));
}

TEST(kit_skips, resume_for_a_source_without_it) {
    const auto r = run_conformance_check(
        conformance_check::restarted_engine_resumes_without_baseline_or_loss,
        [] { return std::make_unique<testsource_fixture>(); }, quick());
    EXPECT_TRUE(r.passed()) << r.to_string();
    ASSERT_TRUE(r.skipped.has_value());
    EXPECT_THAT(*r.skipped, HasSubstr("supports_resume() is false"));
}

TEST(kit_checklist, names_every_check_once) {
    std::set<std::string_view> names;
    for (const auto& e : checklist()) {
        EXPECT_EQ(name_of(e.check), e.name);
        EXPECT_FALSE(e.description.empty());
        EXPECT_TRUE(names.insert(e.name).second) << e.name;
    }
    EXPECT_EQ(names.size(), 15u);
}

TEST(kit_fixture, a_factory_without_a_fixture_fails_every_check) {
    const auto r = run_conformance_check(conformance_check::positions_strictly_increase,
                                         [] { return std::unique_ptr<conformance_fixture>(); });
    EXPECT_FALSE(r.passed());
    EXPECT_THAT(r.to_string(), HasSubstr("positions_strictly_increase: the fixture factory "
                                         "returned no fixture"));
}

}  // namespace
}  // namespace laredo::testing
