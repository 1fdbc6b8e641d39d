// The pipeline's maintenance work: snapshots (export, restore), dead letters (write, replay),
// validation and TTL expiry. Each runs as a task of the consumer, so it never interleaves
// with a batch being applied.
#include "failures.hpp"
#include "pipeline.hpp"
#include "row_expiry.hpp"

#include "laredo/error.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace laredo::detail {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

// ---------------------------------------------------------------------------------------
// Tasks.

awaitable<void> pipeline::run_exclusive(std::function<awaitable<void>()> run) {
    auto self = shared_from_this();
    auto state = std::make_shared<task_state>();
    co_await asio::co_spawn(
        strand_,
        [](std::shared_ptr<pipeline> p, std::function<awaitable<void>()> fn,
           std::shared_ptr<task_state> st) -> awaitable<void> {
            if (p->consumer_done_ || p->machine_.closed())
                throw error(errc::stopped, fmt::format("pipeline {} is stopped", p->id_));
            p->tasks_.push_back({std::move(fn), st});
            p->work_.notify_all();
            while (!st->done) co_await p->idle_.wait();
        }(self, std::move(run), state),
        use_awaitable);
    if (state->failure) std::rethrow_exception(state->failure);
}

awaitable<void> pipeline::run_task(pending_task task) {
    try {
        co_await task.run();
    } catch (...) {
        task.state->failure = std::current_exception();
    }
    task.state->done = true;
    idle_.notify_all();
}

void pipeline::fail_pending_tasks() {
    for (auto& t : tasks_) {
        t.state->failure =
            std::make_exception_ptr(error(errc::stopped, fmt::format("pipeline {} stopped", id_)));
        t.state->done = true;
    }
    tasks_.clear();
}

// ---------------------------------------------------------------------------------------
// Snapshots.

awaitable<std::optional<snapshot_table>> pipeline::export_table() {
    auto out = std::make_shared<std::optional<snapshot_table>>();
    auto self = shared_from_this();
    std::function<awaitable<void>()> task = [self, out] { return self->export_into(out); };
    co_await run_exclusive(std::move(task));
    co_return std::move(*out);
}

awaitable<void> pipeline::export_into(std::shared_ptr<std::optional<snapshot_table>> out) {
    const auto s = state();
    if (s != pipeline_state::streaming && s != pipeline_state::paused) co_return;
    const auto applied = applied_position();
    snapshot_table t;
    t.pipeline_id = id_;
    t.source_id = source_id_;
    t.rows = co_await target_->export_snapshot(table_);
    // Rows carry the shape the target stores (transforms may change it); without rows the
    // source's columns describe the table.
    const schema_ptr shape = !t.rows.empty() ? t.rows.front().schema() : target_columns();
    t.info.table = table_;
    t.info.row_count = t.rows.size();
    t.info.target_type = target_->type_name();
    if (shape) {
        t.info.columns = shape->columns();
        t.schema_fingerprint = shape->fingerprint();
    }
    t.position = applied && !applied->empty() ? source_->position_to_string(*applied) : "";
    *out = std::move(t);
}

awaitable<void> pipeline::restore_table(snapshot_table table, position pos) {
    auto self = shared_from_this();
    auto shared = std::make_shared<snapshot_table>(std::move(table));
    std::function<awaitable<void>()> task = [self, shared, pos] {
        return self->restore_into(shared, pos);
    };
    co_await run_exclusive(std::move(task));
}

awaitable<void> pipeline::restore_into(std::shared_ptr<snapshot_table> table, position pos) {
    if (out_of_service()) co_return;
    const auto rows = table->rows.size();
    co_await target_->restore_snapshot(table->info, std::move(table->rows), pos);
    expected_rows_ = static_cast<std::int64_t>(rows);
    expected_known_ = true;
    set_applied(pos);
    execute(machine_.resumed(pos));
}

// ---------------------------------------------------------------------------------------
// Dead letters.

void pipeline::write_dead_letter(const change_event& change, const std::exception_ptr& failure,
                                 int attempts) {
    if (!dead_letters_) return;
    dead_letter letter;
    letter.pipeline_id = id_;
    letter.written_at = std::chrono::system_clock::now();
    letter.change = change;
    letter.change.pos = position();
    letter.position = change.pos.empty() ? "" : source_->position_to_string(change.pos);
    letter.error_code = code_text(code_of(failure));
    letter.error_message = describe(failure);
    letter.attempts = attempts;
    try {
        dead_letters_->write(std::move(letter));
    } catch (...) {
        // The store refused it (full, disk error): say so; the error policy still applies.
        if (observer_)
            observer_->on_change_error(
                id_, table_, change.action,
                "dead letter not written: " + describe(std::current_exception()));
        return;
    }
    if (observer_) observer_->on_dead_letter_written(id_, table_, change.action);
}

awaitable<std::optional<std::pair<std::size_t, std::exception_ptr>>> pipeline::isolate_failure(
    std::span<const change_event> changes) {
    for (std::size_t i = 0; i < changes.size(); ++i) {
        std::exception_ptr failure;
        try {
            target_->set_change_position(changes[i].pos);
            co_await target_->on_changes(table_, changes.subspan(i, 1));
        } catch (...) {
            failure = std::current_exception();
        }
        if (failure) co_return std::make_pair(i, failure);
    }
    co_return std::nullopt;
}

awaitable<std::size_t> pipeline::replay_dead_letters() {
    if (!dead_letters_)
        throw error(errc::unsupported,
                    fmt::format("pipeline {}: no dead-letter store configured", id_));
    auto applied = std::make_shared<std::size_t>(0);
    auto self = shared_from_this();
    std::function<awaitable<void>()> task = [self, applied] { return self->replay_into(applied); };
    co_await run_exclusive(std::move(task));
    co_return *applied;
}

awaitable<void> pipeline::replay_into(std::shared_ptr<std::size_t> applied) {
    if (state() == pipeline_state::stopped)
        throw error(errc::stopped, fmt::format("pipeline {} is stopped", id_));
    const auto letters = dead_letters_->list(id_);
    std::optional<std::uint64_t> last;
    std::exception_ptr failure;
    std::uint64_t failed_sequence = 0;
    for (const auto& letter : letters) {
        try {
            change_event change = letter.change;
            change.pos = letter.position.empty() ? position()
                                                 : source_->position_from_string(letter.position);
            target_->set_change_position(change.pos);
            co_await target_->on_changes(table_, std::span<const change_event>(&change, 1));
            count_applied(std::span<const change_event>(&change, 1));
        } catch (...) {
            failure = std::current_exception();
            failed_sequence = letter.sequence;
            break;
        }
        last = letter.sequence;
        ++*applied;
    }
    if (last) dead_letters_->remove_through(id_, *last);
    if (failure) {
        throw error(
            errc::target_failed,
            fmt::format("pipeline {}: replay stopped at dead letter {} after {} applied: {}", id_,
                        failed_sequence, *applied, describe(failure)));
    }
}

// ---------------------------------------------------------------------------------------
// Validation.

void pipeline::count_applied(std::span<const change_event> changes) {
    for (const auto& c : changes) {
        switch (c.action) {
            case change_action::insert:
                ++expected_rows_;
                break;
            case change_action::delete_:
                --expected_rows_;
                break;
            case change_action::truncate:
                expected_rows_ = 0;
                break;
            case change_action::update:
                break;
        }
    }
}

void pipeline::validate(const char* when) {
    if (!expected_known_) return;
    const auto actual = target_->row_count(table_);
    if (!actual) return;
    const auto expected = static_cast<std::uint64_t>(std::max<std::int64_t>(expected_rows_, 0));
    const bool match = expected_rows_ >= 0 && *actual == expected;
    if (observer_) observer_->on_validation_result(id_, table_, expected, *actual, match);
    const bool after_validation_reload = validation_reload_pending_;
    if (std::string_view(when) == "after baseline") validation_reload_pending_ = false;
    if (match || options_.on_validation_mismatch != validation_action::rebaseline) return;
    // A reload that validation itself asked for and that still does not match would only
    // loop: report it and leave the table alone.
    if (after_validation_reload) return;
    validation_reload_pending_ = true;
    hooks_.request_reload(index_,
                          fmt::format("validation {} of pipeline {}: expected {} rows, target "
                                      "holds {}",
                                      when, id_, expected, *actual));
}

awaitable<void> pipeline::validate_now() {
    auto self = shared_from_this();
    std::function<awaitable<void>()> task = [self] { return self->validate_into(); };
    co_await run_exclusive(std::move(task));
}

awaitable<void> pipeline::validate_into() {
    if (state() != pipeline_state::streaming || machine_.holding_changes()) co_return;
    validate("at interval");
}

awaitable<void> pipeline::validation_loop() {
    auto self = shared_from_this();
    while (!machine_.closed()) {
        validation_timer_->expires_after(options_.validation_interval);
        boost::system::error_code ec;
        co_await validation_timer_->async_wait(asio::redirect_error(use_awaitable, ec));
        if (machine_.closed() || consumer_done_) break;
        if (state() != pipeline_state::streaming) continue;
        try {
            co_await validate_now();
        } catch (...) {
            break;  // the pipeline stopped
        }
    }
}

// ---------------------------------------------------------------------------------------
// Schema changes.

awaitable<void> pipeline::adopt_columns(schema_ptr schema) {
    const auto old = source_schema_;
    const auto old_shape = target_columns();
    schema_ptr shape;
    std::string refused;
    try {
        shape = shape_columns(schema);
    } catch (const std::exception& e) {
        refused = e.what();
    }
    schema_change_response answer;
    if (!shape) {
        answer = {schema_change_action::error, refused};
    } else {
        try {
            // The target sees its own columns: the source's after the transforms.
            if (old_shape) {
                answer = co_await target_->on_schema_change(table_, *old_shape, *shape);
            } else {
                answer = {schema_change_action::continue_, "columns reported"};
            }
        } catch (const std::exception& e) {
            answer = {schema_change_action::error, e.what()};
        }
    }
    const auto description =
        fmt::format("columns of {} changed ({} -> {} columns): {}", table_.to_string(),
                    old ? old->size() : 0, schema->size(), answer.message);
    if (observer_) observer_->on_schema_change(id_, table_, description);
    source_schema_ = schema;
    if (shape) {
        std::lock_guard lock(applied_mutex_);
        target_schema_ = shape;
    }
    hooks_.columns_changed(index_, schema);
    execute(machine_.columns_changed(answer.action, options_.on_error, description,
                                     std::chrono::steady_clock::now()));
}

// ---------------------------------------------------------------------------------------
// TTL.

bool pipeline::has_ttl() const noexcept {
    return options_.ttl_function != nullptr || !options_.ttl_field.empty();
}

bool pipeline::expired(const row& r, std::chrono::system_clock::time_point now) const {
    if (!has_ttl()) return false;
    const auto at = row_expires_at(options_, r);
    return at && *at <= now;
}

awaitable<std::size_t> pipeline::expire_now() {
    auto removed = std::make_shared<std::size_t>(0);
    auto self = shared_from_this();
    std::function<awaitable<void>()> task = [self, removed] { return self->expire_into(removed); };
    co_await run_exclusive(std::move(task));
    co_return *removed;
}

awaitable<void> pipeline::expire_into(std::shared_ptr<std::size_t> removed) {
    // A paused pipeline changes nothing; a baselining one gets only fresh rows anyway.
    if (state() != pipeline_state::streaming || machine_.holding_changes()) co_return;
    const auto now = std::chrono::system_clock::now();
    std::vector<change_event> deletes;
    target_->for_each_row(table_, [&](const row& r) {
        if (!expired(r, now)) return;
        change_event e;
        e.table = table_;
        e.action = change_action::delete_;
        e.timestamp = now;
        e.old_values = r;
        deletes.push_back(std::move(e));
    });
    if (deletes.empty()) co_return;
    if (const auto applied = applied_position()) target_->set_change_position(*applied);
    co_await target_->on_changes(table_, deletes);
    count_applied(deletes);
    *removed = deletes.size();
    if (observer_)
        for (const auto& d : deletes)
            observer_->on_row_expired(id_, table_, key_text(d.old_values));
}

awaitable<void> pipeline::ttl_scan_loop() {
    auto self = shared_from_this();
    while (!machine_.closed()) {
        ttl_timer_->expires_after(options_.ttl_scan_interval);
        boost::system::error_code ec;
        co_await ttl_timer_->async_wait(asio::redirect_error(use_awaitable, ec));
        if (machine_.closed() || consumer_done_) break;
        if (state() != pipeline_state::streaming) continue;
        std::exception_ptr failure;
        try {
            co_await expire_now();
        } catch (...) {
            failure = std::current_exception();
        }
        if (!failure) continue;
        if (code_of(failure) == errc::stopped) break;  // the pipeline stopped
        if (observer_)
            observer_->on_change_error(id_, table_, change_action::delete_,
                                       "TTL scan failed: " + describe(failure));
    }
}

// ---------------------------------------------------------------------------------------
// Reload of a failed pipeline.

awaitable<bool> pipeline::revive() {
    auto self = shared_from_this();
    co_return co_await asio::co_spawn(
        strand_,
        [](std::shared_ptr<pipeline> p) -> awaitable<bool> {
            if (p->consumer_done_) co_return false;
            pipeline_machine::actions revived;
            const bool back = p->machine_.revive(revived);
            p->execute(revived);
            co_return back;
        }(self),
        use_awaitable);
}

}  // namespace laredo::detail
