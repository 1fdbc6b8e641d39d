#include "harness.hpp"

#include "laredo/error.hpp"

#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <condition_variable>

namespace laredo::testing::detail {

report::report(std::string item) { result_.item = std::move(item); }

void report::fail(const std::string& what) {
    std::lock_guard lock(mutex_);
    result_.failures.push_back(result_.item + ": " + what);
}

void report::abort(const std::string& what) {
    fail(what);
    throw check_aborted{};
}

void report::skip(std::string why) {
    std::lock_guard lock(mutex_);
    result_.skipped = std::move(why);
}

bool report::failed() const {
    std::lock_guard lock(mutex_);
    return !result_.failures.empty();
}

std::size_t report::failure_count() const {
    std::lock_guard lock(mutex_);
    return result_.failures.size();
}

void report::set_step(std::string step) {
    std::lock_guard lock(mutex_);
    step_ = std::move(step);
}

std::string report::step() const {
    std::lock_guard lock(mutex_);
    return step_;
}

check_result report::take() {
    std::lock_guard lock(mutex_);
    return std::move(result_);
}

std::string describe(const std::exception_ptr& e) {
    if (!e) return "no exception";
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& ex) {
        return fmt::format("{} ({})", ex.what(), ex.code().to_string());
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (const check_aborted&) {
        return "check aborted";
    } catch (...) {
        return "an exception that is not a std::exception";
    }
}

boost::system::error_code code_of(const std::exception_ptr& e) {
    if (!e) return {};
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& ex) {
        return ex.code();
    } catch (...) {
        return {};
    }
}

case_env::case_env(report& r, conformance_fixture& f, const conformance_options& o, int threads)
    : rep(r),
      fixture(f),
      options(o),
      tables(f.tables()),
      threads_(threads < 1 ? 1 : threads),
      ctx_(std::make_unique<case_context>(threads_)),
      fixture_ctx_(std::make_unique<asio::io_context>(1)) {
    fixture_work_.emplace(fixture_ctx_->get_executor());
    fixture_thread_ = std::thread([ctx = fixture_ctx_.get()] { ctx->run(); });
}

case_env::~case_env() {
    fixture_work_.reset();
    fixture_ctx_->stop();
    // A fixture call that never returned holds its thread: leave it with its context (the
    // caller leaks the fixture too) rather than hang the suite.
    if (fixture_hung_) {
        fixture_thread_.detach();
        (void)fixture_ctx_.release();
    } else {
        fixture_thread_.join();
    }
    if (context_abandoned_) {
        // Threads still inside handlers use the context and what they reference.
        (void)ctx_.release();
        (void)new std::vector<std::shared_ptr<void>>(std::move(kept_));
        return;
    }
    // Handlers first (coroutine frames that refer to sources), then the sources (their
    // strands need the context's services), then the services.
    ctx_->shutdown();
    kept_.clear();
    ctx_.reset();
}

void case_env::keep(std::shared_ptr<void> p) {
    std::lock_guard lock(keep_mutex_);
    kept_.push_back(std::move(p));
}

namespace {

// Counts io_context threads that returned from run().
struct exit_counter {
    std::mutex mutex;
    std::condition_variable cv;
    int exited = 0;
    bool body_done = false;
    bool body_failed = false;
};

}  // namespace

void case_env::finish_threads(std::vector<std::thread>& threads, bool detach) {
    for (auto& t : threads) {
        if (detach) {
            t.detach();
        } else {
            t.join();
        }
    }
    if (detach) context_abandoned_ = true;
}

void case_env::run(std::function<awaitable<void>()> body, bool must_run_out_of_work) {
    auto counter = std::make_shared<exit_counter>();
    auto on_done = [this, counter, must_run_out_of_work](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const check_aborted&) {
                // the failure is recorded
            } catch (...) {
                rep.fail(fmt::format("unexpected exception while {}: {}", rep.step(),
                                     describe(std::current_exception())));
            }
        }
        {
            std::lock_guard lock(counter->mutex);
            counter->body_done = true;
            counter->body_failed = e != nullptr;
        }
        counter->cv.notify_all();
        // A case that ended early left the source mid-way: its work says nothing about close.
        if (e || !must_run_out_of_work) ctx_->stop();
    };
    asio::co_spawn(*ctx_, body(), std::move(on_done));

    std::vector<std::thread> threads;
    for (int i = 0; i < threads_; ++i) {
        threads.emplace_back([this, counter] {
            ctx_->run();
            {
                std::lock_guard lock(counter->mutex);
                ++counter->exited;
            }
            counter->cv.notify_all();
        });
    }

    // Every wait inside the body is bounded; this bounds a body that blocks its threads or
    // waits on something the kit did not bound.
    const auto total = options.deadline * 6 + options.stop_bound * 2;
    std::unique_lock lock(counter->mutex);
    if (!counter->cv.wait_for(lock, total, [&] { return counter->body_done; })) {
        lock.unlock();
        rep.fail(fmt::format("the case did not finish within {} ms (waiting for: {})",
                             total.count(), rep.step()));
        ctx_->stop();
        lock.lock();
    } else if (must_run_out_of_work && !counter->body_failed) {
        const bool idle = counter->cv.wait_for(lock, options.stop_bound,
                                               [&] { return counter->exited == threads_; });
        if (!idle) {
            lock.unlock();
            rep.fail(fmt::format(
                "the io_context still had work {} ms after close() returned: a timer, socket "
                "operation or posted handler of the source is still pending",
                options.stop_bound.count()));
            ctx_->stop();
            lock.lock();
        }
    }
    // After stop(), threads return once their current handler does.
    const bool joined = counter->cv.wait_for(lock, options.stop_bound + options.deadline,
                                             [&] { return counter->exited == threads_; });
    lock.unlock();
    if (!joined) {
        rep.fail(
            "an io_context thread stayed blocked inside a handler of the source "
            "(a synchronous wait on the executor?)");
    }
    finish_threads(threads, !joined);
}

awaitable<void> invoke(std::function<void()> fn) {
    fn();
    co_return;
}

awaitable<void> on_fixture(case_env& env, std::string what, std::function<void()> fn) {
    env.rep.set_step(what);
    auto state = spawn(env.fixture_executor(), invoke(std::move(fn)));
    const bool finished = co_await wait_done(state, env.options.deadline);
    if (!finished) {
        env.mark_fixture_hung();
        env.rep.abort(
            fmt::format("{} did not return within {} ms", what, env.options.deadline.count()));
    }
    state->take();
}

}  // namespace laredo::testing::detail
