// baseline_delivers_every_row_exactly_once, stream_delivers_every_change_exactly_once,
// stream_runs_until_cancelled_then_completes_cleanly, source_failure_surfaces_as_an_error.
#include "checks.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace laredo::testing::detail {

using boost::asio::awaitable;

namespace {

void report_violations(case_env& env, recorder& rec) {
    for (const auto& v : rec.violations()) env.rep.fail(v);
}

// Every expected row once, nothing else, of the right columns.
void check_rows(case_env& env, driver& d, const std::vector<table_identifier>& asked,
                const std::string& call) {
    std::map<table_identifier, std::map<std::vector<value>, int>> seen;
    std::set<table_identifier> wrong_schema;
    for (const auto& [table, r] : d.rec().rows()) {
        if (std::find(asked.begin(), asked.end(), table) == asked.end()) {
            env.rep.fail(fmt::format("{} delivered a row of {}, a table it was not asked for", call,
                                     table.to_string()));
            return;
        }
        ++seen[table][r.key()];
        const auto s = d.schemas().find(table);
        if (s != d.schemas().end() && (!r.schema() || r.schema()->columns() != s->second) &&
            wrong_schema.insert(table).second) {
            env.rep.fail(
                fmt::format("{} delivered rows of {} whose columns differ from the ones "
                            "init reported",
                            call, table.to_string()));
        }
    }
    for (const auto& t : asked) {
        auto& keys = seen[t];
        std::vector<std::string> missing, repeated;
        for (std::uint64_t id = 1; id <= env.options.rows_per_table; ++id) {
            const auto key = env.fixture.key_of(t, id);
            const auto it = keys.find(key);
            if (it == keys.end()) {
                missing.push_back(describe_key(key));
                continue;
            }
            if (it->second > 1)
                repeated.push_back(fmt::format("{} ({} times)", describe_key(key), it->second));
            keys.erase(it);
        }
        if (!missing.empty())
            env.rep.fail(fmt::format("{} did not deliver {} of the {} rows of {}: {}", call,
                                     missing.size(), env.options.rows_per_table, t.to_string(),
                                     list_some(missing)));
        if (!repeated.empty())
            env.rep.fail(fmt::format("{} delivered rows of {} more than once: {}", call,
                                     t.to_string(), list_some(repeated)));
        if (!keys.empty()) {
            std::vector<std::string> unknown;
            for (const auto& [k, n] : keys) unknown.push_back(describe_key(k));
            env.rep.fail(fmt::format("{} delivered rows of {} the fixture never added: {}", call,
                                     t.to_string(), list_some(unknown)));
        }
    }
}

// Nothing delivered beyond the changes made.
void check_no_extras(case_env& env, driver& d) {
    std::vector<change_key> delivered;
    for (const auto& e : d.rec().changes()) delivered.push_back(key_of_event(e));
    const auto diff = compare_deliveries(d.expected(), delivered);
    if (!diff.extra.empty()) {
        env.rep.fail(fmt::format(
            "stream() delivered {} change(s) beyond the {} made (duplicates, "
            "or baseline rows sent again): {}",
            diff.extra.size(), d.expected().size(), list_some(describe_all(diff.extra))));
    }
}

awaitable<void> baseline_rows(case_env& env) {
    driver d(env);
    co_await d.add_rows();
    co_await d.make_source();
    co_await d.init();
    const auto at = co_await d.baseline();
    check_rows(env, d, env.tables, "baseline");

    // The engine reloads one table with the same call.
    d.rec().clear_rows();
    const std::vector<table_identifier> first{env.tables.front()};
    co_await d.on_source("baseline of one table", d.source().baseline(first, d.rec()));
    check_rows(env, d, first, "baseline of one table");
    report_violations(env, d.rec());

    // The position it returned is where stream() starts: what changes afterwards arrives,
    // and nothing of the baseline comes again.
    d.start_stream(at);
    co_await d.wait_streaming();
    co_await d.make_changes(env.tables.size());
    co_await d.await_delivery();
    check_no_extras(env, d);
    co_await d.cancel_stream();
    co_await d.close();
}

awaitable<void> every_change(case_env& env) {
    driver d(env);
    co_await d.add_rows();
    co_await d.make_source();
    co_await d.init();
    const auto at = co_await d.baseline();
    d.rec().set_call_delay(milliseconds(2));  // a pipeline that takes its time: backpressure
    d.start_stream(at);
    co_await d.wait_streaming();
    co_await d.make_changes(env.options.changes);
    co_await d.await_delivery();
    check_no_extras(env, d);
    report_violations(env, d.rec());

    const auto events = d.rec().changes();
    const auto order = d.source().ordering();
    std::size_t shown = 0;
    for (std::size_t i = 0; i < events.size() && shown < 3; ++i) {
        const auto& e = events[i];
        const auto what = describe(key_of_event(e));
        const bool has_new = !e.new_values.empty();
        if ((e.action == change_action::insert || e.action == change_action::update) && !has_new) {
            env.rep.fail(fmt::format("change #{} ({}) has no new_values", i + 1, what));
            ++shown;
        }
        if (e.action != change_action::truncate && e.identity().empty()) {
            env.rep.fail(fmt::format("change #{} ({}) carries no row to identify it", i + 1, what));
            ++shown;
        }
        const auto s = d.schemas().find(e.table);
        if (has_new && s != d.schemas().end() && e.new_values.schema()->columns() != s->second) {
            env.rep.fail(
                fmt::format("change #{} ({}) carries columns other than the ones init "
                            "reported",
                            i + 1, what));
            ++shown;
        }
    }
    if (!events.empty() && !events.back().ends_transaction) {
        env.rep.fail(
            "the last change delivered does not end its transaction "
            "(ends_transaction): targets would hold it back");
    }

    // Order: as made, for a total order; per table for a per-table order.
    if (order == ordering_guarantee::total_order || order == ordering_guarantee::per_table_order) {
        for (const auto& t : env.tables) {
            std::vector<change_key> made, got;
            for (const auto& c : d.expected())
                if (order == ordering_guarantee::total_order || c.table == t) made.push_back(c);
            for (const auto& e : events)
                if (order == ordering_guarantee::total_order || e.table == t)
                    got.push_back(key_of_event(e));
            const auto n = std::min(made.size(), got.size());
            for (std::size_t i = 0; i < n; ++i) {
                if (made[i] == got[i]) continue;
                env.rep.fail(fmt::format(
                    "ordering() is {} but change #{}{} delivered is {}, while the change made "
                    "#{} is {}",
                    to_string(order), i + 1,
                    order == ordering_guarantee::total_order ? "" : " of " + t.to_string(),
                    describe(got[i]), i + 1, describe(made[i])));
                break;
            }
            if (order == ordering_guarantee::total_order) break;
        }
        // With the order as made, each transaction's last change must end it.
        if (order == ordering_guarantee::total_order && events.size() == d.expected().size()) {
            for (const auto end : d.transaction_ends()) {
                if (!events[end].ends_transaction) {
                    env.rep.fail(fmt::format(
                        "change #{} ({}) is the last of a transaction the fixture made but "
                        "does not set ends_transaction",
                        end + 1, describe(key_of_event(events[end]))));
                    break;
                }
            }
        }
    }
    co_await d.cancel_stream();
    co_await d.close();
}

awaitable<void> until_cancelled(case_env& env) {
    driver d(env);
    co_await d.add_rows();
    co_await d.make_source();
    co_await d.init();
    const auto at = co_await d.baseline();
    d.start_stream(at);

    // With nothing to deliver, stream() keeps running.
    auto still_running = [&](const char* when) {
        if (!d.stream_done()) return;
        if (auto e = d.stream_error())
            env.rep.abort(
                fmt::format("stream() threw {} before it was cancelled: {}", when, describe(e)));
        env.rep.abort(
            fmt::format("stream() returned {} before it was cancelled (having "
                        "delivered {} changes)",
                        when, d.rec().change_count()));
    };
    co_await d.wait_streaming();
    co_await sleep_for(env.options.idle_period);
    still_running("while idle");

    co_await d.make_changes(3);
    co_await d.await_delivery();
    co_await sleep_for(env.options.idle_period);
    still_running("after delivering every change");

    co_await d.cancel_stream();
    // Cancellation leaves the connection open: the engine's final ack still works.
    if (const auto last = d.rec().last_position())
        co_await attempt(d, "ack after stream() returned (the final ack)", d.source().ack(*last));
    co_await d.close();
}

awaitable<void> failure(case_env& env) {
    driver d(env);
    co_await d.add_rows();
    co_await d.make_source();
    co_await d.init();
    const auto at = co_await d.baseline();
    d.start_stream(at);
    co_await d.wait_streaming();
    co_await d.make_changes(2);
    co_await d.await_delivery();

    bool broken = false;
    auto& fixture = env.fixture;
    const std::function<void()> do_break = [&broken, &fixture] {
        broken = fixture.break_upstream();
    };
    co_await on_fixture(env, "the fixture's break_upstream", do_break);
    if (!broken) {
        env.rep.skip(
            "the fixture cannot break its upstream (conformance_fixture::break_upstream "
            "returned false)");
        co_await d.cancel_stream();
        co_await d.close();
        co_return;
    }
    env.rep.set_step("stream() to fail after the upstream broke");
    const bool ended = co_await wait_done(d.stream_state(), env.options.deadline);
    if (!ended) {
        env.rep.fail(
            fmt::format("stream() neither failed nor returned within {} ms after the "
                        "upstream broke: a failure must surface as an error, not a hang",
                        env.options.deadline.count()));
        co_await d.cancel_stream();
        co_await attempt(d, "close", d.source().close());
        co_return;
    }
    if (!d.stream_error()) {
        env.rep.fail(
            "stream() returned normally after the upstream broke: it must throw, so the "
            "engine retries or reports the failure");
    } else {
        const auto s = d.source().state();
        if (s == source_state::streaming || s == source_state::paused)
            env.rep.fail(fmt::format("state() is still {} after stream() failed ({})",
                                     state_text(s), describe(d.stream_error())));
    }
    co_await attempt(d, "close after stream() failed", d.source().close());
}

}  // namespace

void check_baseline_delivers_every_row_exactly_once(case_env& env) {
    env.run([&env] { return baseline_rows(env); });
}

void check_stream_delivers_every_change_exactly_once(case_env& env) {
    env.run([&env] { return every_change(env); });
}

void check_stream_runs_until_cancelled(case_env& env) {
    env.run([&env] { return until_cancelled(env); });
}

void check_source_failure_surfaces_as_an_error(case_env& env) {
    env.run([&env] { return failure(env); });
}

}  // namespace laredo::testing::detail
