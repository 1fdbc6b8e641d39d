#pragma once

#include "laredo/dead_letter_store.hpp"
#include "laredo/error.hpp"
#include "laredo/observer.hpp"
#include "laredo/pipeline_options.hpp"
#include "laredo/position.hpp"
#include "laredo/snapshot_store.hpp"
#include "laredo/sync_source.hpp"
#include "laredo/sync_target.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/types.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace laredo {

namespace detail {
class engine_impl;
}

// Engine-wide settings.
struct engine_options {
    // How long a graceful stop may take (drain, final ACK, close) before the engine aborts
    // what is left. Zero waits for ever.
    std::chrono::milliseconds shutdown_timeout{30'000};

    // A source whose init or stream fails with a retryable error is retried this many times,
    // with exponential backoff, before its pipelines go to ERROR.
    int source_max_retries = 10;
    std::chrono::milliseconds source_retry_initial_backoff{1'000};
    std::chrono::milliseconds source_retry_max_backoff{30'000};

    std::shared_ptr<engine_observer> observer;

    // Where pipelines put a change that still fails after its retries, before their error
    // policy applies. Null: failed changes are only reported.
    std::shared_ptr<dead_letter_store> dead_letters;

    // Snapshots of the targets' tables, each with the position it is consistent with.
    // With a store, at start the newest snapshot restores the targets of every source that
    // can stream from its position (restore_from_snapshot), instead of a baseline; otherwise
    // (no position for the source, a table missing, changed columns, a corrupt file) the
    // source baselines and the observer says why. Snapshots are taken on demand
    // (async_create_snapshot), every snapshot_interval (0 = never) and at a graceful stop
    // (snapshot_on_shutdown); after each, only the snapshot_retention newest are kept
    // (0 = all). While snapshots restore a source's targets, its ACK never passes the newest
    // snapshot's position for it, so a restart can always stream from there.
    std::shared_ptr<snapshot_store> snapshots;
    std::chrono::milliseconds snapshot_interval{0};
    std::size_t snapshot_retention = 0;
    bool snapshot_on_shutdown = false;
    bool restore_from_snapshot = true;
    // Where the store's blocking file I/O runs (e.g. a thread_pool's executor); empty: the
    // engine's executor.
    boost::asio::any_io_executor snapshot_executor;
};

// A configuration the engine cannot run. what() lists every problem, one per line;
// problems() has them one by one.
class config_error : public error {
  public:
    explicit config_error(std::vector<std::string> problems);
    const std::vector<std::string>& problems() const noexcept { return problems_; }

  private:
    std::vector<std::string> problems_;
};

// What the engine reports about one pipeline.
struct pipeline_info {
    std::string id;
    std::string source_id;
    table_identifier table;
    std::string target_type;
    pipeline_state state = pipeline_state::initializing;
    std::size_t buffer_depth = 0;  // changes waiting in the buffer
    std::size_t buffer_capacity = 0;
    bool stale = false;  // dropped changes; needs a reload to catch up
    std::optional<position> applied_position;
    std::string last_error;  // why the pipeline went to ERROR, empty otherwise
};

// What the engine reports about one source.
struct source_info {
    std::string id;
    std::string source_type;
    bool supports_resume = false;
    ordering_guarantee ordering = ordering_guarantee::total_order;
    source_state state = source_state::closed;
    lag_info lag;
    std::optional<position> last_acked;
};

// The change-data-capture engine: drives every source through init -> validate -> (resume |
// baseline) -> stream, dispatches rows and changes to pipelines (a strand and a bounded
// buffer each), and ACKs each source the minimum position every live pipeline has durably
// processed.
//
// It is given an executor and never starts threads: run the io_context with as many threads
// as you like. An `engine` is a cheap handle (copies share one engine); every member function
// is safe to call from any thread.
//
// Asynchronous operations take a completion token (default: asio::deferred) and complete with
// void(std::exception_ptr): with use_awaitable a failure is thrown as laredo::error.
class engine {
  public:
    class builder;
    using completion_handler = boost::asio::any_completion_handler<void(std::exception_ptr)>;

    // Starts every source runner. Fails with errc::already_started or errc::stopped.
    // Completes once the runners are started (not when ready: see async_await_ready).
    template <class Token = boost::asio::deferred_t>
    auto async_start(Token&& token = {}) {
        return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
            initiation{impl_, &engine::start_impl}, token);
    }

    // Graceful stop: stop reading from the sources, apply everything buffered, send the
    // final ACK and wait until it is written, close targets and sources. After
    // shutdown_timeout the rest is aborted and the operation fails with errc::timeout.
    // Fails with errc::not_started or errc::stopped on misuse.
    template <class Token = boost::asio::deferred_t>
    auto async_stop(Token&& token = {}) {
        return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
            initiation{impl_, &engine::stop_impl}, token);
    }

    // Completes when every pipeline has reached STREAMING (or at once when it already has).
    // Fails with errc::stopped when the engine stops first.
    template <class Token = boost::asio::deferred_t>
    auto async_await_ready(Token&& token = {}) {
        return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
            initiation{impl_, &engine::await_ready_impl}, token);
    }

    // Pause a source: its pipelines stop applying, their buffers fill and the source meets
    // backpressure; nothing is dropped. Resume continues from where it stopped.
    template <class Token = boost::asio::deferred_t>
    auto async_pause(std::string source_id, Token&& token = {}) {
        return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
            source_initiation{impl_, &engine::pause_impl, std::move(source_id)}, token);
    }
    template <class Token = boost::asio::deferred_t>
    auto async_resume(std::string source_id, Token&& token = {}) {
        return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
            source_initiation{impl_, &engine::resume_impl, std::move(source_id)}, token);
    }

    // Re-baseline one table of a source while the stream goes on: the new copy is built
    // beside the old one and swapped in; changes that arrive meanwhile are kept and applied
    // after the swap when they are newer than the new baseline. Completes after the swap.
    // Fails with errc::unknown_source / errc::unknown_table (no active pipeline for it).
    template <class Token = boost::asio::deferred_t>
    auto async_reload(std::string source_id, table_identifier table, Token&& token = {}) {
        return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
            reload_initiation{impl_, std::move(source_id), std::move(table)}, token);
    }

    // Takes a snapshot of every STREAMING or PAUSED pipeline's target now (each table is
    // exported on its pipeline's strand, between batches, with the position it is consistent
    // with) and saves it; then prunes to snapshot_retention. Completes with its descriptor.
    // Fails with errc::unsupported without a store, errc::not_started / errc::stopped.
    template <class Token = boost::asio::deferred_t>
    auto async_create_snapshot(std::map<std::string, std::string> labels = {}, Token&& token = {}) {
        return boost::asio::async_initiate<Token, void(std::exception_ptr, snapshot_descriptor)>(
            snapshot_initiation{impl_, std::move(labels)}, token);
    }

    // Applies a pipeline's dead letters to its target in order, removing each one applied;
    // stops at the first that fails (and fails, naming how many were applied). Completes
    // with the number applied. Fails with errc::unknown_table for an unknown pipeline id,
    // errc::unsupported without a dead-letter store.
    template <class Token = boost::asio::deferred_t>
    auto async_replay_dead_letters(std::string pipeline_id, Token&& token = {}) {
        return boost::asio::async_initiate<Token, void(std::exception_ptr, std::size_t)>(
            replay_initiation{impl_, std::move(pipeline_id)}, token);
    }

    // The configured stores' contents (blocking file reads; not on a hot path). Throw
    // errc::unsupported when the store is not configured, and what the store throws.
    std::vector<snapshot_descriptor> list_snapshots() const;
    snapshot_descriptor describe_snapshot(const std::string& id) const;
    void delete_snapshot(const std::string& id);
    std::vector<dead_letter> dead_letters(const std::string& pipeline_id,
                                          std::size_t limit = 0) const;
    std::size_t purge_dead_letters(const std::string& pipeline_id);

    // Blocking wait for readiness, for threads that do not run the io_context (never call it
    // from one that does). Returns false on timeout; a zero timeout only checks.
    bool await_ready(std::chrono::milliseconds timeout) const;
    bool is_ready() const noexcept;
    // Live: every pipeline of the source is STREAMING or PAUSED. False for unknown sources.
    bool is_source_ready(const std::string& source_id) const;
    // Calls `callback` once the engine is ready (at once, on this thread, if it already is;
    // otherwise on an engine strand).
    void on_ready(std::function<void()> callback);

    std::vector<std::string> source_ids() const;
    std::vector<pipeline_info> pipelines() const;
    std::optional<source_info> source(const std::string& source_id) const;
    // The schema a source reported for a table at init, or nullptr.
    schema_ptr table_schema(const std::string& source_id, const table_identifier& table) const;
    // The targets of a table (of one source, or of all sources when source_id is empty).
    std::vector<std::shared_ptr<sync_target>> targets(const std::string& source_id,
                                                      const table_identifier& table) const;
    // The first target of type T for a source and table, or nullptr.
    template <class T>
    std::shared_ptr<T> target(const std::string& source_id, const table_identifier& table) const {
        for (auto& t : targets(source_id, table))
            if (auto typed = std::dynamic_pointer_cast<T>(t)) return typed;
        return nullptr;
    }

    const engine_options& options() const noexcept;

  private:
    friend class builder;
    explicit engine(std::shared_ptr<detail::engine_impl> impl) : impl_(std::move(impl)) {}

    using impl_fn = void (*)(const std::shared_ptr<detail::engine_impl>&, completion_handler);
    using source_fn = void (*)(const std::shared_ptr<detail::engine_impl>&, const std::string&,
                               completion_handler);

    // Initiations are named types, not lambdas: g++ 12 miscompiles lambdas with captures
    // that end up inside a co_await statement (conventions.md).
    struct initiation {
        std::shared_ptr<detail::engine_impl> impl;
        impl_fn fn;
        template <class Handler>
        void operator()(Handler&& h) const {
            fn(impl, completion_handler(std::forward<Handler>(h)));
        }
    };
    struct source_initiation {
        std::shared_ptr<detail::engine_impl> impl;
        source_fn fn;
        std::string source_id;
        template <class Handler>
        void operator()(Handler&& h) const {
            fn(impl, source_id, completion_handler(std::forward<Handler>(h)));
        }
    };
    struct reload_initiation {
        std::shared_ptr<detail::engine_impl> impl;
        std::string source_id;
        table_identifier table;
        template <class Handler>
        void operator()(Handler&& h) const {
            reload_impl(impl, source_id, table, completion_handler(std::forward<Handler>(h)));
        }
    };

    using snapshot_handler =
        boost::asio::any_completion_handler<void(std::exception_ptr, snapshot_descriptor)>;
    using count_handler =
        boost::asio::any_completion_handler<void(std::exception_ptr, std::size_t)>;
    struct snapshot_initiation {
        std::shared_ptr<detail::engine_impl> impl;
        std::map<std::string, std::string> labels;
        template <class Handler>
        void operator()(Handler&& h) const {
            create_snapshot_impl(impl, labels, snapshot_handler(std::forward<Handler>(h)));
        }
    };
    struct replay_initiation {
        std::shared_ptr<detail::engine_impl> impl;
        std::string pipeline_id;
        template <class Handler>
        void operator()(Handler&& h) const {
            replay_impl(impl, pipeline_id, count_handler(std::forward<Handler>(h)));
        }
    };
    static void create_snapshot_impl(const std::shared_ptr<detail::engine_impl>&,
                                     const std::map<std::string, std::string>&, snapshot_handler);
    static void replay_impl(const std::shared_ptr<detail::engine_impl>&, const std::string&,
                            count_handler);

    static void start_impl(const std::shared_ptr<detail::engine_impl>&, completion_handler);
    static void stop_impl(const std::shared_ptr<detail::engine_impl>&, completion_handler);
    static void await_ready_impl(const std::shared_ptr<detail::engine_impl>&, completion_handler);
    static void pause_impl(const std::shared_ptr<detail::engine_impl>&, const std::string&,
                           completion_handler);
    static void resume_impl(const std::shared_ptr<detail::engine_impl>&, const std::string&,
                            completion_handler);
    static void reload_impl(const std::shared_ptr<detail::engine_impl>&, const std::string&,
                            const table_identifier&, completion_handler);

    std::shared_ptr<detail::engine_impl> impl_;
};

// Collects sources and pipelines, then validates the whole configuration at once.
//
//   auto eng = laredo::engine::builder()
//                  .add_source("pg", source)
//                  .add_pipeline("pg", laredo::table_identifier("public", "users"), target)
//                  .build(ctx.get_executor());
class engine::builder {
  public:
    builder& add_source(std::string id, std::shared_ptr<sync_source> source);
    builder& add_pipeline(std::string source_id, table_identifier table,
                          std::shared_ptr<sync_target> target, pipeline_options options = {});
    builder& with_options(engine_options options);
    builder& with_observer(std::shared_ptr<engine_observer> observer);

    // Pipeline ids: pipeline_options::id when set, else "source:schema.table:target_type",
    // with ":2", ":3"... appended for further pipelines of the same source, table and
    // target type, so generated ids never collide.
    //
    // Throws config_error naming every problem: no sources, an empty id, a null source or
    // target, a pipeline on an unknown source, an empty table name, an id given twice, one
    // target object in two pipelines (naming both), buffer_size 0, negative retries, no
    // pipelines, TTL scanning or interval validation on a target that keeps no rows, negative
    // intervals.
    engine build(boost::asio::any_io_executor executor) const;

  private:
    struct source_entry {
        std::string id;
        std::shared_ptr<sync_source> source;
    };
    struct pipeline_entry {
        std::string source_id;
        table_identifier table;
        std::shared_ptr<sync_target> target;
        pipeline_options options;
    };
    // Every pipeline's id; appends the problems (duplicates, shared targets) to `problems`.
    std::vector<std::string> pipeline_ids(std::vector<std::string>& problems) const;

    std::vector<source_entry> sources_;
    std::vector<pipeline_entry> pipelines_;
    engine_options options_;
};

}  // namespace laredo
