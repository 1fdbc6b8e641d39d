#include "source_runner.hpp"

#include "failures.hpp"

#include "laredo/error.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace laredo::detail {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

// Holds the source's one reload slot (a reload, or a baseline of added tables) for a scope.
struct reload_slot {
    bool& running;
    async_signal& done;
    reload_slot(bool& r, async_signal& d) : running(r), done(d) { running = true; }
    ~reload_slot() {
        running = false;
        done.notify_all();
    }
    reload_slot(const reload_slot&) = delete;
    reload_slot& operator=(const reload_slot&) = delete;
};

// Runs one phase of the source (init, baseline, stream...) as a child coroutine that `sig`
// can cancel (terminal cancellation) without touching the runner's own coroutine.
template <class T>
awaitable<T> cancellable(asio::any_io_executor ex, awaitable<T> op,
                         asio::cancellation_signal& sig) {
    co_return co_await asio::co_spawn(ex, std::move(op),
                                      asio::bind_cancellation_slot(sig.slot(), use_awaitable));
}

awaitable<void> cancellable_void(asio::any_io_executor ex, awaitable<void> op,
                                 asio::cancellation_signal& sig) {
    co_await asio::co_spawn(ex, std::move(op),
                            asio::bind_cancellation_slot(sig.slot(), use_awaitable));
}

awaitable<void> sleep_on(asio::any_io_executor ex, std::chrono::milliseconds d) {
    asio::steady_timer timer(ex, d);
    co_await timer.async_wait(use_awaitable);
}

std::size_t approximate_bytes(const std::vector<change_event>& events) {
    std::size_t bytes = events.size() * sizeof(change_event);
    for (const auto& e : events) bytes += e.new_values.raw_size() + e.old_values.raw_size();
    return bytes;
}

}  // namespace

// Hands baseline rows to the pipelines of each table, as shared batches.
class source_runner::dispatch_sink : public baseline_sink {
  public:
    dispatch_sink(std::map<table_identifier, std::vector<std::shared_ptr<pipeline>>> to,
                  engine_observer* observer)
        : to_(std::move(to)), observer_(observer) {}

    void on_estimate(const table_identifier& table, std::uint64_t rows) override {
        const auto it = to_.find(table);
        if (it == to_.end() || !observer_) return;
        for (const auto& p : it->second) observer_->on_baseline_estimate(p->id(), table, rows);
    }

    awaitable<void> on_rows(const table_identifier& table, std::vector<row> rows) override {
        const auto it = to_.find(table);
        if (it == to_.end() || rows.empty()) co_return;
        auto shared = std::make_shared<const std::vector<row>>(std::move(rows));
        for (auto& p : it->second) {
            baseline_work work;
            work.what = baseline_work::kind::rows;
            work.rows = shared;
            co_await p->push_baseline(std::move(work));
        }
    }

  private:
    std::map<table_identifier, std::vector<std::shared_ptr<pipeline>>> to_;
    engine_observer* observer_;
};

source_runner::source_runner(std::string id, std::shared_ptr<sync_source> source,
                             std::size_t pipelines, std::shared_ptr<const engine_options> options,
                             stop_all_fn stop_all)
    : id_(std::move(id)),
      source_(std::move(source)),
      options_(std::move(options)),
      observer_(options_->observer.get()),
      stop_all_(std::move(stop_all)),
      ack_(id_, *source_, pipelines, observer_),
      stop_requested_(source_->get_executor()),
      finished_signal_(source_->get_executor()),
      drained_signal_(source_->get_executor()),
      release_signal_(source_->get_executor()),
      reload_done_(source_->get_executor()),
      machine_(options_->source_retry) {}

void source_runner::attach(std::shared_ptr<pipeline> p) {
    by_table_[p->table()].push_back(p);
    pipelines_.push_back(std::move(p));
}

void source_runner::set_schema(std::size_t local, schema_ptr schema) {
    std::lock_guard lock(schemas_mutex_);
    schemas_[pipelines_.at(local)->table()] = std::move(schema);
}

void source_runner::report_lag() {
    if (!observer_) return;
    const auto now = std::chrono::steady_clock::now();
    if (lag_reported_ && now - lag_reported_at_ < std::chrono::seconds(1)) return;
    lag_reported_at_ = now;
    const auto lag = source_->lag();
    if (lag_reported_ && *lag_reported_ == lag) return;
    lag_reported_ = lag;
    observer_->on_lag_updated(id_, lag);
}

schema_ptr source_runner::schema_of(const table_identifier& table) const {
    std::lock_guard lock(schemas_mutex_);
    const auto it = schemas_.find(table);
    return it == schemas_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<pipeline>> source_runner::live_pipelines() const {
    std::vector<std::shared_ptr<pipeline>> out;
    for (const auto& p : pipelines_) {
        const auto s = p->state();
        if (s != pipeline_state::error && s != pipeline_state::stopped) out.push_back(p);
    }
    return out;
}

std::vector<table_identifier> source_runner::tables_of(
    const std::vector<std::shared_ptr<pipeline>>& ps) const {
    std::set<table_identifier> unique;
    for (const auto& p : ps) unique.insert(p->table());
    return {unique.begin(), unique.end()};
}

void source_runner::post_confirm(std::size_t local, position pos) {
    asio::post(source_->get_executor(), [self = shared_from_this(), local, pos = std::move(pos)] {
        self->ack_.confirm(local, pos);
    });
}

void source_runner::post_membership(std::size_t local, bool member) {
    asio::post(source_->get_executor(), [self = shared_from_this(), local, member] {
        self->ack_.set_member(local, member);
    });
}

void source_runner::post_failure(std::size_t, error_policy policy, std::string why) {
    if (policy == error_policy::isolate) return;  // the pipeline alone is in ERROR
    if (policy == error_policy::stop_all) {
        stop_all_(why);
        return;
    }
    auto self = shared_from_this();
    asio::co_spawn(source_->get_executor(), self->fail_all(std::move(why)), asio::detached);
}

void source_runner::post_reload_request(std::size_t local, std::string why) {
    auto self = shared_from_this();
    asio::co_spawn(source_->get_executor(), self->reload_requested(local, std::move(why)),
                   asio::detached);
}

awaitable<void> source_runner::reload_requested(std::size_t local, std::string why) {
    auto self = shared_from_this();
    const auto& p = pipelines_.at(local);
    if (observer_) observer_->on_rebaseline_triggered(id_, why);
    while (reload_running_) co_await reload_done_.wait();  // one reload at a time
    std::exception_ptr failure;
    try {
        co_await reload(p->table());
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure && observer_)
        observer_->on_change_error(p->id(), p->table(), change_action::truncate,
                                   "requested reload failed: " + describe(failure));
}

void source_runner::post_ack_cap(position pos) {
    asio::post(source_->get_executor(),
               [self = shared_from_this(), pos = std::move(pos)] { self->ack_.set_cap(pos); });
}

void source_runner::set_restore_snapshot(std::shared_ptr<snapshot> snap) {
    restore_ = std::move(snap);
}

void source_runner::start() {
    auto self = shared_from_this();
    std::set<table_identifier> tables;
    for (const auto& [table, ps] : by_table_) tables.insert(table);
    router_ = change_router(std::move(tables));
    auto ex = source_->get_executor();
    asio::co_spawn(
        ex,
        [](std::shared_ptr<source_runner> r) -> awaitable<void> { co_await r->ack_.run(); }(self),
        asio::detached);
    for (auto& p : pipelines_) p->start();
    asio::co_spawn(ex, run(), [self](std::exception_ptr e) {
        // run() handles its own failures; anything escaping is a bug worth reporting.
        if (e && self->observer_)
            self->observer_->on_source_disconnected(self->id_, "runner failed: " + describe(e));
        self->finished_ = true;
        self->finished_signal_.notify_all();
    });
}

namespace {

source_machine::failure failure_of(const std::exception_ptr& e) {
    return {retryable_source_failure(e), code_of(e) == errc::rebaseline_required, describe(e)};
}

source_machine::clock::time_point now() { return source_machine::clock::now(); }

}  // namespace

// The runner drives its machine: it performs what the machine answers and feeds back how it
// went. Only I/O lives here; every decision (retry or give up, rebuild or not, where to
// stream from, when to finish) is the machine's.
awaitable<void> source_runner::run() {
    using kind = source_machine::action::kind;
    auto self = shared_from_this();
    auto step = machine_.start(now());
    for (;;) {
        report(step.reports);
        auto next = std::move(step.next);
        switch (next.what) {
            case kind::init:
                step = co_await init_source();
                break;
            case kind::validate:
                step = co_await validate_source();
                break;
            case kind::resume: {
                auto from = co_await try_resume();
                if (from) co_await baseline_added_beside_stream();
                step = machine_.resumed(std::move(from), now());
                break;
            }
            case kind::restore: {
                bool partial = false;
                auto from = co_await try_restore(partial);
                if (from) co_await baseline_added_beside_stream();
                step = machine_.restored(std::move(from), partial, now());
                break;
            }
            case kind::baseline:
                step = co_await baseline_all(next.rebuild);
                break;
            case kind::stream:
                step = co_await stream_once(std::move(next.from), next.rewind);
                break;
            case kind::sleep:
                co_await backoff_sleep(next.delay);
                step = machine_.slept(now());
                break;
            case kind::fail_pipelines:
                co_await fail_pipelines(pipelines_, next.why);
                step = machine_.pipelines_failed();
                break;
            case kind::fail_baseline:
                for (const auto& p : std::exchange(baselining_, {})) {
                    baseline_work failed;
                    failed.what = baseline_work::kind::failed;
                    failed.failure = next.why;
                    co_await p->push_baseline(std::move(failed));
                }
                step = machine_.pipelines_failed();
                break;
            case kind::wait_for_stop:
                while (!machine_.stopping()) co_await stop_requested_.wait();
                step = machine_.stop_reached();
                break;
            case kind::finish:
                co_await finish();
                machine_.closed();
                co_return;
        }
    }
}

void source_runner::report(const std::vector<source_machine::report>& reports) {
    if (!observer_) return;
    for (const auto& r : reports) {
        switch (r.what) {
            case source_machine::report::kind::connected:
                observer_->on_source_connected(id_, source_->type_name());
                break;
            case source_machine::report::kind::disconnected:
                observer_->on_source_disconnected(id_, r.text);
                break;
            case source_machine::report::kind::rebaseline_triggered:
                observer_->on_rebaseline_triggered(id_, r.text);
                break;
        }
    }
}

awaitable<void> source_runner::baseline_added_beside_stream() {
    if (added_.empty() || machine_.stopping()) co_return;
    // Tables that joined the configuration since the state we resumed from: their pipelines
    // hold changes from now on and baseline beside the stream.
    for (const auto& p : added_) {
        baseline_work begin;
        begin.what = baseline_work::kind::begin;
        co_await p->push_baseline(std::move(begin));
    }
    asio::co_spawn(source_->get_executor(), baseline_added_tables(std::move(added_)),
                   asio::detached);
}

awaitable<void> source_runner::backoff_sleep(std::chrono::milliseconds d) {
    try {
        co_await cancellable_void(source_->get_executor(), sleep_on(source_->get_executor(), d),
                                  phase_cancel_);
    } catch (const boost::system::system_error&) {
        // cancelled by a stop: the machine knows it stops
    }
}

awaitable<void> source_runner::fail_pipelines(const std::vector<std::shared_ptr<pipeline>>& ps,
                                              const std::string& why) {
    for (const auto& p : ps) co_await p->fail(why);
}

awaitable<source_machine::step> source_runner::init_source() {
    const source_config config{tables_of(pipelines_)};
    std::exception_ptr failure;
    try {
        schemas_at_init_ =
            co_await cancellable(source_->get_executor(), source_->init(config), phase_cancel_);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) co_return machine_.init_failed(failure_of(failure), now());
    co_return machine_.init_succeeded();
}

awaitable<source_machine::step> source_runner::validate_source() {
    const auto schemas = std::exchange(schemas_at_init_, {});
    for (const auto& p : pipelines_) {
        schema_ptr schema = schema_of(p->table());
        if (!schema) {
            const auto it = schemas.find(p->table());
            if (it == schemas.end()) {
                co_await p->fail(fmt::format("source {} did not report table {} at init", id_,
                                             p->table().to_string()));
                continue;
            }
            std::string bad_schema;
            try {
                schema = row_schema::make(it->second);
            } catch (const std::exception& e) {
                bad_schema = fmt::format("table {}: {}", p->table().to_string(), e.what());
            }
            if (!schema) {
                co_await p->fail(bad_schema);
                continue;
            }
            std::lock_guard lock(schemas_mutex_);
            schemas_[p->table()] = schema;
        }
        std::exception_ptr failure;
        try {
            co_await p->init_target(schema);
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) co_await p->fail("target init failed: " + describe(failure));
    }

    const auto tables = tables_of(pipelines_);
    std::vector<validation_error> problems;
    std::exception_ptr failure;
    try {
        problems = co_await cancellable(source_->get_executor(), source_->validate_tables(tables),
                                        phase_cancel_);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) co_return machine_.validate_failed(describe(failure));
    for (const auto& problem : problems) {
        for (const auto& p : pipelines_) {
            if (!problem.table || *problem.table == p->table())
                co_await p->fail(problem.to_string());
        }
    }
    co_return machine_.validated(!live_pipelines().empty());
}

position lowest_position(const sync_source& source, const std::vector<position>& positions) {
    position lowest = positions.at(0);
    for (const auto& pos : positions)
        if (source.compare_positions(pos, lowest) < 0) lowest = pos;
    return lowest;
}

awaitable<bool> source_runner::can_stream_from(const position& from, std::string& failure) {
    try {
        co_return co_await cancellable(source_->get_executor(), source_->can_resume_from(from),
                                       phase_cancel_);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    co_return false;
}

awaitable<std::optional<position>> source_runner::try_resume() {
    if (!source_->supports_resume()) co_return std::nullopt;
    std::vector<std::shared_ptr<pipeline>> ps;
    std::vector<std::shared_ptr<pipeline>> added;
    std::vector<position> persisted;
    for (const auto& p : live_pipelines()) {
        auto pos = p->target()->persisted_position();
        if (!pos || pos->empty()) {
            added.push_back(p);  // a target with nothing kept: baselined on its own
            continue;
        }
        ps.push_back(p);
        persisted.push_back(std::move(*pos));
    }
    if (persisted.empty()) co_return std::nullopt;
    const position lowest = lowest_position(*source_, persisted);
    std::string check_failure;
    if (!co_await can_stream_from(lowest, check_failure)) {
        if (!check_failure.empty() && observer_)
            observer_->on_source_disconnected(id_, "resume check failed: " + check_failure);
        co_return std::nullopt;
    }
    for (std::size_t i = 0; i < ps.size(); ++i) {
        const auto& p = ps[i];
        ack_.expect(p->index(), persisted[i]);
        co_await p->resume_from(persisted[i]);
    }
    added_ = std::move(added);
    co_return lowest;
}

awaitable<std::optional<position>> source_runner::try_restore(bool& partial) {
    if (!restore_) co_return std::nullopt;
    auto snap = std::move(restore_);  // used once
    const auto& id = snap->descriptor.id;
    auto give_up = [&](const std::string& why) {
        if (observer_) observer_->on_snapshot_failed(id, why + "; taking a baseline");
    };
    if (!snap->descriptor.source_positions.count(id_)) {
        give_up(fmt::format("snapshot {} has no position for source {}", id, id_));
        co_return std::nullopt;
    }
    std::vector<std::shared_ptr<pipeline>> ps;
    std::vector<std::shared_ptr<pipeline>> added;
    std::vector<snapshot_table*> entries;
    std::vector<position> positions;
    for (const auto& p : live_pipelines()) {
        snapshot_table* entry = nullptr;
        for (auto& t : snap->tables)
            if (t.pipeline_id == p->id()) entry = &t;
        // Pipelines the snapshot cannot restore are baselined on their own, beside the
        // stream; the observer hears why.
        std::string why;
        const auto schema = schema_of(p->table());
        if (!entry) {
            why = fmt::format("snapshot {} has no table for pipeline {}", id, p->id());
        } else if (const auto shape = p->target_columns();
                   schema && shape && shape->fingerprint() != entry->schema_fingerprint) {
            // The stored rows have the target's columns (the source's after the transforms):
            // rows of an old shape must not be loaded.
            why = fmt::format("snapshot {}: the columns of {} changed since it was taken", id,
                              p->table().to_string());
        } else if (entry->position.empty()) {
            why = fmt::format("snapshot {} has no position for pipeline {}", id, p->id());
        } else {
            try {
                positions.push_back(source_->position_from_string(entry->position));
            } catch (const std::exception& e) {
                why = fmt::format("snapshot {}: pipeline {}: {}", id, p->id(), e.what());
            }
        }
        if (!why.empty()) {
            if (observer_) observer_->on_snapshot_failed(id, why + "; baselining that table");
            added.push_back(p);
            continue;
        }
        ps.push_back(p);
        entries.push_back(entry);
    }
    if (ps.empty()) co_return std::nullopt;
    const position lowest = lowest_position(*source_, positions);
    std::string check_failure;
    if (!co_await can_stream_from(lowest, check_failure)) {
        give_up(fmt::format("source {} cannot stream from the snapshot's position {}{}", id_,
                            source_->position_to_string(lowest),
                            check_failure.empty() ? "" : ": " + check_failure));
        co_return std::nullopt;
    }
    if (observer_) observer_->on_snapshot_restore_started(id);
    const auto started = std::chrono::steady_clock::now();
    std::uint64_t rows = 0;
    for (std::size_t i = 0; i < ps.size(); ++i) {
        const auto& p = ps[i];
        rows += entries[i]->rows.size();
        std::exception_ptr failure;
        try {
            partial = true;
            // Only the rows move: other sources' runners read the entries' ids meanwhile.
            auto& e = *entries[i];
            snapshot_table table{e.pipeline_id, e.source_id,          e.info,
                                 e.position,    e.schema_fingerprint, std::move(e.rows)};
            ack_.expect(p->index(), positions[i]);
            co_await p->restore_table(std::move(table), positions[i]);
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) {
            give_up(fmt::format("snapshot {}: restoring pipeline {} failed: {}", id, p->id(),
                                describe(failure)));
            co_return std::nullopt;
        }
    }
    partial = false;
    added_ = std::move(added);
    ack_.set_cap(lowest);
    if (observer_)
        observer_->on_snapshot_restore_completed(id, rows,
                                                 std::chrono::steady_clock::now() - started);
    co_return lowest;
}

awaitable<source_machine::step> source_runner::baseline_all(bool rebuild) {
    const auto ps = live_pipelines();
    if (ps.empty()) co_return machine_.pipelines_failed();
    std::map<table_identifier, std::vector<std::shared_ptr<pipeline>>> to;
    for (const auto& p : ps) to[p->table()].push_back(p);
    for (const auto& p : ps) {
        baseline_work begin;
        begin.what = baseline_work::kind::begin;
        begin.rebuild = rebuild;
        co_await p->push_baseline(std::move(begin));
    }
    dispatch_sink sink(std::move(to), observer_);
    const auto tables = tables_of(ps);
    std::exception_ptr failure;
    position end;
    try {
        end = co_await cancellable(source_->get_executor(), source_->baseline(tables, sink),
                                   phase_cancel_);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        baselining_ = ps;  // to fail, if the machine gives up
        co_return machine_.baseline_failed(failure_of(failure), now());
    }
    for (const auto& p : ps) {
        baseline_work done;
        done.what = baseline_work::kind::end;
        done.pos = end;
        ack_.expect(p->index(), end);
        co_await p->push_baseline(std::move(done));
    }
    co_return machine_.baseline_succeeded(std::move(end), now());
}

awaitable<source_machine::step> source_runner::stream_once(position from, bool rewind) {
    if (live_pipelines().empty()) co_return machine_.pipelines_failed();
    if (rewind) {
        // Pipelines skip what they applied before the source delivers it again.
        for (const auto& p : live_pipelines()) {
            change_work work;
            work.rewind = true;
            co_await p->push_changes(std::move(work));
        }
    }
    last_delivered_.reset();
    router_.reset();
    std::exception_ptr failure;
    try {
        co_await cancellable_void(source_->get_executor(), source_->stream(from, *this),
                                  phase_cancel_);
    } catch (...) {
        failure = std::current_exception();
    }
    // Stopped, or the source ended its stream by itself: nothing more will come.
    if (!failure) co_return machine_.stream_ended();
    if (live_pipelines().empty()) co_return machine_.pipelines_failed();
    co_return machine_.stream_failed(failure_of(failure), last_delivered_.has_value(),
                                     ack_.last_acked(), now());
}

awaitable<void> source_runner::finish() {
    // Once the buffers drain, the last delivered transaction is applied everywhere: let
    // pipelines that had no part in it confirm it too, so the final ACK covers it.
    if (last_delivered_ && at_transaction_boundary_) {
        for (const auto& p : live_pipelines()) {
            change_work beat;
            beat.heartbeat = *last_delivered_;
            co_await p->push_changes(std::move(beat));
        }
    }
    for (const auto& p : pipelines_) co_await p->drain();
    // The engine may take its shutdown snapshot now; the final ACK waits for it.
    drained_ = true;
    drained_signal_.notify_all();
    while (!released_) co_await release_signal_.wait();
    co_await ack_.flush();
    ack_.stop();
    for (const auto& p : pipelines_) co_await p->close();
    std::exception_ptr failure;
    try {
        co_await source_->close();
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure && observer_)
        observer_->on_source_disconnected(id_, "close error: " + describe(failure));
    finished_ = true;
    finished_signal_.notify_all();
}

awaitable<void> source_runner::stop_reading() {
    auto self = shared_from_this();
    if (!machine_.stopping()) {
        machine_.stop_requested();
        phase_cancel_.emit(asio::cancellation_type::terminal);
        reload_cancel_.emit(asio::cancellation_type::terminal);
        for (const auto& p : pipelines_) p->release_producers();
        stop_requested_.notify_all();
    }
    while (!drained_ && !finished_) co_await drained_signal_.wait();
}

awaitable<void> source_runner::release() {
    auto self = shared_from_this();
    released_ = true;
    release_signal_.notify_all();
    while (!finished_) co_await finished_signal_.wait();
}

void source_runner::abort() {
    for (const auto& p : pipelines_) p->abort();
    asio::post(source_->get_executor(), [self = shared_from_this()] {
        self->ack_.stop();
        self->released_ = true;
        self->release_signal_.notify_all();
    });
}

awaitable<void> source_runner::fail_all(std::string why) {
    auto self = shared_from_this();
    machine_.halt();
    co_await fail_pipelines(live_pipelines(), why);
    // Stop reading: the stream's phase ends, and run() waits for the engine to stop.
    phase_cancel_.emit(asio::cancellation_type::terminal);
    reload_cancel_.emit(asio::cancellation_type::terminal);
}

awaitable<void> source_runner::pause() {
    auto self = shared_from_this();
    for (const auto& p : pipelines_) co_await p->set_paused(true);
    co_await source_->pause();
}

awaitable<void> source_runner::resume() {
    auto self = shared_from_this();
    co_await source_->resume();
    for (const auto& p : pipelines_) co_await p->set_paused(false);
}

awaitable<void> source_runner::reload(table_identifier table) {
    auto self = shared_from_this();
    if (machine_.stopping()) throw error(errc::stopped, fmt::format("source {} is stopping", id_));
    if (machine_.halted())
        throw error(
            errc::stopped,
            fmt::format("source {} was stopped by its error policy; restart the engine", id_));
    std::vector<std::shared_ptr<pipeline>> ps;
    if (const auto it = by_table_.find(table); it != by_table_.end()) {
        for (const auto& p : it->second) {
            const auto s = p->state();
            // A pipeline in ERROR (isolated, or failed its baseline) recovers by reloading.
            if (s == pipeline_state::streaming || s == pipeline_state::paused ||
                s == pipeline_state::error)
                ps.push_back(p);
        }
    }
    if (ps.empty()) {
        throw error(errc::unknown_table, fmt::format("no active pipelines for source {} table {}",
                                                     id_, table.to_string()));
    }
    if (reload_running_) {
        throw error(errc::invalid_argument,
                    fmt::format("a reload of source {} is already running", id_));
    }
    reload_slot slot(reload_running_, reload_done_);
    {
        std::vector<std::shared_ptr<pipeline>> revived;
        for (const auto& p : ps)
            if (co_await p->revive()) revived.push_back(p);
        ps = std::move(revived);
    }
    if (ps.empty())
        throw error(errc::unknown_table, fmt::format("no pipeline of source {} table {} can reload",
                                                     id_, table.to_string()));

    co_await baseline_beside_stream(table, std::move(ps), false);
}

awaitable<void> source_runner::baseline_beside_stream(table_identifier table,
                                                      std::vector<std::shared_ptr<pipeline>> ps,
                                                      bool begun) {
    auto self = shared_from_this();
    std::vector<std::uint64_t> generations;
    for (const auto& p : ps) generations.push_back(co_await p->next_baseline_generation());
    if (!begun) {
        for (const auto& p : ps) {
            baseline_work begin;
            begin.what = baseline_work::kind::begin;
            begin.rebuild = true;
            co_await p->push_baseline(std::move(begin));
        }
    }
    std::map<table_identifier, std::vector<std::shared_ptr<pipeline>>> to{{table, ps}};
    dispatch_sink sink(std::move(to), observer_);
    const std::vector<table_identifier> tables{table};
    std::exception_ptr failure;
    position end;
    try {
        end = co_await cancellable(source_->get_executor(), source_->baseline(tables, sink),
                                   reload_cancel_);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        const auto why = "reload baseline failed: " + describe(failure);
        for (const auto& p : ps) {
            baseline_work failed;
            failed.what = baseline_work::kind::failed;
            failed.failure = why;
            co_await p->push_baseline(std::move(failed));
        }
        throw error(errc::source_failed, why);
    }
    for (const auto& p : ps) {
        baseline_work done;
        done.what = baseline_work::kind::end;
        done.pos = end;
        ack_.expect(p->index(), end);
        co_await p->push_baseline(std::move(done));
    }
    for (std::size_t i = 0; i < ps.size(); ++i) {
        const auto& p = ps[i];
        co_await p->wait_baseline_done(generations[i]);
    }
}

awaitable<void> source_runner::baseline_added_tables(std::vector<std::shared_ptr<pipeline>> added) {
    auto self = shared_from_this();
    // One table at a time, like reloads (a source runs one baseline beside its stream).
    while (reload_running_) co_await reload_done_.wait();
    reload_slot slot(reload_running_, reload_done_);
    for (const auto& table : tables_of(added)) {
        std::vector<std::shared_ptr<pipeline>> ps;
        for (const auto& p : added)
            if (p->table() == table) ps.push_back(p);
        try {
            co_await baseline_beside_stream(table, std::move(ps), true);
        } catch (const std::exception& e) {
            if (observer_) observer_->on_source_disconnected(id_, e.what());
        }
        if (machine_.stopping()) co_return;
    }
}

// ---------------------------------------------------------------------------------------
// change_handler: runs inside the source's stream(), on its executor.

awaitable<void> source_runner::on_changes(std::vector<change_event> batch) {
    if (batch.empty()) co_return;
    if (machine_.stopping()) throw error(errc::stopped, fmt::format("source {} is stopping", id_));
    for (const auto& e : batch) {
        if (e.pos.empty()) continue;
        if (last_delivered_ && source_->compare_positions(e.pos, *last_delivered_) <= 0) {
            throw error(errc::source_failed,
                        fmt::format("source {} delivered position {} after {}: positions must "
                                    "increase (announce re-delivery with on_rewind)",
                                    id_, source_->position_to_string(e.pos),
                                    source_->position_to_string(*last_delivered_)));
        }
        last_delivered_ = e.pos;
    }
    report_lag();
    auto routed = router_.route(std::move(batch));
    at_transaction_boundary_ = router_.at_boundary();
    for (auto& d : routed.deliveries)
        co_await dispatch(d.table, std::move(d.events), d.then_reached);
    // Every change up to the commit is queued now: pipelines with nothing pending reach it.
    if (!routed.last_commit.empty()) ack_.reached(routed.last_commit);
}

awaitable<void> source_runner::dispatch(const table_identifier& table,
                                        std::vector<change_event> events, position then_reached) {
    const auto it = by_table_.find(table);
    if (it == by_table_.end()) co_return;  // a table no pipeline asked for
    const std::size_t count = events.size();
    const std::size_t bytes = approximate_bytes(events);
    const auto confirm = confirmable_position(events, then_reached);
    auto shared = std::make_shared<const std::vector<change_event>>(std::move(events));
    for (const auto& p : it->second) {
        ack_.expect(p->index(), confirm);
        change_work work;
        work.events = shared;
        work.event_count = count;
        work.bytes = bytes;
        work.heartbeat = then_reached;
        co_await p->push_changes(std::move(work));
    }
}

awaitable<void> source_runner::on_heartbeat(position pos) {
    if (pos.empty() || machine_.stopping()) co_return;
    // A heartbeat is at or after everything delivered before it, and is what the final
    // heartbeat at stop repeats (finish()). One behind it must not take targets' positions
    // back.
    if (last_delivered_ && source_->compare_positions(pos, *last_delivered_) < 0) co_return;
    last_delivered_ = pos;
    report_lag();
    for (const auto& p : live_pipelines()) {
        change_work beat;
        beat.heartbeat = pos;
        co_await p->push_changes(std::move(beat));
    }
    ack_.reached(pos);
}

awaitable<void> source_runner::on_rewind(position) {
    last_delivered_.reset();  // order is checked again from the rewind on
    router_.reset();          // an open transaction is delivered again from its start
    for (const auto& p : live_pipelines()) {
        change_work rewind;
        rewind.rewind = true;
        co_await p->push_changes(std::move(rewind));
    }
}

}  // namespace laredo::detail
