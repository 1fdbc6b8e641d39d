#pragma once

// The conformance kit: the checklist of the source guide (docs/custom-sources.md) as
// GoogleTest cases a source author links into their own test suite.
//
//   #include "laredo/testing/conformance.hpp"
//
//   class my_fixture : public laredo::testing::conformance_fixture { ... };  // see below
//
//   // At namespace scope of a test file (or in main() before RUN_ALL_TESTS):
//   [[maybe_unused]] const bool registered = (laredo::testing::register_conformance_tests(
//       "mysource", [] { return std::make_unique<my_fixture>(); }), true);
//
// registers `conformance/mysource.<item>` for every item of checklist(). Each case builds a
// fresh fixture, creates sources through it on an io_context of its own (run by
// conformance_options::threads threads), drives them as the engine does (every coroutine on
// the source's get_executor(), cancellation as terminal cancellation) and reports each
// broken rule as a failure that starts with the item's name and says what it observed.
// Every wait is bounded by conformance_options::deadline: a broken source fails its case,
// it never hangs the suite. Link with the `laredo_testing` library (pkg-config and meson:
// laredo-testing), which brings GoogleTest.

#include "laredo/change_event.hpp"
#include "laredo/sync_source.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/types.hpp"
#include "laredo/value.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::testing {

// One change the kit asks the upstream to make. `id` names a row of `table` (see
// conformance_fixture::key_of): an insert names a row that does not exist, an update or a
// delete one that does.
struct change_request {
    table_identifier table;
    change_action action = change_action::insert;  // insert, update or delete_
    std::uint64_t id = 0;
};

// The upstream of the source under test (a database, a directory, a server), as the kit
// needs it: it makes sources that read it, and changes it.
//
// Threads: the kit calls every member function from one thread of its own, one call at a
// time, never from a thread that runs a source's io_context, so a call may block (until a
// server accepted a change, say). key_of() and tables() may also be called from any kit
// thread: keep them free of I/O.
class conformance_fixture {
  public:
    virtual ~conformance_fixture() = default;

    // The tables the source serves: one or more, each with a key. The kit asks for all of them
    // at init (and for one more that does not exist, to check that it is refused).
    virtual std::vector<table_identifier> tables() const = 0;

    // A new source reading this upstream, its coroutines on a strand of `executor`. Called
    // once per case, and once more in the cases that restart (last_acked_position, resume),
    // after the first source was closed. The kit destroys every source before the io_context
    // of `executor`: keep at most a weak_ptr to it.
    virtual std::shared_ptr<sync_source> make_source(boost::asio::any_io_executor executor) = 0;

    // The key of row `id` of `table`, as rows from the source carry it (row::key(): the key
    // columns' values in key order, with the value types the source reports).
    virtual std::vector<value> key_of(const table_identifier& table, std::uint64_t id) const = 0;

    // Puts row `id` into `table` before any source exists: baseline data.
    virtual void add_row(const table_identifier& table, std::uint64_t id) = 0;

    // Makes `changes` upstream, in order, as one transaction where the upstream has them, and
    // returns once they are made: a baseline taken afterwards contains them, and a running
    // stream (or a later stream from an earlier position) delivers them. An update changes at
    // least one column that is not part of the key.
    virtual void make_changes(const std::vector<change_request>& changes) = 0;

    // Optional: makes the upstream fail for good while a source streams (a connection that
    // drops and stays down, a corrupt log), so that stream() must end with an error. Returns
    // false when this fixture cannot: the case source_failure_surfaces_as_an_error is then
    // skipped, saying so. The default cannot.
    virtual bool break_upstream() { return false; }
};

using fixture_factory = std::function<std::unique_ptr<conformance_fixture>()>;

struct conformance_options {
    // The bound of every single wait: an operation of the source, a fixture call, delivery of
    // the changes made, engine start/stop. Longer is a failure that names what was awaited.
    std::chrono::milliseconds deadline{10'000};
    // How long stream() may take to return after terminal cancellation, and how long the
    // io_context may take to run out of work after close().
    std::chrono::milliseconds stop_bound{2'000};
    // How long the kit watches a streaming source with nothing to deliver (the stream must
    // still be running afterwards).
    std::chrono::milliseconds idle_period{200};
    // Threads that run the io_context of each case (the concurrency case uses at least 4).
    int threads = 4;
    // Baseline rows the kit puts into each table, and changes it makes per case.
    std::size_t rows_per_table = 20;
    std::size_t changes = 24;
    // Strings position_from_string must reject with errc::invalid_position. Empty: the kit's
    // list ("not a position", "-1", "1.5", " 42", "42 ", "0x10", "18446744073709551616",
    // "1:2:3"). Set it when one of those is a valid position of your source.
    std::vector<std::string> malformed_positions;
};

// The checklist, one case each. Every case drives the source directly as the engine does
// (each coroutine co_spawned on get_executor(); stream() ended by terminal cancellation),
// except the three marked "engine", which run it under a real laredo::engine with targets of
// the kit's own that record every row and change.
enum class conformance_check : std::uint8_t {
    // init, validate_tables, baseline, stream, pause, resume, lag, ordering, state, ack,
    // supports_resume, last_acked_position, can_resume_from, the position functions and close
    // each complete without throwing; validate_tables finds nothing wrong with tables init
    // accepted.
    all_operations_are_callable,
    // Every requested table is reported; key columns have primary_key set and
    // primary_key_ordinal 1..n (other columns neither); the columns make a row_schema; the
    // rows a baseline delivers carry these columns and the fixture's key_of().
    init_reports_every_table_with_primary_key,
    // init with a table that does not exist throws an error whose text names it (its table
    // name at least: quoting is the source's business), close still works afterwards, and
    // validate_tables reports that table (with a code).
    unknown_table_is_an_error_naming_it,
    // Every row once, none unknown, of init's columns, for all tables and for one alone; the
    // returned position is where stream() starts: a change made afterwards arrives, and no
    // baseline row comes again as a change. One handler call at a time.
    baseline_delivers_every_row_exactly_once,
    // Inserts, updates and deletes over every table in transactions of 1-3 changes, delivered
    // once each (re-deliveries after on_rewind count once), in the order ordering() promises,
    // each with its rows and a key; the last change of each transaction sets ends_transaction.
    // The handler takes 2 ms per call (backpressure) and must never be called concurrently.
    stream_delivers_every_change_exactly_once,
    // stream() keeps running while idle (idle_period) and after delivering, returns normally
    // within stop_bound of terminal cancellation, and ack() still works afterwards.
    stream_runs_until_cancelled_then_completes_cleanly,
    // After break_upstream(), stream() throws within `deadline` (not a hang, not a normal
    // return) and state() is no longer streaming or paused. Skipped when the fixture cannot.
    source_failure_surfaces_as_an_error,
    // Each change has a position, strictly after the previous one and the baseline's (a
    // rewind restarts the order at its position); heartbeats never go back.
    positions_strictly_increase,
    // For every position seen (baseline, changes, heartbeats, last ack):
    // from_string(to_string(p)) == p and compares 0; pairs keep their order through strings;
    // equal strings exactly for equal positions; compare_positions is antisymmetric.
    position_strings_round_trip_and_agree_with_compare,
    // Each of options.malformed_positions (or the kit's list) throws laredo::error with
    // errc::invalid_position and a message that contains the string.
    malformed_position_strings_are_rejected,
    // What is observable of connecting -> connected -> streaming -> paused -> streaming ->
    // closed: connected after init, validate_tables and baseline; streaming once stream()
    // runs; paused after pause(); streaming after resume(); connected after stream() returned
    // on cancellation (the connection stays open for the final ack); closed after close().
    // `connecting` lasts only while init runs and is not checked; error/reconnecting are
    // checked by source_failure_surfaces_as_an_error.
    state_follows_the_lifecycle,
    // The full lifecycle on an io_context of the case's own; after close() returns, the
    // context runs out of work by itself within stop_bound (no timer, socket operation or
    // posted handler left), and no file descriptor opened since the source was created is
    // still open (/proc/self/fd; the other end of a connection gets stop_bound to close).
    // The source object is still alive: close() must release, not the destructor.
    close_releases_everything,
    // engine: while the engine streams on at least 4 threads and changes keep coming, 4 other
    // threads call state(), lag(), ordering(), the position functions, ack() (posted onto the
    // source's executor) and pause()/resume() (through the engine). Every change reaches the
    // targets exactly once and every pipeline streams afterwards. Data races show under
    // ThreadSanitizer (meson -Dsanitizers=thread). Asio 1.26 releases an any_io_executor's
    // shared target with a fence TSan does not model: run with the suppressions laredo
    // installs (TSAN_OPTIONS=suppressions=<share/laredo/tsan-suppressions.txt>; pkg-config
    // --variable=tsan_suppressions laredo-testing) or that false report fails the run.
    concurrent_calls_while_streaming_are_safe,
    // Resume sources: last_acked_position() returns each ack, also on a new source over the
    // same upstream, and can_resume_from(it) is true there. Others: it returns nullopt.
    last_acked_position_returns_what_was_acked,
    // engine, resume sources (skipped otherwise): an engine with one pipeline per table
    // streams changes and stops; more changes are made; a new engine over a new source and
    // the same targets (which keep their positions) starts without a baseline, and the
    // targets have every change made before, between and after the two engines exactly once.
    restarted_engine_resumes_without_baseline_or_loss,
};

struct checklist_entry {
    conformance_check check;
    std::string_view name;         // the test case name, e.g. "positions_strictly_increase"
    std::string_view description;  // what the case verifies, one sentence
};

// Every item, in the order the guide lists them.
std::span<const checklist_entry> checklist() noexcept;
std::string_view name_of(conformance_check check) noexcept;

// What one check observed.
struct check_result {
    std::string item;                    // the checklist item's name
    std::vector<std::string> failures;   // each starts with "<item>: "
    std::optional<std::string> skipped;  // why the item does not apply to this source
    bool passed() const noexcept { return failures.empty(); }
    // The failures, one a line (or "<item>: skipped: why", or "<item>: passed").
    std::string to_string() const;
};

// Runs one check outside GoogleTest (a fresh fixture from `make_fixture`) and returns what it
// observed. The kit's own tests use it to prove each check fails for a broken source.
check_result run_conformance_check(conformance_check check, const fixture_factory& make_fixture,
                                   const conformance_options& options = {});

// Registers `conformance/<name>.<item>` for every checklist item with GoogleTest (call it
// before RUN_ALL_TESTS). A case fails with one failure per problem, and is skipped (with the
// reason) when its item does not apply (resume for a source without it; a fixture that cannot
// break its upstream). `name` must be a valid test suite name part: letters, digits, '_'.
void register_conformance_tests(const std::string& name, fixture_factory make_fixture,
                                conformance_options options = {});

}  // namespace laredo::testing
