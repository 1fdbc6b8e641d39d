#include "pipeline.hpp"

#include "change_router.hpp"
#include "failures.hpp"

#include "laredo/error.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace laredo::detail {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

awaitable<bool> cancelled() {
    auto state = co_await asio::this_coro::cancellation_state;
    co_return state.cancelled() != asio::cancellation_type::none;
}

}  // namespace

retry_policy recovery_retry_policy(const pipeline_options& o) {
    retry_policy p;
    p.initial = o.recover_after;
    p.max = o.recover_max_backoff;
    p.attempts = -1;  // a pipeline keeps trying to come back
    return p;
}

pipeline::pipeline(std::size_t index, std::string id, std::string source_id, table_identifier table,
                   std::shared_ptr<sync_target> target, pipeline_options options,
                   asio::any_io_executor executor, const sync_source* source,
                   std::shared_ptr<const engine_options> engine, pipeline_hooks hooks)
    : index_(index),
      id_(std::move(id)),
      source_id_(std::move(source_id)),
      table_(std::move(table)),
      target_(std::move(target)),
      options_(std::move(options)),
      strand_(asio::make_strand(executor)),
      source_(source),
      engine_(std::move(engine)),
      observer_(engine_->observer.get()),
      dead_letters_(engine_->dead_letters.get()),
      hooks_(std::move(hooks)),
      machine_(id_, recovery_retry_policy(options_), options_.retry),
      work_(strand_),
      space_(strand_),
      idle_(strand_) {}

schema_ptr pipeline::shape_columns(const schema_ptr& source) const {
    schema_ptr columns = source;
    for (const auto& t : options_.transforms) {
        auto next = t.columns(columns);
        if (!next) {
            throw error(errc::invalid_config,
                        fmt::format("pipeline {}: transform {} declares no columns for {}", id_,
                                    t.name(), table_.to_string()));
        }
        // The target finds rows by their key: a transform may rename a key column but not
        // remove it.
        if (next->key_indexes().size() < columns->key_indexes().size()) {
            std::string lost;
            for (const auto i : columns->key_indexes()) {
                const auto& name = columns->column(i).name;
                const auto j = next->index_of(name);
                if (!j || !next->column(*j).primary_key) lost += (lost.empty() ? "" : ", ") + name;
            }
            throw error(errc::invalid_config,
                        fmt::format("pipeline {}: transform {} removes key column {} of {}; "
                                    "the target finds rows by their key",
                                    id_, t.name(), lost, table_.to_string()));
        }
        columns = std::move(next);
    }
    return columns;
}

schema_ptr pipeline::target_columns() const {
    std::lock_guard lock(applied_mutex_);
    return target_schema_;
}

std::optional<position> pipeline::applied_position() const {
    std::lock_guard lock(applied_mutex_);
    return applied_;
}

std::string pipeline::last_error() const {
    std::lock_guard lock(applied_mutex_);
    return last_error_;
}

void pipeline::set_applied(const position& p) {
    std::lock_guard lock(applied_mutex_);
    applied_ = p;
}

void pipeline::execute(const pipeline_machine::actions& actions) {
    using kind = pipeline_machine::action::kind;
    for (const auto& a : actions) {
        switch (a.what) {
            case kind::state_changed: {
                // Whoever sees the new state also sees why (ERROR) or that it is gone.
                std::lock_guard lock(applied_mutex_);
                last_error_ = machine_.last_error();
            }
                state_.store(a.to);
                if (observer_) observer_->on_pipeline_state_changed(id_, a.from, a.to);
                break;
            case kind::reached_streaming:
                hooks_.reached_streaming(index_);
                break;
            case kind::entered_error:
                hooks_.entered_error(index_);
                break;
            case kind::leave_ack:
                hooks_.ack_membership(index_, false);
                break;
            case kind::join_ack:
                hooks_.ack_membership(index_, true);
                break;
            case kind::drop_buffer:
                drop_buffered();
                break;
            case kind::notify_failed: {
                std::lock_guard lock(applied_mutex_);
                last_error_ = machine_.last_error();  // also when it was in ERROR already
            }
                hooks_.failed(index_, a.policy, a.why);
                break;
            case kind::schedule_recovery:
                arm_recovery(a.delay);
                break;
            case kind::request_reload:
                hooks_.request_reload(index_, a.why);
                break;
            case kind::confirm:
                confirm_applied(a.pos);
                break;
        }
    }
    stale_.store(machine_.stale());
}

void pipeline::confirm_applied(const position& pos) {
    // A durable target holds everything handed to it: the pipeline has reached `pos` (for a
    // heartbeat, further than the target's own last change). Otherwise only what the target
    // itself reports as confirmed counts.
    if (target_->is_durable()) {
        hooks_.confirm(index_, pos);
    } else if (auto confirmed = target_->confirmed_position()) {
        hooks_.confirm(index_, *confirmed);
    }
}

void pipeline::failed(error_policy policy, const std::string& why) {
    execute(machine_.failed(policy, why, std::chrono::steady_clock::now()));
}

void pipeline::arm_recovery(std::chrono::milliseconds delay) {
    if (!recovery_timer_) recovery_timer_ = std::make_unique<asio::steady_timer>(strand_);
    recovery_timer_->expires_after(delay);
    auto self = shared_from_this();
    recovery_timer_->async_wait([self](boost::system::error_code ec) {
        if (ec || self->consumer_done_) return;
        self->execute(self->machine_.recovery_due());
    });
}

void pipeline::drop_buffered() {
    changes_.clear();
    baseline_.clear();
    queued_events_ = queued_bytes_ = queued_baseline_rows_ = 0;
    report_depth();
    work_.notify_all();
    space_.notify_all();
    idle_.notify_all();
}

void pipeline::report_depth() {
    depth_.store(queued_events_);
    if (observer_) observer_->on_buffer_depth_changed(id_, queued_events_, options_.buffer_size);
}

bool pipeline::fits(std::size_t events, std::size_t bytes) const noexcept {
    if (queued_events_ == 0) return true;  // a batch larger than the buffer still gets in
    return queued_events_ + events <= options_.buffer_size &&
           queued_bytes_ + bytes <= options_.buffer_bytes;
}

// ---------------------------------------------------------------------------------------
// Producer side.

awaitable<void> pipeline::init_target(schema_ptr schema) {
    auto self = shared_from_this();
    co_await asio::co_spawn(
        strand_,
        [](std::shared_ptr<pipeline> p, schema_ptr sc) -> awaitable<void> {
            auto shaped = p->shape_columns(sc);
            p->source_schema_ = std::move(sc);
            {
                std::lock_guard lock(p->applied_mutex_);
                p->target_schema_ = shaped;
            }
            co_await p->target_->on_init(p->table_, std::move(shaped));
        }(self, std::move(schema)),
        use_awaitable);
}

void pipeline::start() {
    auto self = shared_from_this();
    asio::co_spawn(strand_, consume(), [self](std::exception_ptr e) {
        if (e) self->failed(self->options_.on_error, "pipeline consumer failed: " + describe(e));
    });
    if (has_ttl() && options_.ttl_scan_interval.count() > 0) {
        ttl_timer_ = std::make_unique<asio::steady_timer>(strand_);
        asio::co_spawn(strand_, ttl_scan_loop(), asio::detached);
    }
    if (options_.validation_interval.count() > 0) {
        validation_timer_ = std::make_unique<asio::steady_timer>(strand_);
        asio::co_spawn(strand_, validation_loop(), asio::detached);
    }
}

awaitable<void> pipeline::resume_from(position from) {
    auto self = shared_from_this();
    co_await asio::co_spawn(
        strand_,
        [](std::shared_ptr<pipeline> p, position pos) -> awaitable<void> {
            if (p->out_of_service()) co_return;
            p->set_applied(pos);
            // The target kept its rows: count them, so validation has something to compare.
            const auto held = p->target_->row_count(p->table_);
            p->expected_known_ = held.has_value();
            p->expected_rows_ = held ? static_cast<std::int64_t>(*held) : 0;
            p->execute(p->machine_.resumed(pos));
        }(self, std::move(from)),
        use_awaitable);
}

// Producers hop onto the strand without connecting their cancellation to the hop: with
// Asio 1.26, a cancellation forwarded into a co_spawn on another strand is queued there and can
// run after the hop completed and freed its handler (seen as a crash in cancellation_signal
// ::emit when an engine stops on several threads). A stop reaches waiting producers through
// release_producers() instead.
namespace {
auto no_cancellation() {
    return asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable);
}
}  // namespace

void pipeline::release_producers() {
    auto self = shared_from_this();
    asio::post(strand_, [self] {
        self->producers_released_ = true;
        self->space_.notify_all();
    });
}

awaitable<void> pipeline::push_changes(change_work work) {
    co_await asio::co_spawn(strand_, push_changes_on_strand(std::move(work)), no_cancellation());
}

awaitable<void> pipeline::push_changes_on_strand(change_work work) {
    auto self = shared_from_this();  // producers may outlive nothing; keep us alive meanwhile
    if (!work.events) {
        // A heartbeat takes no room; consecutive ones collapse into the newest.
        if (out_of_service() || machine_.closed()) co_return;
        if (!work.rewind && !changes_.empty() && !changes_.back().events &&
            !changes_.back().rewind) {
            changes_.back().heartbeat = std::move(work.heartbeat);
        } else {
            changes_.push_back(std::move(work));
        }
        work_.notify_all();
        co_return;
    }
    while (!fits(work.event_count, work.bytes)) {
        if (out_of_service() || machine_.closed()) co_return;
        if (producers_released_) throw boost::system::system_error(asio::error::operation_aborted);
        if (machine_.producer_waits(options_.buffer)) {
            co_await space_.wait();
            continue;
        }
        co_await handle_overflow(work.event_count);
        break;
    }
    if (out_of_service() || machine_.closed()) co_return;
    if (!fits(work.event_count, work.bytes) && options_.buffer == buffer_policy::error) co_return;
    queued_events_ += work.event_count;
    queued_bytes_ += work.bytes;
    changes_.push_back(std::move(work));
    report_depth();
    work_.notify_all();
}

awaitable<void> pipeline::handle_overflow(std::size_t incoming) {
    if (observer_) observer_->on_buffer_policy_triggered(id_, options_.buffer);
    const auto now = std::chrono::steady_clock::now();
    if (options_.buffer == buffer_policy::drop_oldest) {
        execute(machine_.overflowed(false, options_.on_error, {}, now));
        while (!changes_.empty() && !fits(incoming, 0)) {
            queued_events_ -= changes_.front().event_count;
            queued_bytes_ -= changes_.front().bytes;
            changes_.pop_front();
        }
        report_depth();
        co_return;
    }
    // buffer_policy::error: the change is refused and the error policy decides.
    const std::string why =
        fmt::format("pipeline {}: buffer full ({} changes), change refused by buffer policy error",
                    id_, queued_events_);
    execute(machine_.overflowed(true, options_.on_error, why, now));
    if (options_.on_error != error_policy::isolate) throw error(errc::buffer_overflow, why);
}

awaitable<void> pipeline::push_baseline(baseline_work work) {
    co_await asio::co_spawn(strand_, push_baseline_on_strand(std::move(work)), no_cancellation());
}

awaitable<void> pipeline::push_baseline_on_strand(baseline_work work) {
    auto self = shared_from_this();
    const std::size_t rows = work.rows ? work.rows->size() : 0;
    while (queued_baseline_rows_ != 0 && queued_baseline_rows_ + rows > options_.buffer_size) {
        if (out_of_service() || machine_.closed()) co_return;
        if (producers_released_) throw boost::system::system_error(asio::error::operation_aborted);
        co_await space_.wait();
    }
    if (out_of_service() || machine_.closed()) co_return;
    queued_baseline_rows_ += rows;
    // Changes are held back from now on.
    if (work.what == baseline_work::kind::begin) execute(machine_.baseline_queued());
    baseline_.push_back(std::move(work));
    work_.notify_all();
}

awaitable<std::uint64_t> pipeline::next_baseline_generation() {
    auto self = shared_from_this();
    co_await asio::post(strand_, use_awaitable);
    co_return ++baseline_generation_;
}

awaitable<void> pipeline::wait_baseline_done(std::uint64_t generation) {
    auto self = shared_from_this();
    co_await asio::co_spawn(
        strand_,
        [](std::shared_ptr<pipeline> p, std::uint64_t gen) -> awaitable<void> {
            while (p->completed_generation_ < gen && !p->out_of_service()) co_await p->idle_.wait();
            if (p->completed_generation_ < gen) {
                throw error(errc::target_failed,
                            fmt::format("pipeline {} failed during the baseline: {}", p->id_,
                                        p->baseline_failure_.empty() ? "pipeline in ERROR"
                                                                     : p->baseline_failure_));
            }
        }(self, generation),
        use_awaitable);
}

awaitable<void> pipeline::set_paused(bool paused) {
    auto self = shared_from_this();
    co_await asio::co_spawn(
        strand_,
        [](std::shared_ptr<pipeline> p, bool pause) -> awaitable<void> {
            p->execute(p->machine_.set_paused(pause));
            p->work_.notify_all();
            p->space_.notify_all();
            co_return;
        }(self, paused),
        use_awaitable);
}

awaitable<void> pipeline::fail(std::string why) {
    auto self = shared_from_this();
    co_await asio::co_spawn(
        strand_,
        [](std::shared_ptr<pipeline> p, std::string reason) -> awaitable<void> {
            if (p->out_of_service()) co_return;
            p->baseline_failure_ = reason;
            p->execute(p->machine_.fail_requested(reason));
            co_return;
        }(self, std::move(why)),
        use_awaitable);
}

awaitable<void> pipeline::drain() {
    auto self = shared_from_this();
    co_await asio::co_spawn(
        strand_,
        [](std::shared_ptr<pipeline> p) -> awaitable<void> {
            p->draining_ = true;
            p->work_.notify_all();
            for (;;) {
                // Changes a baseline still holds back are not drained (they are not applied).
                const bool changes_done = p->changes_.empty() || !p->machine_.may_apply(true);
                if (p->consumer_done_ || p->out_of_service() ||
                    (p->baseline_.empty() && changes_done && !p->processing_))
                    co_return;
                co_await p->idle_.wait();
                if (co_await cancelled()) co_return;
            }
        }(self),
        use_awaitable);
}

awaitable<void> pipeline::close() {
    auto self = shared_from_this();
    co_await asio::co_spawn(
        strand_,
        [](std::shared_ptr<pipeline> p) -> awaitable<void> {
            if (p->machine_.closed()) co_return;
            p->execute(p->machine_.close_requested());
            if (p->recovery_timer_) p->recovery_timer_->cancel();
            if (p->ttl_timer_) p->ttl_timer_->cancel();
            if (p->validation_timer_) p->validation_timer_->cancel();
            p->work_.notify_all();
            p->space_.notify_all();
            while (p->processing_) co_await p->idle_.wait();
            std::exception_ptr close_failure;
            try {
                co_await p->target_->on_close(p->table_);
            } catch (...) {
                close_failure = std::current_exception();
            }
            p->execute(p->machine_.closed_done());
            if (close_failure && p->observer_)
                p->observer_->on_change_error(p->id_, p->table_, change_action::truncate,
                                              "close failed: " + describe(close_failure));
        }(self),
        use_awaitable);
}

void pipeline::abort() {
    auto self = shared_from_this();
    asio::post(strand_, [self] {
        self->execute(self->machine_.close_requested());
        if (self->recovery_timer_) self->recovery_timer_->cancel();
        if (self->ttl_timer_) self->ttl_timer_->cancel();
        if (self->validation_timer_) self->validation_timer_->cancel();
        self->drop_buffered();
    });
}

// ---------------------------------------------------------------------------------------
// Consumer side.

awaitable<void> pipeline::consume() {
    auto self = shared_from_this();
    for (;;) {
        if (machine_.closed() && !processing_) break;
        if (!tasks_.empty()) {
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            processing_ = true;
            co_await run_task(std::move(task));
            processing_ = false;
            idle_.notify_all();
            continue;
        }
        if (!baseline_.empty()) {
            auto work = std::move(baseline_.front());
            baseline_.pop_front();
            queued_baseline_rows_ -= work.rows ? work.rows->size() : 0;
            space_.notify_all();
            processing_ = true;
            co_await process_baseline(std::move(work));
            processing_ = false;
            idle_.notify_all();
            continue;
        }
        if (machine_.may_apply(draining_) && !changes_.empty()) {
            auto work = std::move(changes_.front());
            changes_.pop_front();
            queued_events_ -= work.event_count;
            queued_bytes_ -= work.bytes;
            if (work.events) report_depth();
            space_.notify_all();
            processing_ = true;
            co_await process_changes(std::move(work));
            processing_ = false;
            idle_.notify_all();
            continue;
        }
        idle_.notify_all();
        co_await work_.wait();
        if (co_await cancelled()) break;
    }
    consumer_done_ = true;
    fail_pending_tasks();
    idle_.notify_all();
}

bool pipeline::included(const row& r) const {
    for (const auto& f : options_.filters)
        if (!f(table_, r)) return false;
    return true;
}

std::optional<row> pipeline::transformed(row r) const {
    for (const auto& t : options_.transforms) {
        auto next = t(table_, std::move(r));
        if (!next) return std::nullopt;
        r = std::move(*next);
    }
    return r;
}

std::optional<row> pipeline::shape_row(row r) const {
    if (!included(r)) return std::nullopt;
    auto t = transformed(std::move(r));
    if (t && expired(*t, now_)) return std::nullopt;
    return t;
}

awaitable<void> pipeline::process_baseline(baseline_work work) {
    if (out_of_service()) co_return;
    try {
        switch (work.what) {
            case baseline_work::kind::begin:
                rebuilding_ = work.rebuild;
                baseline_rows_ = 0;
                expected_rows_ = 0;
                expected_known_ = true;
                baseline_started_ = std::chrono::steady_clock::now();
                execute(machine_.baseline_begin());
                if (observer_) observer_->on_baseline_started(id_, table_);
                if (work.rebuild) co_await target_->begin_rebuild(table_);
                break;
            case baseline_work::kind::rows: {
                baseline_rows_ += work.rows->size();
                if (options_.filters.empty() && options_.transforms.empty() && !has_ttl()) {
                    co_await target_->on_baseline_rows(table_, *work.rows);
                    expected_rows_ += static_cast<std::int64_t>(work.rows->size());
                } else {
                    now_ = std::chrono::system_clock::now();
                    std::vector<row> shaped;
                    shaped.reserve(work.rows->size());
                    for (const auto& r : *work.rows)
                        if (auto s = shape_row(r)) shaped.push_back(std::move(*s));
                    if (!shaped.empty()) co_await target_->on_baseline_rows(table_, shaped);
                    expected_rows_ += static_cast<std::int64_t>(shaped.size());
                }
                if (observer_) observer_->on_baseline_row_loaded(id_, table_, baseline_rows_);
                break;
            }
            case baseline_work::kind::end: {
                target_->set_change_position(work.pos);
                co_await target_->on_baseline_complete(table_, work.pos);
                if (rebuilding_) co_await target_->commit_rebuild(table_);
                if (observer_)
                    observer_->on_baseline_completed(
                        id_, table_, baseline_rows_,
                        std::chrono::steady_clock::now() - baseline_started_);
                rebuilding_ = false;
                set_applied(work.pos);
                completed_generation_ = baseline_generation_;
                auto done = machine_.baseline_end(work.pos);
                // Validated before the pipeline counts as ready, so whoever sees it ready
                // also sees the result.
                validate("after baseline");
                execute(done);
                break;
            }
            case baseline_work::kind::failed:
                baseline_failure_ = work.failure;
                execute(machine_.baseline_failed(work.failure, std::chrono::steady_clock::now()));
                break;
        }
    } catch (...) {
        const auto why = fmt::format("pipeline {}: baseline of {} failed in the target: {}", id_,
                                     table_.to_string(), describe(std::current_exception()));
        baseline_failure_ = why;
        execute(machine_.baseline_failed(why, std::chrono::steady_clock::now()));
    }
}

bool pipeline::needs_rewrite(const change_event& e) const {
    if (!options_.filters.empty() || !options_.transforms.empty() || has_ttl()) return true;
    if (machine_.skip_through()) return true;
    return target_->keeps_rows() && e.action == change_action::update &&
           !e.new_values.is_complete();
}

void pipeline::rewrite(const change_event& e, std::vector<change_event>& out) const {
    if (e.action == change_action::truncate) {
        out.push_back(e);
        return;
    }
    const bool keeps = target_->keeps_rows();
    std::optional<row> stored;
    if (keeps && e.action != change_action::insert) stored = target_->find(e.identity());

    // Unchanged (TOASTed) columns take the stored value first, so filters and transforms see
    // the whole row (docs/design.md, "Unchanged TOAST values").
    row new_values = e.new_values;
    if (stored && !new_values.empty() && !new_values.is_complete()) {
        for (std::size_t i = 0; i < new_values.size(); ++i) {
            if (!new_values[i].is_unchanged()) continue;
            if (const value* v = stored->find(new_values.schema()->column(i).name))
                new_values.set(i, *v);
        }
    }

    const bool filtering = !options_.filters.empty();
    // Was the row in the target before this change? A target that keeps rows knows; else a
    // complete old row can be asked; else assume it was (a delete of a missing row is a no-op).
    auto was_included = [&]() {
        if (!filtering) return true;
        if (keeps) return stored.has_value();
        if (!e.old_values.empty() && e.old_values.is_complete()) return included(e.old_values);
        return true;
    };
    // The key of the row the change is about. e.new_values, not new_values: the latter may
    // have been moved into a transform; key columns are never unchanged values.
    auto shaped_identity = [&]() -> row {
        const row& id = e.old_values.empty() ? e.new_values : e.old_values;
        auto t = transformed(id);
        return t ? std::move(*t) : id;
    };

    change_event shaped = e;
    switch (e.action) {
        case change_action::insert: {
            if (filtering && !included(new_values)) return;
            auto t = transformed(std::move(new_values));
            if (!t || expired(*t, now_)) return;  // an expired row is never stored
            shaped.new_values = std::move(*t);
            out.push_back(std::move(shaped));
            return;
        }
        case change_action::update: {
            const bool now_in = !filtering || included(new_values);
            const bool was_in = was_included();
            std::optional<row> t;
            if (now_in) t = transformed(std::move(new_values));
            if (t && expired(*t, now_)) t.reset();  // an update that expires the row deletes it
            if (t) {
                shaped.new_values = std::move(*t);
                if (!e.old_values.empty()) shaped.old_values = shaped_identity();
                // A row that starts matching is inserted.
                if (!was_in) {
                    shaped.action = change_action::insert;
                    shaped.old_values = row();
                }
                out.push_back(std::move(shaped));
            } else if (was_in) {
                // A row that stops matching (or a transform drops) is deleted.
                shaped.action = change_action::delete_;
                shaped.old_values = shaped_identity();
                shaped.new_values = row();
                out.push_back(std::move(shaped));
            }
            return;
        }
        case change_action::delete_: {
            if (!was_included()) return;
            shaped.old_values = shaped_identity();
            shaped.new_values = row();
            out.push_back(std::move(shaped));
            return;
        }
        case change_action::truncate:
            return;
    }
}

awaitable<void> pipeline::process_changes(change_work work) {
    if (out_of_service()) co_return;
    if (work.rewind) {
        machine_.rewind(applied_position());
        co_return;
    }
    if (!work.events) {
        if (machine_.discarding_changes()) co_return;  // changes were not applied: no confirm
        // Everything queued before the heartbeat is applied: the source has reached it.
        target_->on_position_reached(table_, work.heartbeat);
        set_applied(work.heartbeat);
        execute(machine_.applied(work.heartbeat));
        co_return;
    }
    const auto& events = *work.events;
    if (observer_)
        for (const auto& e : events) observer_->on_change_received(id_, table_, e.action, e.pos);
    for (const auto& e : events) {
        const auto& schema = e.new_values.empty() ? e.old_values.schema() : e.new_values.schema();
        if (!schema || schema == source_schema_) continue;
        if (source_schema_ && *schema == *source_schema_) {
            source_schema_ = schema;  // the same columns: remember the pointer
            continue;
        }
        co_await adopt_columns(schema);
        if (out_of_service()) co_return;
        break;
    }
    if (machine_.discarding_changes()) co_return;  // the reload's baseline brings these rows

    std::span<const change_event> to_apply(events);
    bool rewritten = false;
    for (const auto& e : events) {
        if (needs_rewrite(e)) {
            rewritten = true;
            break;
        }
    }
    if (rewritten) {
        now_ = std::chrono::system_clock::now();
        scratch_.clear();
        for (const auto& e : events) {
            const std::size_t before = scratch_.size();
            bool skipped = false;
            if (const auto& skip = machine_.skip_through()) {
                if (!e.pos.empty() && source_->compare_positions(e.pos, *skip) <= 0)
                    skipped = true;  // re-delivered: already applied or in the baseline
                else
                    machine_.passed_skip_point();
            }
            if (!skipped) rewrite(e, scratch_);
            // A transaction's end survives its last change being filtered out or skipped:
            // the change before it ends the transaction for the target.
            if (e.ends_transaction && scratch_.size() == before && !scratch_.empty())
                scratch_.back().ends_transaction = true;
        }
        to_apply = scratch_;
    }
    const auto started = std::chrono::steady_clock::now();
    if (!to_apply.empty()) co_await apply_with_retries(to_apply);
    if (out_of_service()) co_return;
    count_applied(to_apply);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    const position& last = work.heartbeat.empty() ? events.back().pos : work.heartbeat;
    if (!work.heartbeat.empty()) target_->on_position_reached(table_, work.heartbeat);
    if (!last.empty()) set_applied(last);
    // Only the end of a transaction is confirmed: a restart resumes from whole transactions.
    execute(machine_.applied(confirmable_position(events, work.heartbeat)));
    // Reported once everything about the batch is published (applied position, confirm).
    if (observer_)
        for (const auto& e : events) observer_->on_change_applied(id_, table_, e.action, elapsed);
}

awaitable<void> pipeline::apply_with_retries(std::span<const change_event> changes) {
    machine_.apply_started();
    for (int attempt = 0;; ++attempt) {
        std::exception_ptr failure;
        try {
            co_await target_->on_changes(table_, changes);
            co_return;
        } catch (...) {
            failure = std::current_exception();
        }
        const auto message = describe(failure);
        if (observer_) {
            const auto text = attempt == 0 ? message
                                           : fmt::format("retry {}/{}: {}", attempt,
                                                         options_.retry.attempts, message);
            observer_->on_change_error(id_, table_, changes.front().action, text);
        }
        const auto delay = machine_.apply_failed(retryable_target_failure(failure),
                                                 std::chrono::steady_clock::now());
        if (!delay) {
            // Find the change that fails (a batch holds many), so only it is dead-lettered
            // and every change before it is applied.
            std::size_t culprit = 0;
            if (changes.size() > 1 && !machine_.closed()) {
                auto found = co_await isolate_failure(changes);
                if (!found) co_return;  // each change applied alone: nothing failed for good
                culprit = found->first;
                failure = found->second;
            }
            write_dead_letter(changes[culprit], failure, attempt + 1);
            failed(options_.on_error,
                   fmt::format("pipeline {}: applying {} change(s) failed after {} attempt(s): {}",
                               id_, changes.size(), attempt + 1, describe(failure)));
            co_return;
        }
        asio::steady_timer timer(strand_, *delay);
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
        if (co_await cancelled()) co_return;
    }
}

}  // namespace laredo::detail
