// The engine's snapshots (create, schedule, restore at start) and dead-letter replay.
#include "engine_impl.hpp"
#include "failures.hpp"
#include "operation.hpp"

#include "laredo/error.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace laredo {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace detail {

namespace {

// Blocking store calls, run on the snapshot executor. Plain coroutines with by-value
// parameters (no capturing lambdas inside co_await: docs/design.md, "Toolchain").
awaitable<snapshot_descriptor> save_snapshot(std::shared_ptr<snapshot_store> store,
                                             std::shared_ptr<const snapshot> s) {
    co_return store->save(*s);
}

awaitable<std::vector<std::string>> prune_snapshots(std::shared_ptr<snapshot_store> store,
                                                    std::size_t keep) {
    co_return store->prune(keep);
}

awaitable<std::shared_ptr<snapshot>> load_newest(std::shared_ptr<snapshot_store> store,
                                                 std::shared_ptr<std::string> id) {
    const auto all = store->list();
    if (all.empty()) co_return nullptr;
    *id = all.front().id;
    co_return std::make_shared<snapshot>(store->load(*id));
}

}  // namespace

snapshot_store& engine_impl::snapshots() const {
    if (!options_->snapshots) throw error(errc::unsupported, "no snapshot store configured");
    return *options_->snapshots;
}

dead_letter_store& engine_impl::dead_letters() const {
    if (!options_->dead_letters) throw error(errc::unsupported, "no dead-letter store configured");
    return *options_->dead_letters;
}

asio::any_io_executor engine_impl::snapshot_executor() const {
    return options_->snapshot_executor ? options_->snapshot_executor : executor_;
}

awaitable<void> engine_impl::load_restore_snapshot() {
    auto self = shared_from_this();
    auto id = std::make_shared<std::string>();
    std::shared_ptr<snapshot> loaded;
    std::exception_ptr failure;
    try {
        loaded = co_await asio::co_spawn(snapshot_executor(), load_newest(options_->snapshots, id),
                                         use_awaitable);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        if (options_->observer)
            options_->observer->on_snapshot_failed(
                id->empty() ? "(list)" : *id,
                fmt::format("cannot restore from snapshot {}: {}; taking a baseline",
                            id->empty() ? "(none)" : *id, describe(failure)));
        co_return;
    }
    if (!loaded) co_return;
    for (auto& s : sources_) s.runner->set_restore_snapshot(loaded);
}

awaitable<snapshot_descriptor> engine_impl::create_snapshot(
    std::map<std::string, std::string> labels) {
    auto self = shared_from_this();
    snapshots();  // throws without a store
    const auto st = status_.load();
    if (st == status::created) throw error(errc::not_started, "engine not started");
    if (st == status::stopped) throw error(errc::stopped, "engine stopped");
    // One snapshot at a time: a scheduled one and one on demand take turns.
    while (snapshot_running_) co_await snapshot_done_.wait();
    snapshot_running_ = true;
    struct done_guard {
        engine_impl& e;
        ~done_guard() {
            e.snapshot_running_ = false;
            e.snapshot_done_.notify_all();
        }
    } guard{*this};
    co_return co_await take_snapshot(std::move(labels));
}

awaitable<snapshot_descriptor> engine_impl::take_snapshot(
    std::map<std::string, std::string> labels) {
    const auto now = std::chrono::system_clock::now();
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
        1'000'000;
    const std::string id = fmt::format("snap-{:%Y%m%dT%H%M%S}{:06}Z-{}",
                                       fmt::gmtime(std::chrono::system_clock::to_time_t(now)),
                                       micros, ++snapshot_counter_);
    auto* observer = options_->observer.get();
    if (observer) observer->on_snapshot_started(id);
    const auto started = std::chrono::steady_clock::now();

    auto snap = std::make_shared<snapshot>();
    snap->descriptor.id = id;
    snap->descriptor.created_at = now;
    snap->descriptor.labels = std::move(labels);
    std::exception_ptr failure;
    snapshot_descriptor saved;
    std::map<std::string, position> lowest;  // per source, over its exported pipelines
    try {
        for (auto& slot : sources_) {
            const auto& source = *slot.source;
            // A pipeline that is not streaming (ERROR, still baselining) has no table here: a
            // restore baselines that table alone and restores the others.
            std::vector<position> positions;
            for (const auto& p : pipelines_) {
                if (p->source_id() != slot.id) continue;
                auto table = co_await p->export_table();
                if (!table || table->position.empty()) continue;
                positions.push_back(source.position_from_string(table->position));
                snap->tables.push_back(std::move(*table));
            }
            if (!positions.empty()) {
                const auto low = lowest_position(source, positions);
                snap->descriptor.source_positions[slot.id] = source.position_to_string(low);
                lowest[slot.id] = low;
            }
        }
        std::shared_ptr<const snapshot> frozen = snap;
        saved = co_await asio::co_spawn(snapshot_executor(),
                                        save_snapshot(options_->snapshots, frozen), use_awaitable);
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        if (observer) observer->on_snapshot_failed(id, describe(failure));
        std::rethrow_exception(failure);
    }
    // The ACK of a source may now move up to this snapshot's position for it.
    for (auto& slot : sources_) {
        const auto it = lowest.find(slot.id);
        if (it != lowest.end()) slot.runner->post_ack_cap(it->second);
    }
    if (observer) {
        observer->on_snapshot_completed(id, saved.tables.size(), saved.row_count, saved.size_bytes,
                                        std::chrono::steady_clock::now() - started);
    }
    if (options_->snapshot_retention > 0) {
        try {
            co_await asio::co_spawn(
                snapshot_executor(),
                prune_snapshots(options_->snapshots, options_->snapshot_retention), use_awaitable);
        } catch (...) {
            // The snapshot itself is saved; a failed prune is retried after the next one.
            if (observer)
                observer->on_snapshot_failed(
                    id, "pruning old snapshots failed: " + describe(std::current_exception()));
        }
    }
    co_return saved;
}

awaitable<void> engine_impl::snapshot_loop() {
    auto self = shared_from_this();
    while (status_.load() == status::running) {
        snapshot_timer_->expires_after(options_->snapshot_interval);
        boost::system::error_code ec;
        co_await snapshot_timer_->async_wait(asio::redirect_error(use_awaitable, ec));
        if (ec || status_.load() != status::running) break;
        std::map<std::string, std::string> labels{{"trigger", "scheduled"}};
        try {
            co_await create_snapshot(std::move(labels));
        } catch (...) {
            // Reported to the observer; the next tick tries again.
        }
    }
}

awaitable<std::size_t> engine_impl::replay_dead_letters(std::string pipeline_id) {
    auto self = shared_from_this();
    dead_letters();  // throws without a store
    const auto st = status_.load();
    if (st == status::created) throw error(errc::not_started, "engine not started");
    if (st == status::stopped) throw error(errc::stopped, "engine stopped");
    for (const auto& p : pipelines_)
        if (p->id() == pipeline_id) co_return co_await p->replay_dead_letters();
    throw error(errc::unknown_table, fmt::format("unknown pipeline: {}", pipeline_id));
}

}  // namespace detail

void engine::create_snapshot_impl(const impl_ptr& impl, diagnostics* diag,
                                  handler<snapshot_signature> h, snapshot_labels labels) {
    detail::operation<snapshot_descriptor>::start(
        impl->control(), impl->executor(),
        detail::one_result(impl, impl->create_snapshot(std::move(labels))), diag, std::move(h));
}

void engine::replay_impl(const impl_ptr& impl, diagnostics* diag, handler<count_signature> h,
                         std::string pipeline_id) {
    detail::operation<std::size_t>::start(
        impl->control(), impl->executor(),
        detail::one_result(impl, impl->replay_dead_letters(std::move(pipeline_id))), diag,
        std::move(h));
}

std::vector<snapshot_descriptor> engine::list_snapshots() const {
    return impl_->snapshots().list();
}

snapshot_descriptor engine::describe_snapshot(const std::string& id) const {
    return impl_->snapshots().describe(id);
}

void engine::delete_snapshot(const std::string& id) { impl_->snapshots().remove(id); }

std::vector<dead_letter> engine::dead_letters(const std::string& pipeline_id,
                                              std::size_t limit) const {
    return impl_->dead_letters().list(pipeline_id, limit);
}

std::size_t engine::purge_dead_letters(const std::string& pipeline_id) {
    return impl_->dead_letters().purge(pipeline_id);
}

}  // namespace laredo
