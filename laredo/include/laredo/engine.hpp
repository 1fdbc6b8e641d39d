#pragma once

#include "laredo/dead_letter_store.hpp"
#include "laredo/diagnostics.hpp"
#include "laredo/error.hpp"
#include "laredo/observer.hpp"
#include "laredo/pipeline_options.hpp"
#include "laredo/position.hpp"
#include "laredo/retry_policy.hpp"
#include "laredo/snapshot_store.hpp"
#include "laredo/sync_source.hpp"
#include "laredo/sync_target.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/types.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
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

    // A source whose init, baseline or stream fails with a retryable error is retried by
    // this policy before its pipelines go to ERROR: by default 1 s doubling to 30 s, 10
    // attempts. Each phase counts its own attempts; a stream that delivered changes, or ran
    // for reset_after, before it failed starts over.
    retry_policy source_retry{
        std::chrono::milliseconds(1'000), 2.0, std::chrono::milliseconds(30'000), 0.0, 10,
        std::chrono::milliseconds(0)};

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
// is safe to call from any thread, and several operations may be outstanding at once.
//
// Asynchronous operations follow Asio's conventions. Each completes with
// void(boost::system::error_code) or void(boost::system::error_code, T); the codes are
// laredo's errc (laredo_category()) or boost::asio::error::operation_aborted. The message
// naming the problem is the operation's diagnostics: pass a `diagnostics&` before the token
// to get it with any token (callbacks, as_tuple, redirect_error, use_future), or use the
// default token, with_diagnostics(deferred), whose co_await throws a laredo::error carrying
// code and message. The handler runs through its associated executor, never inside the
// initiating call.
//
// Cancellation: every operation's handler may carry a cancellation slot (bind_cancellation_slot,
// awaitable operators, a co_spawn'ed caller being cancelled). Where an operation says
// "cancelling stops the wait", a terminal or partial cancellation completes it at once with
// operation_aborted while the engine carries the work through to its end: a cancelled caller
// never leaves the engine half-started, half-stopped or half-reloaded, and the engine's state
// afterwards is what the operation would have produced (observe it with pipelines(),
// is_ready(), the observer, or by waiting again).
class engine {
  public:
    class builder;
    using executor_type = boost::asio::any_io_executor;
    using void_signature = void(boost::system::error_code);
    using snapshot_signature = void(boost::system::error_code, snapshot_descriptor);
    using count_signature = void(boost::system::error_code, std::size_t);
    using snapshot_labels = std::map<std::string, std::string>;

    // The executor the engine was built with (its strands are made from it).
    executor_type get_executor() const noexcept;

    // Starts every source runner: sources init, validate, resume or baseline, then stream.
    // Completes once the runners are started, not when ready (see async_await_ready).
    //   Signature: void(error_code).
    //   Errors: errc::already_started; errc::stopped (the engine was stopped: build a new one).
    //   Cancellation: stops the wait; the start completes in the background.
    //   Thread safety: from any thread, concurrently with any other operation.
    template <boost::asio::completion_token_for<void_signature> Token = default_token>
    auto async_start(Token&& token = {}) {
        return initiate<void_signature>(std::forward<Token>(token), nullptr, &engine::start_impl);
    }
    template <boost::asio::completion_token_for<void_signature> Token = default_token>
    auto async_start(diagnostics& diag, Token&& token = {}) {
        return initiate<void_signature>(std::forward<Token>(token), &diag, &engine::start_impl);
    }

    // Graceful stop: stop reading from the sources, apply everything buffered, take the
    // shutdown snapshot when configured, send the final ACK and wait until it is written,
    // close targets and sources. After shutdown_timeout the rest is aborted (buffered changes
    // are dropped, not ACKed: a restart re-delivers them). A stop requested while another
    // runs completes with it.
    //   Signature: void(error_code).
    //   Errors: errc::not_started; errc::stopped (already stopped); errc::timeout (stopped
    //   anyway, after shutdown_timeout).
    //   Cancellation: stops the wait; the stop runs to its end (bounded by shutdown_timeout).
    //   Thread safety: from any thread, concurrently with any other operation.
    template <boost::asio::completion_token_for<void_signature> Token = default_token>
    auto async_stop(Token&& token = {}) {
        return initiate<void_signature>(std::forward<Token>(token), nullptr, &engine::stop_impl);
    }
    template <boost::asio::completion_token_for<void_signature> Token = default_token>
    auto async_stop(diagnostics& diag, Token&& token = {}) {
        return initiate<void_signature>(std::forward<Token>(token), &diag, &engine::stop_impl);
    }

    // Completes when every pipeline has reached STREAMING (at once when it already has). May
    // be started before async_start.
    //   Signature: void(error_code).
    //   Errors: errc::pipeline_failed when a pipeline is in ERROR before the engine is ready
    //   (the message names the pipeline and why; at once when one already is); errc::stopped
    //   when the engine stops first.
    //   Cancellation: terminal, partial and total; the engine is not affected.
    //   Thread safety: from any thread, concurrently with any other operation.
    template <boost::asio::completion_token_for<void_signature> Token = default_token>
    auto async_await_ready(Token&& token = {}) {
        return initiate<void_signature>(std::forward<Token>(token), nullptr,
                                        &engine::await_ready_impl);
    }
    template <boost::asio::completion_token_for<void_signature> Token = default_token>
    auto async_await_ready(diagnostics& diag, Token&& token = {}) {
        return initiate<void_signature>(std::forward<Token>(token), &diag,
                                        &engine::await_ready_impl);
    }

    // Pause a source: its pipelines stop applying, their buffers fill and the source meets
    // backpressure; nothing is dropped. Resume continues from where it stopped.
    //   Signature: void(error_code).
    //   Errors: errc::not_started, errc::stopped, errc::unknown_source; what the source's
    //   pause()/resume() throws.
    //   Cancellation: stops the wait; the pause (resume) completes in the background.
    //   Thread safety: from any thread, concurrently with any other operation.
    template <boost::asio::completion_token_for<void_signature> Token = default_token>
    auto async_pause(std::string source_id, Token&& token = {}) {
        return initiate<void_signature>(std::forward<Token>(token), nullptr, &engine::pause_impl,
                                        std::move(source_id));
    }
    template <boost::asio::completion_token_for<void_signature> Token = default_token>
    auto async_pause(std::string source_id, diagnostics& diag, Token&& token = {}) {
        return initiate<void_signature>(std::forward<Token>(token), &diag, &engine::pause_impl,
                                        std::move(source_id));
    }
    template <boost::asio::completion_token_for<void_signature> Token = default_token>
    auto async_resume(std::string source_id, Token&& token = {}) {
        return initiate<void_signature>(std::forward<Token>(token), nullptr, &engine::resume_impl,
                                        std::move(source_id));
    }
    template <boost::asio::completion_token_for<void_signature> Token = default_token>
    auto async_resume(std::string source_id, diagnostics& diag, Token&& token = {}) {
        return initiate<void_signature>(std::forward<Token>(token), &diag, &engine::resume_impl,
                                        std::move(source_id));
    }

    // Re-baseline one table of a source while the stream goes on: the new copy is built
    // beside the old one and swapped in; changes that arrive meanwhile are kept and applied
    // after the swap when they are newer than the new baseline. Completes after the swap.
    // A pipeline in ERROR (isolated, or whose baseline failed) recovers this way.
    //   Signature: void(error_code).
    //   Errors: errc::not_started, errc::stopped, errc::unknown_source, errc::unknown_table
    //   (no pipeline of the source can reload the table), errc::invalid_argument (a reload of
    //   the source is running), errc::source_failed (the baseline failed).
    //   Cancellation: stops the wait; the reload runs to its end.
    //   Thread safety: from any thread, concurrently with any other operation.
    template <boost::asio::completion_token_for<void_signature> Token = default_token>
    auto async_reload(std::string source_id, table_identifier table, Token&& token = {}) {
        return initiate<void_signature>(std::forward<Token>(token), nullptr, &engine::reload_impl,
                                        std::move(source_id), std::move(table));
    }
    template <boost::asio::completion_token_for<void_signature> Token = default_token>
    auto async_reload(std::string source_id, table_identifier table, diagnostics& diag,
                      Token&& token = {}) {
        return initiate<void_signature>(std::forward<Token>(token), &diag, &engine::reload_impl,
                                        std::move(source_id), std::move(table));
    }

    // Takes a snapshot of every STREAMING or PAUSED pipeline's target now (each table is
    // exported on its pipeline's strand, between batches, with the position it is consistent
    // with) and saves it; then prunes to snapshot_retention. Snapshots are taken one at a
    // time. Completes with the saved snapshot's descriptor.
    //   Signature: void(error_code, snapshot_descriptor).
    //   Errors: errc::unsupported (no store), errc::not_started, errc::stopped; what the
    //   store or a target's export throws.
    //   Cancellation: stops the wait; the snapshot is still taken and saved.
    //   Thread safety: from any thread, concurrently with any other operation.
    template <boost::asio::completion_token_for<snapshot_signature> Token = default_token>
    auto async_create_snapshot(Token&& token = {}) {
        return initiate<snapshot_signature>(std::forward<Token>(token), nullptr,
                                            &engine::create_snapshot_impl, snapshot_labels{});
    }
    template <boost::asio::completion_token_for<snapshot_signature> Token = default_token>
    auto async_create_snapshot(diagnostics& diag, Token&& token = {}) {
        return initiate<snapshot_signature>(std::forward<Token>(token), &diag,
                                            &engine::create_snapshot_impl, snapshot_labels{});
    }
    template <boost::asio::completion_token_for<snapshot_signature> Token = default_token>
    auto async_create_snapshot(snapshot_labels labels, Token&& token = {}) {
        return initiate<snapshot_signature>(std::forward<Token>(token), nullptr,
                                            &engine::create_snapshot_impl, std::move(labels));
    }
    template <boost::asio::completion_token_for<snapshot_signature> Token = default_token>
    auto async_create_snapshot(snapshot_labels labels, diagnostics& diag, Token&& token = {}) {
        return initiate<snapshot_signature>(std::forward<Token>(token), &diag,
                                            &engine::create_snapshot_impl, std::move(labels));
    }

    // Applies a pipeline's dead letters to its target in order, removing each one applied;
    // stops at the first that fails. Completes with the number applied.
    //   Signature: void(error_code, std::size_t).
    //   Errors: errc::unsupported (no dead-letter store), errc::not_started, errc::stopped,
    //   errc::unknown_table (unknown pipeline id), errc::target_failed (a letter failed; the
    //   message says how many were applied before it).
    //   Cancellation: stops the wait; the replay runs to its end.
    //   Thread safety: from any thread, concurrently with any other operation.
    template <boost::asio::completion_token_for<count_signature> Token = default_token>
    auto async_replay_dead_letters(std::string pipeline_id, Token&& token = {}) {
        return initiate<count_signature>(std::forward<Token>(token), nullptr, &engine::replay_impl,
                                         std::move(pipeline_id));
    }
    template <boost::asio::completion_token_for<count_signature> Token = default_token>
    auto async_replay_dead_letters(std::string pipeline_id, diagnostics& diag, Token&& token = {}) {
        return initiate<count_signature>(std::forward<Token>(token), &diag, &engine::replay_impl,
                                         std::move(pipeline_id));
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
    // from one that does). Returns false on timeout, when the engine stops, or when a
    // pipeline is in ERROR before ready; a zero timeout only checks.
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

    template <class Signature>
    using handler = boost::asio::any_completion_handler<Signature>;
    using impl_ptr = std::shared_ptr<detail::engine_impl>;

    // One initiation for every operation: the diagnostics come first (with_diagnostics
    // relies on it), then the type-erased body in engine.cpp and its arguments. A named
    // type, not a lambda: g++ 12 miscompiles lambdas with captures that end up inside a
    // co_await statement.
    template <class Signature>
    struct initiation {
        impl_ptr impl;
        template <class Handler, class Fn, class... Args>
        void operator()(Handler&& h, diagnostics* diag, Fn fn, Args&&... args) const {
            fn(impl, diag, handler<Signature>(std::forward<Handler>(h)),
               std::forward<Args>(args)...);
        }
    };
    template <class Signature, class Token, class Fn, class... Args>
    auto initiate(Token&& token, diagnostics* diag, Fn fn, Args&&... args) const {
        return boost::asio::async_initiate<Token, Signature>(initiation<Signature>{impl_}, token,
                                                             diag, fn, std::forward<Args>(args)...);
    }

    static void start_impl(const impl_ptr&, diagnostics*, handler<void_signature>);
    static void stop_impl(const impl_ptr&, diagnostics*, handler<void_signature>);
    static void await_ready_impl(const impl_ptr&, diagnostics*, handler<void_signature>);
    static void pause_impl(const impl_ptr&, diagnostics*, handler<void_signature>,
                           std::string source_id);
    static void resume_impl(const impl_ptr&, diagnostics*, handler<void_signature>,
                            std::string source_id);
    static void reload_impl(const impl_ptr&, diagnostics*, handler<void_signature>,
                            std::string source_id, table_identifier table);
    static void create_snapshot_impl(const impl_ptr&, diagnostics*, handler<snapshot_signature>,
                                     snapshot_labels labels);
    static void replay_impl(const impl_ptr&, diagnostics*, handler<count_signature>,
                            std::string pipeline_id);

    impl_ptr impl_;
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
    // target, a source whose get_executor() is not a strand, a pipeline on an unknown source, an
    // empty table name, an id given twice, one target object in two pipelines (naming both),
    // buffer_size 0, negative retries, no pipelines, TTL scanning or interval validation on a
    // target that keeps no rows, negative intervals.
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

namespace boost::asio::detail {

// Asio 1.26 cannot co_await an operation that completes with void(std::exception_ptr, T): its
// handler for that signature tests the result record instead of the exception and does not
// compile. The engine's operations with a result complete that way under their default token
// (with_diagnostics(deferred)), so `co_await eng.async_create_snapshot()` needs these
// specialisations for the two result types (later Asio versions fix the general one). Each
// does what the general one means to; the completion touches the frame's private members,
// which only a specialisation of awaitable_async_op_handler may.
template <class T>
struct laredo_exception_value_result {
    std::exception_ptr* ex_;
    T* value_;
    T take() {
        if (*ex_) std::rethrow_exception(std::exchange(*ex_, nullptr));
        return std::move(*value_);
    }
};

#define LAREDO_EXCEPTION_VALUE_HANDLER(T)                                                     \
    template <>                                                                               \
    class awaitable_async_op_handler<void(std::exception_ptr, T), any_io_executor>            \
        : public awaitable_thread<any_io_executor> {                                          \
      public:                                                                                 \
        using result_type = laredo_exception_value_result<T>;                                 \
        awaitable_async_op_handler(awaitable_thread<any_io_executor>* h, result_type& result) \
            : awaitable_thread<any_io_executor>(std::move(*h)), result_(result) {}            \
        void operator()(std::exception_ptr ex, T value) {                                     \
            result_.ex_ = &ex;                                                                \
            result_.value_ = &value;                                                          \
            this->entry_point()->top_of_stack_->attach_thread(this);                          \
            this->entry_point()->top_of_stack_->clear_cancellation_slot();                    \
            this->pump();                                                                     \
        }                                                                                     \
        static T resume(result_type& result) { return result.take(); }                        \
                                                                                              \
      private:                                                                                \
        result_type& result_;                                                                 \
    };

LAREDO_EXCEPTION_VALUE_HANDLER(laredo::snapshot_descriptor)
LAREDO_EXCEPTION_VALUE_HANDLER(std::size_t)
#undef LAREDO_EXCEPTION_VALUE_HANDLER

}  // namespace boost::asio::detail
