// concurrent_calls_while_streaming_are_safe, last_acked_position_returns_what_was_acked,
// restarted_engine_resumes_without_baseline_or_loss.
#include "checks.hpp"

#include "laredo/engine.hpp"
#include "laredo/testing/recording_target.hpp"

#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

namespace laredo::testing::detail {

using boost::asio::awaitable;
using boost::asio::use_awaitable;

namespace {

const std::string source_id = "conformance";

// The engine cases' targets record every baseline row and change they are handed, so a case
// can tell a lost change from a duplicate (a final state could not). A persistent one keeps
// its position across engines (an embedder handing the same target to a new engine), which
// is what lets the engine resume.
using target_list = std::vector<std::shared_ptr<recording_target>>;

std::shared_ptr<recording_target> make_target(bool persistent) {
    auto target = std::make_shared<recording_target>("conformance");
    target->set_persistent(persistent);
    return target;
}

engine build_engine(case_env& env, std::shared_ptr<sync_source> src,
                    const std::vector<table_identifier>& tables, const target_list& targets) {
    engine_options options;
    options.shutdown_timeout = env.options.deadline;
    options.source_retry.attempts = 2;
    options.source_retry.initial = milliseconds(10);
    engine::builder b;
    b.with_options(options).add_source(source_id, std::move(src));
    for (std::size_t i = 0; i < tables.size(); ++i)
        b.add_pipeline(source_id, tables[i], targets[i]);
    auto eng = b.build(env.ctx().get_executor());
    env.keep(std::make_shared<engine>(eng));
    return eng;
}

std::string describe_pipelines(const engine& eng) {
    std::vector<std::string> out;
    for (const auto& p : eng.pipelines()) {
        out.push_back(fmt::format("{} is {}{}", p.id, to_string(p.state),
                                  p.last_error.empty() ? "" : " (" + p.last_error + ")"));
    }
    return list_some(out, out.size());
}

awaitable<void> start_engine(case_env& env, engine& eng, const std::string& which) {
    co_await call(env, which + " start", env.ctx().get_executor(),
                  eng.async_start(with_diagnostics(use_awaitable)));
    env.rep.set_step(which + " to become ready");
    auto ready =
        spawn(env.ctx().get_executor(), eng.async_await_ready(with_diagnostics(use_awaitable)));
    if (!co_await wait_done(ready, env.options.deadline)) {
        env.rep.abort(fmt::format("{} did not become ready within {} ms: {}", which,
                                  env.options.deadline.count(), describe_pipelines(eng)));
    }
    if (auto e = ready->error())
        env.rep.abort(fmt::format("{} failed before it was ready: {}", which, describe(e)));
}

awaitable<void> stop_engine(case_env& env, engine& eng, const std::string& which) {
    co_await call(env, which + " stop", env.ctx().get_executor(),
                  eng.async_stop(with_diagnostics(use_awaitable)));
}

std::vector<change_key> all_changes(const target_list& targets) {
    std::vector<change_key> out;
    for (const auto& t : targets) {
        for (const auto& c : t->changes()) out.push_back(key_of_event(c));
    }
    return out;
}

// Waits until the targets hold every expected change, then compares exactly.
awaitable<void> await_targets(case_env& env, const target_list& targets,
                              const std::vector<change_key>& expected, const engine& eng,
                              const std::string& what) {
    env.rep.set_step("the targets to receive " + what);
    const std::function<bool()> arrived = [&targets, &expected] {
        std::size_t n = 0;
        for (const auto& t : targets) n += t->change_count();
        return n >= expected.size();
    };
    const bool complete = co_await eventually(arrived, env.options.deadline);
    const auto diff = compare_deliveries(expected, all_changes(targets));
    if (!diff.missing.empty()) {
        env.rep.abort(
            fmt::format("{} of the {} changes made ({}) did not reach the engine's "
                        "targets{}: {}; pipelines: {}",
                        diff.missing.size(), expected.size(), what,
                        complete ? "" : fmt::format(" within {} ms", env.options.deadline.count()),
                        list_some(describe_all(diff.missing)), describe_pipelines(eng)));
    }
    if (!diff.extra.empty()) {
        env.rep.fail(fmt::format(
            "the engine's targets received {} change(s) more than the {} "
            "made ({}): {}",
            diff.extra.size(), expected.size(), what, list_some(describe_all(diff.extra))));
    }
}

// ---- concurrency ----

struct hammer_shared {
    std::atomic<bool> stop{false};
    std::atomic<int> finished{0};
    std::atomic<int> rounds{0};
};

template <class Future>
bool settle(Future& f, milliseconds limit, report& rep, const std::string& what) {
    if (f.wait_for(limit) != std::future_status::ready) {
        rep.fail(fmt::format("{} did not complete within {} ms", what, limit.count()));
        return false;
    }
    try {
        f.get();
    } catch (...) {
        rep.fail(fmt::format("{} threw: {}", what, describe(std::current_exception())));
        return false;
    }
    return true;
}

// One thread of callers: the plain functions directly, ack posted onto the source's
// executor (as the engine does), pause and resume through the engine.
void hammer(int index, engine eng, std::shared_ptr<sync_source> src, report& rep,
            hammer_shared& shared, milliseconds limit) {
    // At least a few dozen rounds each, and until the changes are all made.
    for (int i = 0; !shared.stop || i < 40; ++i) {
        (void)src->state();
        (void)src->lag();
        (void)src->ordering();
        (void)src->supports_resume();
        const auto info = eng.source(source_id);
        if (info && info->last_acked) {
            const position acked = *info->last_acked;
            try {
                const auto back = src->position_from_string(src->position_to_string(acked));
                (void)src->compare_positions(acked, back);
            } catch (...) {
                rep.fail(fmt::format("a position operation on another thread threw for {}: {}",
                                     acked.debug_string(), describe(std::current_exception())));
            }
            if (i % 4 == index % 4) {
                auto f = boost::asio::co_spawn(src->get_executor(), src->ack(acked),
                                               boost::asio::use_future);
                if (!settle(f, limit, rep, "ack(" + acked.debug_string() + ") from another thread"))
                    break;
            }
        }
        if (i % 4 == (index + 2) % 4) {
            auto paused = eng.async_pause(source_id, with_diagnostics(boost::asio::use_future));
            if (!settle(paused, limit, rep, "the engine's pause from another thread")) break;
            auto resumed = eng.async_resume(source_id, with_diagnostics(boost::asio::use_future));
            if (!settle(resumed, limit, rep, "the engine's resume from another thread")) break;
        }
        ++shared.rounds;
        std::this_thread::sleep_for(milliseconds(1));
    }
    ++shared.finished;
}

awaitable<void> concurrent(case_env& env) {
    driver d(env);
    co_await d.add_rows();
    auto src = co_await d.make_source();
    target_list targets;
    for (std::size_t i = 0; i < env.tables.size(); ++i) targets.push_back(make_target(false));
    auto eng = build_engine(env, src, env.tables, targets);
    co_await start_engine(env, eng, "the engine");
    co_await d.wait_streaming();

    constexpr int callers = 4;
    auto shared = std::make_shared<hammer_shared>();
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i)
        threads.emplace_back(hammer, i, eng, src, std::ref(env.rep), std::ref(*shared),
                             env.options.deadline);
    struct joiner {
        std::vector<std::thread>& threads;
        hammer_shared& shared;
        ~joiner() {
            shared.stop = true;
            for (auto& t : threads) t.join();
        }
    } join_at_exit{threads, *shared};

    // Changes spread over the time the other threads call in.
    for (std::size_t i = 0; i < 4; ++i) {
        co_await d.make_changes(env.options.changes / 2 + 1);
        co_await sleep_for(milliseconds(5));
    }
    shared->stop = true;
    const std::function<bool()> all_done = [&shared] { return shared->finished == callers; };
    if (!co_await eventually(all_done, env.options.deadline * 2))
        env.rep.abort("the calling threads did not finish");

    co_await call(env, "the engine's resume", env.ctx().get_executor(),
                  eng.async_resume(source_id, with_diagnostics(use_awaitable)));
    co_await await_targets(env, targets, d.expected(), eng, "while other threads called in");
    for (const auto& p : eng.pipelines()) {
        if (p.state != pipeline_state::streaming) {
            env.rep.fail("after the concurrent calls a pipeline is not streaming: " +
                         describe_pipelines(eng));
            break;
        }
    }
    co_await stop_engine(env, eng, "the engine");
}

// ---- last acked ----

awaitable<void> last_acked(case_env& env) {
    driver d(env);
    co_await d.add_rows();
    auto first = co_await d.make_source();
    co_await d.init();
    if (!first->supports_resume()) {
        const auto got = co_await d.on_source("last_acked_position", first->last_acked_position());
        if (got) {
            env.rep.fail(
                fmt::format("supports_resume() is false but last_acked_position() "
                            "returned {}; expected nullopt",
                            d.text(*got)));
        }
        co_await d.close();
        co_return;
    }
    const auto at = co_await d.baseline();
    d.start_stream(at);
    co_await d.wait_streaming();
    co_await d.make_changes(env.options.changes);
    co_await d.await_delivery();

    const auto events = d.rec().changes();
    std::vector<position> ends;
    for (const auto& e : events)
        if (e.ends_transaction && !e.pos.empty()) ends.push_back(e.pos);
    if (ends.empty()) env.rep.abort("no delivered change ends a transaction: nothing to ack");

    const auto expect_acked = [&](const position& want, const std::optional<position>& got,
                                  const std::string& when) {
        if (!got) {
            env.rep.fail(fmt::format("{}, last_acked_position() returned nullopt; expected {}",
                                     when, d.text(want)));
        } else if (first->compare_positions(*got, want) != 0) {
            env.rep.fail(fmt::format("{}, last_acked_position() returned {}; expected {}", when,
                                     d.text(*got), d.text(want)));
        }
    };
    const auto middle = ends[ends.size() / 2];
    co_await d.on_source("ack", first->ack(middle));
    auto got = co_await d.on_source("last_acked_position", first->last_acked_position());
    expect_acked(middle, got, "after ack(" + d.text(middle) + ")");
    const auto last = ends.back();
    co_await d.on_source("ack", first->ack(last));
    got = co_await d.on_source("last_acked_position", first->last_acked_position());
    expect_acked(last, got, "after ack(" + d.text(last) + ")");
    co_await d.cancel_stream();
    co_await d.close();

    // The ack is persisted upstream: a new source sees it.
    auto second = co_await d.make_source();
    co_await d.init();
    got = co_await d.on_source("last_acked_position", second->last_acked_position());
    // Upstream may keep positions more coarsely than the source hands them out (PostgreSQL
    // keeps the LSN of the acked transaction, not the row number inside it): a new source may
    // report a position at or before the last ack, as long as it is past the ack before.
    if (!got) {
        env.rep.fail(
            fmt::format("on a new source over the same upstream, last_acked_position() "
                        "returned nullopt; expected {}",
                        d.text(last)));
    } else if (second->compare_positions(*got, last) > 0 ||
               (second->compare_positions(*got, last) != 0 &&
                second->compare_positions(*got, middle) <= 0)) {
        env.rep.fail(
            fmt::format("on a new source over the same upstream, last_acked_position() "
                        "returned {}; expected {} (or a coarser position after {})",
                        d.text(*got), d.text(last), d.text(middle)));
    }
    if (!co_await d.on_source("can_resume_from", second->can_resume_from(last))) {
        env.rep.fail(
            fmt::format("can_resume_from({}) is false on a new source right after that "
                        "position was acked: the engine would take a baseline",
                        d.text(last)));
    }
    co_await d.close();
}

// ---- resume ----

awaitable<void> resume(case_env& env) {
    driver d(env);
    auto first = co_await d.make_source();
    if (!first->supports_resume()) {
        env.rep.skip("the source does not support resume (supports_resume() is false)");
        co_return;
    }
    co_await d.add_rows();
    // One pipeline per table: each target keeps its position (its last change, or the last
    // heartbeat), and the engine resumes from the lowest of them.
    const std::vector<table_identifier>& table = env.tables;
    target_list targets;
    for (std::size_t i = 0; i < table.size(); ++i) targets.push_back(make_target(true));
    const auto per_run = std::max<std::size_t>(env.options.changes / 3, 3);
    std::vector<change_key> expected;
    {
        auto eng = build_engine(env, first, table, targets);
        co_await start_engine(env, eng, "the first engine");
        co_await d.wait_streaming();
        {
            const auto made = co_await d.make_changes(per_run, true);
            expected.insert(expected.end(), made.begin(), made.end());
        }
        co_await await_targets(env, targets, expected, eng, "under the first engine");
        co_await stop_engine(env, eng, "the first engine");
    }
    // The lowest persisted position: where the restarted engine must be able to resume.
    std::optional<position> persisted;
    for (const auto& t : targets) {
        const auto p = t->persisted_position();
        if (!p) {
            persisted.reset();
            break;
        }
        if (!persisted || first->compare_positions(*p, *persisted) < 0) persisted = p;
    }
    // Changes while no engine runs.
    {
        const auto made = co_await d.make_changes(per_run, true);
        expected.insert(expected.end(), made.begin(), made.end());
    }

    auto second = co_await d.make_source();
    auto eng = build_engine(env, second, table, targets);
    co_await start_engine(env, eng, "the restarted engine");
    const bool baselined_again = std::any_of(targets.begin(), targets.end(), [](const auto& t) {
        return t->baselines_completed() != 1 || t->rebuilds() != 0;
    });
    if (baselined_again) {
        bool can = false;
        std::string why;
        try {
            if (persisted)
                can = co_await d.on_source("can_resume_from", second->can_resume_from(*persisted));
        } catch (const check_aborted&) {
            throw;
        } catch (...) {
            why = describe(std::current_exception());
        }
        // What the changes since would show is only the baseline that replaced them.
        env.rep.abort(fmt::format(
            "the restarted engine took a new baseline instead of resuming from the target's "
            "persisted position {} (can_resume_from({}) on the new source: {})",
            persisted ? d.text(*persisted) : "none", persisted ? d.text(*persisted) : "none",
            why.empty() ? (can ? "true" : "false") : "threw " + why));
    }
    co_await d.wait_streaming();
    {
        const auto made = co_await d.make_changes(per_run, true);
        expected.insert(expected.end(), made.begin(), made.end());
    }
    co_await await_targets(env, targets, expected, eng,
                           "before, between and after the two engines");
    co_await stop_engine(env, eng, "the restarted engine");
}

}  // namespace

void check_concurrent_calls_while_streaming(case_env& env) {
    env.run([&env] { return concurrent(env); });
}

void check_last_acked_position(case_env& env) {
    env.run([&env] { return last_acked(env); });
}

void check_restarted_engine_resumes(case_env& env) {
    env.run([&env] { return resume(env); });
}

}  // namespace laredo::testing::detail
