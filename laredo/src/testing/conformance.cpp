#include "laredo/testing/conformance.hpp"

#include "checks.hpp"
#include "harness.hpp"

#include "laredo/error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>

namespace laredo::testing {

namespace {

using detail::case_env;

struct item_runner {
    conformance_check check;
    void (*run)(case_env&);
    int min_threads;  // the concurrency case needs several io_context threads
};

constexpr std::array<checklist_entry, 15> entries{{
    {conformance_check::all_operations_are_callable, "all_operations_are_callable",
     "every operation of sync_source completes, in the order the engine calls them"},
    {conformance_check::init_reports_every_table_with_primary_key,
     "init_reports_every_table_with_primary_key",
     "init reports every requested table, with key columns whose primary_key_ordinal values "
     "are 1..n and match the key rows carry"},
    {conformance_check::unknown_table_is_an_error_naming_it, "unknown_table_is_an_error_naming_it",
     "init refuses a table that does not exist with an error naming it, and validate_tables "
     "reports it"},
    {conformance_check::baseline_delivers_every_row_exactly_once,
     "baseline_delivers_every_row_exactly_once",
     "baseline delivers every row once (also for one table alone) and returns a position "
     "stream() starts from without repeating the baseline"},
    {conformance_check::stream_delivers_every_change_exactly_once,
     "stream_delivers_every_change_exactly_once",
     "stream delivers every change once, in the promised order, with rows of init's columns and "
     "transaction ends, one handler call at a time under backpressure"},
    {conformance_check::stream_runs_until_cancelled_then_completes_cleanly,
     "stream_runs_until_cancelled_then_completes_cleanly",
     "stream keeps running while idle, returns normally within a bound after terminal "
     "cancellation, and the final ack still works"},
    {conformance_check::source_failure_surfaces_as_an_error, "source_failure_surfaces_as_an_error",
     "when the upstream breaks, stream throws (within a bound) instead of hanging or returning"},
    {conformance_check::positions_strictly_increase, "positions_strictly_increase",
     "every change carries a position, strictly after the baseline's and the one before"},
    {conformance_check::position_strings_round_trip_and_agree_with_compare,
     "position_strings_round_trip_and_agree_with_compare",
     "position_to_string / position_from_string round-trip every position seen, and strings "
     "agree with compare_positions"},
    {conformance_check::malformed_position_strings_are_rejected,
     "malformed_position_strings_are_rejected",
     "position_from_string rejects malformed strings with errc::invalid_position naming them"},
    {conformance_check::state_follows_the_lifecycle, "state_follows_the_lifecycle",
     "state() is connected after init and baseline, streaming while streaming, paused and "
     "streaming again across pause/resume, connected after cancellation, closed after close"},
    {conformance_check::close_releases_everything, "close_releases_everything",
     "after close the source's io_context runs out of work and no file descriptor opened since "
     "the source was created is left open"},
    {conformance_check::concurrent_calls_while_streaming_are_safe,
     "concurrent_calls_while_streaming_are_safe",
     "state, lag, ack, pause and resume from several threads while the engine streams on 4 "
     "threads: no change lost or repeated (run it under ThreadSanitizer for data races)"},
    {conformance_check::last_acked_position_returns_what_was_acked,
     "last_acked_position_returns_what_was_acked",
     "last_acked_position returns the last ack, also on a new source over the same upstream, "
     "and nullopt for a source without resume"},
    {conformance_check::restarted_engine_resumes_without_baseline_or_loss,
     "restarted_engine_resumes_without_baseline_or_loss",
     "with supports_resume, a new engine over a new source and the same targets resumes "
     "without a baseline and loses no change, including those made while no engine ran"},
}};

constexpr std::array<item_runner, 15> runners{{
    {conformance_check::all_operations_are_callable, detail::check_all_operations_are_callable, 1},
    {conformance_check::init_reports_every_table_with_primary_key,
     detail::check_init_reports_every_table_with_primary_key, 1},
    {conformance_check::unknown_table_is_an_error_naming_it,
     detail::check_unknown_table_is_an_error_naming_it, 1},
    {conformance_check::baseline_delivers_every_row_exactly_once,
     detail::check_baseline_delivers_every_row_exactly_once, 1},
    {conformance_check::stream_delivers_every_change_exactly_once,
     detail::check_stream_delivers_every_change_exactly_once, 1},
    {conformance_check::stream_runs_until_cancelled_then_completes_cleanly,
     detail::check_stream_runs_until_cancelled, 1},
    {conformance_check::source_failure_surfaces_as_an_error,
     detail::check_source_failure_surfaces_as_an_error, 1},
    {conformance_check::positions_strictly_increase, detail::check_positions_strictly_increase, 1},
    {conformance_check::position_strings_round_trip_and_agree_with_compare,
     detail::check_position_strings_round_trip, 1},
    {conformance_check::malformed_position_strings_are_rejected,
     detail::check_malformed_position_strings_are_rejected, 1},
    {conformance_check::state_follows_the_lifecycle, detail::check_state_follows_the_lifecycle, 1},
    {conformance_check::close_releases_everything, detail::check_close_releases_everything, 1},
    {conformance_check::concurrent_calls_while_streaming_are_safe,
     detail::check_concurrent_calls_while_streaming, 4},
    {conformance_check::last_acked_position_returns_what_was_acked,
     detail::check_last_acked_position, 1},
    {conformance_check::restarted_engine_resumes_without_baseline_or_loss,
     detail::check_restarted_engine_resumes, 1},
}};

const item_runner& runner_of(conformance_check check) {
    const auto it = std::find_if(runners.begin(), runners.end(),
                                 [check](const item_runner& r) { return r.check == check; });
    if (it == runners.end())
        throw error(errc::invalid_argument,
                    "unknown conformance check " + std::to_string(static_cast<int>(check)));
    return *it;
}

class conformance_test : public ::testing::Test {
  public:
    conformance_test(conformance_check check, fixture_factory make, conformance_options options)
        : check_(check), make_(std::move(make)), options_(std::move(options)) {}

    void TestBody() override {
        const auto result = run_conformance_check(check_, make_, options_);
        for (const auto& f : result.failures) ADD_FAILURE() << f;
        if (result.skipped && result.passed())
            GTEST_SKIP() << result.item << ": " << *result.skipped;
    }

  private:
    conformance_check check_;
    fixture_factory make_;
    conformance_options options_;
};

}  // namespace

std::span<const checklist_entry> checklist() noexcept { return entries; }

std::string_view name_of(conformance_check check) noexcept {
    for (const auto& e : entries)
        if (e.check == check) return e.name;
    return "unknown_check";
}

std::string check_result::to_string() const {
    if (!failures.empty()) {
        std::string out;
        for (const auto& f : failures) {
            if (!out.empty()) out += '\n';
            out += f;
        }
        return out;
    }
    if (skipped) return item + ": skipped: " + *skipped;
    return item + ": passed";
}

check_result run_conformance_check(conformance_check check, const fixture_factory& make_fixture,
                                   const conformance_options& options) {
    const auto& runner = runner_of(check);
    detail::report rep{std::string(name_of(check))};
    std::unique_ptr<conformance_fixture> fixture;
    try {
        fixture = make_fixture();
    } catch (...) {
        rep.fail("the fixture factory threw: " + detail::describe(std::current_exception()));
        return rep.take();
    }
    if (!fixture) {
        rep.fail("the fixture factory returned no fixture");
        return rep.take();
    }
    if (fixture->tables().empty()) {
        rep.fail("the fixture names no tables");
        return rep.take();
    }
    bool hung = false;
    {
        case_env env(rep, *fixture, options, std::max(options.threads, runner.min_threads));
        try {
            runner.run(env);
        } catch (...) {
            rep.fail("the check failed outside the source: " +
                     detail::describe(std::current_exception()));
        }
        hung = env.fixture_hung();
    }
    // A fixture call that never returned still runs on a detached thread: leave the
    // fixture to it.
    if (hung) (void)fixture.release();
    return rep.take();
}

void register_conformance_tests(const std::string& name, fixture_factory make_fixture,
                                conformance_options options) {
    const std::string suite = "conformance/" + name;
    for (const auto& e : entries) {
        const auto check = e.check;
        ::testing::RegisterTest(suite.c_str(), std::string(e.name).c_str(), nullptr, nullptr,
                                __FILE__, __LINE__,
                                [check, make_fixture, options]() -> ::testing::Test* {
                                    return new conformance_test(check, make_fixture, options);
                                });
    }
}

}  // namespace laredo::testing
