#pragma once

// How a conformance case runs: a report that collects failures named after the item, an
// io_context of the case's own driven by N threads with a watchdog outside it, and bounded
// calls into the source (on its executor) and into the fixture (on the kit's fixture thread).

#include "laredo/testing/async.hpp"
#include "laredo/testing/conformance.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

namespace laredo::testing::detail {

namespace asio = boost::asio;
using asio::awaitable;
using std::chrono::milliseconds;

// Thrown inside a check once its failure is recorded, to end the check early.
struct check_aborted {};

// What a check observed. Thread-safe: hammer threads of the concurrency case report too.
class report {
  public:
    explicit report(std::string item);

    // Records "<item>: what".
    void fail(const std::string& what);
    // Records the failure and ends the check.
    [[noreturn]] void abort(const std::string& what);
    void skip(std::string why);
    bool failed() const;
    std::size_t failure_count() const;

    // What the case waits for now, named in the watchdog's failure.
    void set_step(std::string step);
    std::string step() const;

    check_result take();

  private:
    mutable std::mutex mutex_;
    check_result result_;
    std::string step_;
};

// The text of an exception: "code message" for system errors.
std::string describe(const std::exception_ptr& e);
// The error code an exception carries, or a default code.
boost::system::error_code code_of(const std::exception_ptr& e);

// An io_context whose handlers can be destroyed before the objects they refer to (sources
// hold strands of it, so they must go after the handlers and before the services).
class case_context : public asio::io_context {
  public:
    explicit case_context(int threads) : asio::io_context(threads) {}
    using asio::io_context::shutdown;
};

// One case: the context, the fixture, the report, and what must outlive the handlers.
class case_env {
  public:
    case_env(report& rep, conformance_fixture& fixture, const conformance_options& options,
             int threads);
    ~case_env();
    case_env(const case_env&) = delete;
    case_env& operator=(const case_env&) = delete;

    report& rep;
    conformance_fixture& fixture;
    const conformance_options& options;
    const std::vector<table_identifier> tables;

    case_context& ctx() { return *ctx_; }
    asio::any_io_executor fixture_executor() { return fixture_ctx_->get_executor(); }

    // Kept until the context's handlers are gone (sources, handlers, signals, engines).
    void keep(std::shared_ptr<void> p);

    // Runs `body` on the context, `threads` threads, until it completes or `total` passes
    // (failure). With `must_run_out_of_work` the context must then run out of work by itself
    // within options.stop_bound (failure otherwise); else it is stopped.
    void run(std::function<awaitable<void>()> body, bool must_run_out_of_work = false);

    // A fixture call that never returned: its thread cannot be joined, and the fixture must
    // not be destroyed under it.
    void mark_fixture_hung() { fixture_hung_ = true; }
    bool fixture_hung() const { return fixture_hung_; }

  private:
    void finish_threads(std::vector<std::thread>& threads, bool detach);

    const int threads_;
    std::unique_ptr<case_context> ctx_;
    bool context_abandoned_ = false;                 // threads that never returned still use it
    std::unique_ptr<asio::io_context> fixture_ctx_;  // one thread for fixture calls
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> fixture_work_;
    std::thread fixture_thread_;
    std::atomic<bool> fixture_hung_{false};
    std::mutex keep_mutex_;
    std::vector<std::shared_ptr<void>> kept_;
};

// ---- operations in flight ----

template <class T>
using result_of_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
class op_state {
  public:
    void complete(std::exception_ptr e, result_of_t<T> v) {
        std::lock_guard lock(mutex_);
        error_ = std::move(e);
        if (!error_) value_ = std::move(v);
        done_ = true;
    }
    bool done() const {
        std::lock_guard lock(mutex_);
        return done_;
    }
    std::exception_ptr error() const {
        std::lock_guard lock(mutex_);
        return error_;
    }
    // The result; rethrows what the operation threw. Only once done().
    result_of_t<T> take() {
        std::lock_guard lock(mutex_);
        if (error_) std::rethrow_exception(error_);
        return std::move(*value_);
    }

  private:
    mutable std::mutex mutex_;
    bool done_ = false;
    std::exception_ptr error_;
    std::optional<result_of_t<T>> value_;
};

template <class T>
awaitable<result_of_t<T>> as_result(awaitable<T> op) {
    if constexpr (std::is_void_v<T>) {
        co_await std::move(op);
        co_return std::monostate{};
    } else {
        co_return co_await std::move(op);
    }
}

// Completion handler of a spawned operation (a named type, not a capturing lambda inside
// co_await: docs/design.md, "Toolchain").
template <class T>
struct record_completion {
    std::shared_ptr<op_state<T>> state;
    void operator()(std::exception_ptr e, result_of_t<T> v) const {
        state->complete(std::move(e), std::move(v));
    }
};

// Starts `op` on `ex`; its outcome lands in the returned state.
template <class T>
std::shared_ptr<op_state<T>> spawn(asio::any_io_executor ex, awaitable<T> op) {
    auto state = std::make_shared<op_state<T>>();
    asio::co_spawn(ex, as_result(std::move(op)), record_completion<T>{state});
    return state;
}

// Starts `op` on `ex` with a cancellation slot of `signal`.
template <class T>
std::shared_ptr<op_state<T>> spawn(asio::any_io_executor ex, awaitable<T> op,
                                   asio::cancellation_signal& signal) {
    auto state = std::make_shared<op_state<T>>();
    asio::co_spawn(ex, as_result(std::move(op)),
                   asio::bind_cancellation_slot(signal.slot(), record_completion<T>{state}));
    return state;
}

// Sleeping and polling are laredo/testing/async.hpp's sleep_for and eventually, the same a
// source author's tests use.
template <class T>
awaitable<bool> wait_done(const std::shared_ptr<op_state<T>>& state, milliseconds limit) {
    const std::function<bool()> done = [&state] { return state->done(); };
    co_return co_await eventually(done, limit);
}

// Runs `op` on `ex` and returns its result. When it takes longer than `limit`, records
// "<what> did not complete within N ms" and ends the check (check_aborted). What the
// operation throws propagates.
template <class T>
awaitable<T> call(case_env& env, std::string what, asio::any_io_executor ex, awaitable<T> op,
                  std::optional<milliseconds> limit = std::nullopt) {
    env.rep.set_step(what);
    const auto bound = limit.value_or(env.options.deadline);
    auto state = spawn(std::move(ex), std::move(op));
    const bool finished = co_await wait_done(state, bound);
    if (!finished) {
        env.rep.abort(what + " did not complete within " + std::to_string(bound.count()) + " ms");
    }
    if constexpr (std::is_void_v<T>) {
        state->take();
    } else {
        co_return state->take();
    }
}

awaitable<void> invoke(std::function<void()> fn);

// Runs `fn` on the fixture thread, bounded like call().
awaitable<void> on_fixture(case_env& env, std::string what, std::function<void()> fn);

}  // namespace laredo::testing::detail
