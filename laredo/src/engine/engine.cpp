#include "engine_impl.hpp"
#include "operation.hpp"

#include "laredo/error.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <set>

namespace laredo {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

// The strands the engine recognises; a source's executor must be one of them.
bool is_strand(const asio::any_io_executor& ex) {
    return ex.target<asio::strand<asio::any_io_executor>>() != nullptr ||
           ex.target<asio::strand<asio::io_context::executor_type>>() != nullptr ||
           ex.target<asio::strand<asio::thread_pool::executor_type>>() != nullptr;
}

// A retry policy the backoff can follow, or a problem per wrong field.
void check_retry_policy(const std::string& where, const retry_policy& p,
                        std::vector<std::string>& problems) {
    if (p.initial.count() < 0 || p.max.count() < 0 || p.reset_after.count() < 0)
        problems.push_back(where + ": initial, max and reset_after must be >= 0");
    if (!(p.multiplier >= 1.0)) problems.push_back(where + ": multiplier must be >= 1");
    if (!(p.jitter >= 0.0 && p.jitter <= 1.0))
        problems.push_back(where + ": jitter must be between 0 and 1");
    if (p.attempts < -1) problems.push_back(where + ": attempts must be >= -1 (-1: for ever)");
}

std::string join_lines(const std::vector<std::string>& problems) {
    std::string out = "invalid engine configuration:";
    for (const auto& p : problems) out += "\n  " + p;
    return out;
}
}  // namespace

config_error::config_error(std::vector<std::string> problems)
    : error(errc::invalid_config, join_lines(problems)), problems_(std::move(problems)) {}

namespace detail {

engine_impl::engine_impl(asio::any_io_executor executor, engine_options options)
    : executor_(std::move(executor)),
      control_(asio::make_strand(executor_)),
      options_(std::make_shared<const engine_options>(std::move(options))),
      snapshot_done_(control_),
      stop_done_(control_),
      readiness_changed_(control_) {}

void engine_impl::add_source(std::string id, std::shared_ptr<sync_source> source,
                             std::size_t pipelines) {
    std::weak_ptr<engine_impl> weak = weak_from_this();
    auto runner = std::make_shared<source_runner>(id, source, pipelines, options_,
                                                  [weak](const std::string& why) {
                                                      if (auto self = weak.lock())
                                                          self->stop_all_sources(why);
                                                  });
    sources_.push_back({std::move(id), std::move(source), std::move(runner)});
}

void engine_impl::add_pipeline(std::size_t source_index, std::string id, table_identifier table,
                               std::shared_ptr<sync_target> target, pipeline_options options) {
    auto& slot = sources_.at(source_index);
    const std::size_t local = static_cast<std::size_t>(
        std::count_if(pipelines_.begin(), pipelines_.end(),
                      [&](const auto& p) { return p->source_id() == slot.id; }));
    const std::size_t global = pipelines_.size();
    std::weak_ptr<source_runner> runner = slot.runner;
    std::weak_ptr<engine_impl> engine = weak_from_this();
    pipeline_hooks hooks{
        [runner](std::size_t i, const position& pos) {
            if (auto r = runner.lock()) r->post_confirm(i, pos);
        },
        [runner](std::size_t i, bool member) {
            if (auto r = runner.lock()) r->post_membership(i, member);
        },
        [engine, global](std::size_t) {
            if (auto e = engine.lock()) e->mark_reached(global);
        },
        [runner](std::size_t i, error_policy policy, const std::string& why) {
            if (auto r = runner.lock()) r->post_failure(i, policy, why);
        },
        [runner](std::size_t i, const std::string& why) {
            if (auto r = runner.lock()) r->post_reload_request(i, why);
        },
        [runner](std::size_t i, schema_ptr schema) {
            if (auto r = runner.lock()) r->set_schema(i, std::move(schema));
        },
        [engine](std::size_t) {
            if (auto e = engine.lock()) e->pipeline_failed();
        },
    };
    auto p = std::make_shared<pipeline>(local, std::move(id), slot.id, std::move(table),
                                        std::move(target), std::move(options), executor_,
                                        slot.source.get(), options_, std::move(hooks));
    slot.runner->attach(p);
    pipelines_.push_back(std::move(p));
    reached_.push_back(false);
}

const engine_impl::source_slot* engine_impl::find_source(const std::string& id) const {
    for (const auto& s : sources_)
        if (s.id == id) return &s;
    return nullptr;
}

const engine_impl::source_slot& engine_impl::running_source(const std::string& id) const {
    const auto st = status_.load();
    if (st == status::created) throw error(errc::not_started, "engine not started");
    if (st != status::running) throw error(errc::stopped, "engine stopped");
    const auto* slot = find_source(id);
    if (!slot) throw error(errc::unknown_source, fmt::format("unknown source: {}", id));
    return *slot;
}

awaitable<void> engine_impl::start() {
    auto self = shared_from_this();
    auto expected = status::created;
    if (!status_.compare_exchange_strong(expected, status::running)) {
        if (expected == status::running)
            throw error(errc::already_started, "engine already started");
        throw error(errc::stopped, "engine stopped");
    }
    if (options_->snapshots && options_->restore_from_snapshot) co_await load_restore_snapshot();
    for (auto& s : sources_) s.runner->start();
    if (options_->snapshots && options_->snapshot_interval.count() > 0) {
        snapshot_timer_ = std::make_unique<asio::steady_timer>(control_);
        asio::co_spawn(control_, snapshot_loop(), asio::detached);
    }
}

awaitable<void> engine_impl::stop() {
    auto self = shared_from_this();
    auto expected = status::running;
    if (!status_.compare_exchange_strong(expected, status::stopping)) {
        if (expected == status::created) throw error(errc::not_started, "engine not started");
        if (expected == status::stopped) throw error(errc::stopped, "engine stopped");
        // A stop is running (its caller may have stopped waiting): complete with it.
        while (status_.load() != status::stopped) co_await stop_done_.wait();
        if (stop_failure_) std::rethrow_exception(stop_failure_);
        co_return;
    }
    try {
        co_await stop_sequence();
    } catch (...) {
        stop_failure_ = std::current_exception();
    }
    {
        std::lock_guard lock(ready_mutex_);
        status_ = status::stopped;
    }
    ready_cv_.notify_all();
    readiness_changed_.notify_all();
    stop_done_.notify_all();
    if (stop_failure_) std::rethrow_exception(stop_failure_);
}

awaitable<void> engine_impl::stop_sequence() {
    if (snapshot_timer_) snapshot_timer_->cancel();
    // A snapshot in progress (scheduled or on demand) finishes first, prune included.
    while (snapshot_running_) co_await snapshot_done_.wait();
    const auto deadline = options_->shutdown_timeout.count() > 0
                              ? std::chrono::steady_clock::now() + options_->shutdown_timeout
                              : std::chrono::steady_clock::time_point::max();
    // Stop reading and drain; take the shutdown snapshot; then the final ACKs and close.
    bool in_time = co_await on_every_runner(&source_runner::stop_reading, deadline);
    if (in_time && options_->snapshots && options_->snapshot_on_shutdown) {
        std::map<std::string, std::string> labels{{"trigger", "shutdown"}};
        try {
            co_await create_snapshot(std::move(labels));
        } catch (...) {
            // The observer heard why (on_snapshot_failed); the stop goes on.
        }
    }
    if (in_time) in_time = co_await on_every_runner(&source_runner::release, deadline);
    if (in_time) co_return;
    // Abort what is left: buffers are dropped (not ACKed, so a restart re-delivers them).
    for (auto& s : sources_) s.runner->abort();
    co_await on_every_runner(&source_runner::release,
                             std::chrono::steady_clock::now() + std::chrono::seconds(5));
    throw error(errc::timeout,
                fmt::format("engine stop did not finish within {} ms; buffered changes were "
                            "dropped and will be re-delivered after a restart",
                            options_->shutdown_timeout.count()));
}

awaitable<void> engine_impl::pause(std::string source_id) {
    auto self = shared_from_this();
    const auto& slot = running_source(source_id);
    co_await asio::co_spawn(slot.source->get_executor(), slot.runner->pause(), use_awaitable);
}

awaitable<void> engine_impl::resume(std::string source_id) {
    auto self = shared_from_this();
    const auto& slot = running_source(source_id);
    co_await asio::co_spawn(slot.source->get_executor(), slot.runner->resume(), use_awaitable);
}

awaitable<void> engine_impl::reload(std::string source_id, table_identifier table) {
    auto self = shared_from_this();
    const auto& slot = running_source(source_id);
    co_await asio::co_spawn(slot.source->get_executor(), slot.runner->reload(std::move(table)),
                            use_awaitable);
}

awaitable<bool> engine_impl::on_every_runner(awaitable<void> (source_runner::*step)(),
                                             std::chrono::steady_clock::time_point deadline) {
    struct progress {
        std::size_t remaining;
        bool timed_out = false;
        async_signal changed;
        progress(std::size_t n, const asio::any_io_executor& ex) : remaining(n), changed(ex) {}
    };
    auto state = std::make_shared<progress>(sources_.size(), control_);
    for (auto& s : sources_) {
        auto& runner = *s.runner;
        asio::co_spawn(s.source->get_executor(), (runner.*step)(),
                       [state, control = control_](std::exception_ptr) {
                           asio::post(control, [state] {
                               --state->remaining;
                               state->changed.notify_all();
                           });
                       });
    }
    asio::steady_timer timer(control_, deadline);
    timer.async_wait([state](boost::system::error_code ec) {
        if (ec) return;
        state->timed_out = true;
        state->changed.notify_all();
    });
    while (state->remaining > 0 && !state->timed_out) co_await state->changed.wait();
    timer.cancel();
    co_return state->remaining == 0;
}

void engine_impl::stop_all_sources(const std::string& why) {
    for (auto& s : sources_)
        asio::co_spawn(s.source->get_executor(), s.runner->fail_all(why), asio::detached);
}

void engine_impl::mark_reached(std::size_t global_index) {
    std::vector<std::function<void()>> callbacks;
    {
        std::lock_guard lock(ready_mutex_);
        if (reached_.at(global_index)) return;
        reached_[global_index] = true;
        if (++reached_count_ != reached_.size()) return;
        callbacks.swap(ready_callbacks_);
    }
    // Callbacks run before readiness is published, so whoever sees is_ready() (or returns
    // from await_ready) also sees their effects. Callbacks registered meanwhile run below.
    for (auto& cb : callbacks) cb();
    {
        std::lock_guard lock(ready_mutex_);
        ready_ = true;
        callbacks.clear();
        callbacks.swap(ready_callbacks_);
    }
    ready_cv_.notify_all();
    for (auto& cb : callbacks) cb();
    notify_ready_waiters();
}

void engine_impl::pipeline_failed() {
    {
        // Taken so a blocking waiter between its check and its wait still sees the change.
        std::lock_guard lock(ready_mutex_);
    }
    ready_cv_.notify_all();
    notify_ready_waiters();
}

void engine_impl::notify_ready_waiters() {
    asio::post(control_, [self = shared_from_this()] { self->readiness_changed_.notify_all(); });
}

std::string engine_impl::failed_before_ready() const {
    std::lock_guard lock(ready_mutex_);
    return failed_before_ready_locked();
}

std::string engine_impl::failed_before_ready_locked() const {
    for (std::size_t i = 0; i < pipelines_.size(); ++i) {
        const auto& p = pipelines_[i];
        if (!reached_[i] && p->state() == pipeline_state::error)
            return fmt::format("{} ({})", p->id(), p->last_error());
    }
    return {};
}

awaitable<void> engine_impl::wait_ready() {
    auto self = shared_from_this();
    for (;;) {
        if (ready_) co_return;
        const auto st = status_.load();
        if (st == status::stopping || st == status::stopped)
            throw error(errc::stopped, "engine stopped before it was ready");
        if (const auto failed = failed_before_ready(); !failed.empty()) {
            throw error(errc::pipeline_failed,
                        "pipeline " + failed + " went to ERROR before the engine was ready");
        }
        co_await readiness_changed_.wait();
        const auto cancel = (co_await asio::this_coro::cancellation_state).cancelled();
        if (cancel != asio::cancellation_type::none)
            throw boost::system::system_error(asio::error::operation_aborted);
    }
}

bool engine_impl::await_ready(std::chrono::milliseconds timeout) {
    std::unique_lock lock(ready_mutex_);
    if (timeout.count() <= 0) return ready_;
    return ready_cv_.wait_for(lock, timeout, [&] {
        return ready_.load() || status_ == status::stopped || !failed_before_ready_locked().empty();
    }) && ready_;
}

void engine_impl::on_ready(std::function<void()> callback) {
    {
        std::lock_guard lock(ready_mutex_);
        if (!ready_) {
            ready_callbacks_.push_back(std::move(callback));
            return;
        }
    }
    callback();
}

}  // namespace detail

// ---------------------------------------------------------------------------------------
// engine

using detail::no_result;
using detail::operation;

void engine::start_impl(const impl_ptr& impl, diagnostics* diag, handler<void_signature> h) {
    operation<>::start(impl->control(), impl->executor(), no_result(impl, impl->start()), diag,
                       std::move(h));
}
void engine::stop_impl(const impl_ptr& impl, diagnostics* diag, handler<void_signature> h) {
    operation<>::start(impl->control(), impl->executor(), no_result(impl, impl->stop()), diag,
                       std::move(h));
}
void engine::await_ready_impl(const impl_ptr& impl, diagnostics* diag, handler<void_signature> h) {
    // A wait with no effect: any kind of cancellation ends it.
    operation<>::start(impl->control(), impl->executor(), no_result(impl, impl->wait_ready()), diag,
                       std::move(h), operation<>::on_cancel::stop_work,
                       asio::cancellation_type::terminal | asio::cancellation_type::partial |
                           asio::cancellation_type::total);
}
void engine::pause_impl(const impl_ptr& impl, diagnostics* diag, handler<void_signature> h,
                        std::string source_id) {
    operation<>::start(impl->control(), impl->executor(),
                       no_result(impl, impl->pause(std::move(source_id))), diag, std::move(h));
}
void engine::resume_impl(const impl_ptr& impl, diagnostics* diag, handler<void_signature> h,
                         std::string source_id) {
    operation<>::start(impl->control(), impl->executor(),
                       no_result(impl, impl->resume(std::move(source_id))), diag, std::move(h));
}
void engine::reload_impl(const impl_ptr& impl, diagnostics* diag, handler<void_signature> h,
                         std::string source_id, table_identifier table) {
    operation<>::start(impl->control(), impl->executor(),
                       no_result(impl, impl->reload(std::move(source_id), std::move(table))), diag,
                       std::move(h));
}

engine::executor_type engine::get_executor() const noexcept { return impl_->executor(); }

bool engine::await_ready(std::chrono::milliseconds timeout) const {
    return impl_->await_ready(timeout);
}
bool engine::is_ready() const noexcept { return impl_->is_ready(); }
void engine::on_ready(std::function<void()> callback) { impl_->on_ready(std::move(callback)); }
const engine_options& engine::options() const noexcept { return impl_->options(); }

bool engine::is_source_ready(const std::string& source_id) const {
    bool any = false;
    for (const auto& p : impl_->pipelines()) {
        if (p->source_id() != source_id) continue;
        any = true;
        const auto s = p->state();
        if (s != pipeline_state::streaming && s != pipeline_state::paused) return false;
    }
    return any;
}

std::vector<std::string> engine::source_ids() const {
    std::vector<std::string> ids;
    for (const auto& s : impl_->sources()) ids.push_back(s.id);
    return ids;
}

std::vector<pipeline_info> engine::pipelines() const {
    std::vector<pipeline_info> out;
    for (const auto& p : impl_->pipelines()) {
        out.push_back({p->id(), p->source_id(), p->table(), p->target()->type_name(), p->state(),
                       p->buffer_depth(), p->options().buffer_size, p->stale(),
                       p->applied_position(), p->last_error()});
    }
    return out;
}

std::optional<source_info> engine::source(const std::string& source_id) const {
    const auto* slot = impl_->find_source(source_id);
    if (!slot) return std::nullopt;
    const auto& s = *slot->source;
    return source_info{slot->id,  s.type_name(), s.supports_resume(),       s.ordering(),
                       s.state(), s.lag(),       slot->runner->last_acked()};
}

schema_ptr engine::table_schema(const std::string& source_id, const table_identifier& table) const {
    const auto* slot = impl_->find_source(source_id);
    return slot ? slot->runner->schema_of(table) : nullptr;
}

std::vector<std::shared_ptr<sync_target>> engine::targets(const std::string& source_id,
                                                          const table_identifier& table) const {
    std::vector<std::shared_ptr<sync_target>> out;
    for (const auto& p : impl_->pipelines())
        if ((source_id.empty() || p->source_id() == source_id) && p->table() == table)
            out.push_back(p->target());
    return out;
}

// ---------------------------------------------------------------------------------------
// engine::builder

engine::builder& engine::builder::add_source(std::string id, std::shared_ptr<sync_source> source) {
    sources_.push_back({std::move(id), std::move(source)});
    return *this;
}

engine::builder& engine::builder::add_pipeline(std::string source_id, table_identifier table,
                                               std::shared_ptr<sync_target> target,
                                               pipeline_options options) {
    pipelines_.push_back(
        {std::move(source_id), std::move(table), std::move(target), std::move(options)});
    return *this;
}

engine::builder& engine::builder::with_options(engine_options options) {
    auto observer = std::move(options_.observer);
    options_ = std::move(options);
    if (!options_.observer) options_.observer = std::move(observer);
    return *this;
}

engine::builder& engine::builder::with_observer(std::shared_ptr<engine_observer> observer) {
    options_.observer = std::move(observer);
    return *this;
}

std::vector<std::string> engine::builder::pipeline_ids(std::vector<std::string>& problems) const {
    std::vector<std::string> ids(pipelines_.size());
    std::set<std::string> taken;
    // Ids given by hand first: they must be unique, and generated ids keep out of their way.
    for (std::size_t i = 0; i < pipelines_.size(); ++i) {
        const auto& given = pipelines_[i].options.id;
        if (given.empty()) continue;
        ids[i] = given;
        if (!taken.insert(given).second)
            problems.push_back(fmt::format("pipeline[{}]: duplicate pipeline id \"{}\"", i, given));
    }
    // Generated: "source:schema.table:target_type", then ":2", ":3"... for further pipelines
    // of the same source, table and target type.
    for (std::size_t i = 0; i < pipelines_.size(); ++i) {
        if (!ids[i].empty()) continue;
        const auto& p = pipelines_[i];
        const auto base = fmt::format("{}:{}:{}", p.source_id, p.table.to_string(),
                                      p.target ? p.target->type_name() : "null");
        auto id = base;
        for (int n = 2; taken.count(id); ++n) id = fmt::format("{}:{}", base, n);
        taken.insert(id);
        ids[i] = std::move(id);
    }
    // One target object serves one pipeline: its rows, positions and transactions are one
    // table's.
    for (std::size_t i = 0; i < pipelines_.size(); ++i) {
        if (!pipelines_[i].target) continue;
        for (std::size_t j = 0; j < i; ++j) {
            if (pipelines_[j].target != pipelines_[i].target) continue;
            problems.push_back(fmt::format(
                "pipeline[{}] \"{}\": its target object is already the target of pipeline[{}] "
                "\"{}\" (one target object per pipeline)",
                i, ids[i], j, ids[j]));
            break;
        }
    }
    return ids;
}

engine engine::builder::build(asio::any_io_executor executor) const {
    std::vector<std::string> problems;
    if (sources_.empty()) problems.push_back("no sources configured");
    std::set<std::string> source_ids;
    for (std::size_t i = 0; i < sources_.size(); ++i) {
        const auto& s = sources_[i];
        if (s.id.empty()) problems.push_back(fmt::format("source[{}]: empty id", i));
        if (!s.source) problems.push_back(fmt::format("source \"{}\": source is null", s.id));
        if (!s.id.empty() && !source_ids.insert(s.id).second)
            problems.push_back(fmt::format("source \"{}\": duplicate source id", s.id));
        if (s.source && !is_strand(s.source->get_executor()))
            problems.push_back(
                fmt::format("source \"{}\": get_executor() must return a strand (e.g. "
                            "boost::asio::make_strand(executor)): the engine calls the source from "
                            "several threads and relies on its strand to run one call at a time",
                            s.id));
    }
    if (pipelines_.empty()) problems.push_back("no pipelines configured");
    check_retry_policy("engine: source_retry", options_.source_retry, problems);
    if (options_.snapshot_interval.count() < 0)
        problems.push_back("engine: snapshot_interval must be >= 0");
    if (!options_.snapshots && options_.snapshot_interval.count() > 0)
        problems.push_back("engine: snapshot_interval is set but no snapshot store is configured");
    if (!options_.snapshots && options_.snapshot_on_shutdown)
        problems.push_back(
            "engine: snapshot_on_shutdown is set but no snapshot store is configured");

    for (std::size_t i = 0; i < pipelines_.size(); ++i) {
        const auto& p = pipelines_[i];
        const auto where = fmt::format("pipeline[{}]", i);
        if (p.source_id.empty()) {
            problems.push_back(where + ": empty source id");
        } else if (!source_ids.count(p.source_id)) {
            problems.push_back(fmt::format("{}: unknown source \"{}\"", where, p.source_id));
        }
        if (p.table.schema.empty() || p.table.table.empty())
            problems.push_back(fmt::format("{}: table needs a schema and a name (got \"{}\")",
                                           where, p.table.to_string()));
        if (!p.target) problems.push_back(where + ": target is null");
        if (p.options.buffer_size == 0) problems.push_back(where + ": buffer_size must be > 0");
        if (p.options.buffer_bytes == 0) problems.push_back(where + ": buffer_bytes must be > 0");
        check_retry_policy(where + ": retry", p.options.retry, problems);
        if (p.options.recover_after.count() < 0 || p.options.recover_max_backoff.count() < 0)
            problems.push_back(where + ": recover_after and recover_max_backoff must be >= 0");
        if (p.options.ttl_scan_interval.count() < 0 || p.options.validation_interval.count() < 0)
            problems.push_back(where + ": ttl_scan_interval and validation_interval must be >= 0");
        const bool has_ttl = p.options.ttl_function || !p.options.ttl_field.empty();
        if (p.options.ttl_scan_interval.count() > 0 && !has_ttl)
            problems.push_back(where +
                               ": ttl_scan_interval is set but neither ttl_field nor "
                               "ttl_function is");
        if (p.target && !p.target->keeps_rows()) {
            if (p.options.ttl_scan_interval.count() > 0)
                problems.push_back(
                    fmt::format("{}: ttl_scan_interval needs a target that keeps "
                                "rows ({} does not)",
                                where, p.target->type_name()));
            if (p.options.validation_interval.count() > 0)
                problems.push_back(
                    fmt::format("{}: validation_interval needs a target that keeps "
                                "rows ({} does not)",
                                where, p.target->type_name()));
        }
    }
    const auto ids = pipeline_ids(problems);
    if (!problems.empty()) throw config_error(std::move(problems));

    auto impl = std::make_shared<detail::engine_impl>(std::move(executor), options_);
    for (const auto& s : sources_) {
        const auto count = static_cast<std::size_t>(
            std::count_if(pipelines_.begin(), pipelines_.end(),
                          [&](const pipeline_entry& p) { return p.source_id == s.id; }));
        impl->add_source(s.id, s.source, count);
    }
    for (std::size_t i = 0; i < pipelines_.size(); ++i) {
        const auto& p = pipelines_[i];
        std::size_t source_index = 0;
        while (sources_[source_index].id != p.source_id) ++source_index;
        impl->add_pipeline(source_index, ids[i], p.table, p.target, p.options);
    }
    return engine(std::move(impl));
}

}  // namespace laredo
