#pragma once

// For testing a source directly, the way the engine calls it: a change handler and baseline
// sink that record what the source delivered (and can hold it back), on_source() to run one
// of its coroutines on its executor, and stream_runner to run stream() with a cancellation
// slot and end it with terminal cancellation. Header-only; waits with laredo/testing/async.hpp.

#include "laredo/change_handler.hpp"
#include "laredo/sync_source.hpp"
#include "laredo/testing/async.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace laredo::testing {

// Runs a coroutine of `source` on its executor and awaits it (the engine's way of calling).
template <class T>
boost::asio::awaitable<T> on_source(sync_source& source, boost::asio::awaitable<T> op) {
    co_return co_await boost::asio::co_spawn(source.get_executor(), std::move(op),
                                             boost::asio::use_awaitable);
}

// Records every call. Each call may be held at a gate (backpressure). Checks that every call
// runs on the executor it was given. Readable from any thread.
class recording_handler : public change_handler, public baseline_sink {
  public:
    explicit recording_handler(boost::asio::any_io_executor expected) : expected_(expected) {}

    boost::asio::awaitable<void> on_changes(std::vector<change_event> batch) override {
        note_thread();
        co_await pass_gate();
        std::lock_guard lock(mutex_);
        batch_sizes_.push_back(batch.size());
        calls_.push_back("changes:" + std::to_string(batch.size()));
        for (auto& e : batch) events_.push_back(std::move(e));
    }

    boost::asio::awaitable<void> on_heartbeat(position pos) override {
        note_thread();
        std::lock_guard lock(mutex_);
        calls_.push_back("heartbeat:" + pos.debug_string());
        heartbeats_.push_back(std::move(pos));
        co_return;
    }

    boost::asio::awaitable<void> on_rewind(position pos) override {
        note_thread();
        std::lock_guard lock(mutex_);
        calls_.push_back("rewind:" + pos.debug_string());
        rewinds_.push_back(std::move(pos));
        co_return;
    }

    boost::asio::awaitable<void> on_rows(const table_identifier& table,
                                         std::vector<row> rows) override {
        note_thread();
        co_await pass_gate();
        std::lock_guard lock(mutex_);
        row_batch_sizes_.push_back(rows.size());
        for (auto& r : rows) rows_.emplace_back(table, std::move(r));
    }

    // While closed, on_changes and on_rows wait (the source feels backpressure).
    void close_gate() { gate_open_ = false; }
    void open_gate() { gate_open_ = true; }
    std::size_t waiting_at_gate() const { return waiting_.load(); }

    std::vector<change_event> events() const { return locked(events_); }
    std::vector<std::size_t> batch_sizes() const { return locked(batch_sizes_); }
    std::vector<position> heartbeats() const { return locked(heartbeats_); }
    std::vector<position> rewinds() const { return locked(rewinds_); }
    std::vector<std::string> calls() const { return locked(calls_); }
    std::vector<std::pair<table_identifier, row>> rows() const { return locked(rows_); }
    std::vector<std::size_t> row_batch_sizes() const { return locked(row_batch_sizes_); }
    std::size_t event_count() const {
        std::lock_guard lock(mutex_);
        return events_.size();
    }
    bool all_calls_on_expected_executor() const { return !off_executor_; }

  private:
    template <class T>
    T locked(const T& v) const {
        std::lock_guard lock(mutex_);
        return v;
    }

    // Sources hand out a strand behind any_io_executor; only the strand can tell whether it
    // runs in this thread.
    void note_thread() {
        using strand_type = boost::asio::strand<boost::asio::any_io_executor>;
        const auto* strand = expected_.target<strand_type>();
        if (!strand || !strand->running_in_this_thread()) off_executor_ = true;
    }

    boost::asio::awaitable<void> pass_gate() {
        if (gate_open_) co_return;
        ++waiting_;
        while (!gate_open_) co_await sleep_for(std::chrono::milliseconds(1));
        --waiting_;
    }

    boost::asio::any_io_executor expected_;
    mutable std::mutex mutex_;
    std::vector<change_event> events_;
    std::vector<std::size_t> batch_sizes_;
    std::vector<position> heartbeats_;
    std::vector<position> rewinds_;
    std::vector<std::string> calls_;
    std::vector<std::pair<table_identifier, row>> rows_;
    std::vector<std::size_t> row_batch_sizes_;
    std::atomic<bool> gate_open_{true};
    std::atomic<std::size_t> waiting_{0};
    std::atomic<bool> off_executor_{false};
};

// stream() spawned on the source's executor with a cancellation slot, as the engine runs it.
class stream_runner {
  public:
    stream_runner(sync_source& source, position from, change_handler& handler)
        : executor_(source.get_executor()), state_(std::make_shared<shared>()) {
        auto on_done = [state = state_](std::exception_ptr e) {
            state->failure = e;
            state->done = true;
        };
        boost::asio::co_spawn(
            executor_, source.stream(std::move(from), handler),
            boost::asio::bind_cancellation_slot(state_->signal.slot(), std::move(on_done)));
    }

    // Emits terminal cancellation on the source's executor and waits for stream to end.
    boost::asio::awaitable<bool> cancel() {
        auto emit = [state = state_] {
            state->signal.emit(boost::asio::cancellation_type::terminal);
        };
        boost::asio::post(executor_, std::move(emit));
        co_return co_await wait_done();
    }

    boost::asio::awaitable<bool> wait_done(
        std::chrono::milliseconds limit = std::chrono::seconds(5)) {
        std::function<bool()> finished = [state = state_] { return state->done.load(); };
        co_return co_await eventually(finished, limit);
    }

    bool done() const { return state_->done; }
    std::exception_ptr failure() const { return state_->done ? state_->failure : nullptr; }

  private:
    struct shared {
        boost::asio::cancellation_signal signal;
        std::exception_ptr failure;
        std::atomic<bool> done{false};
    };
    boost::asio::any_io_executor executor_;
    std::shared_ptr<shared> state_;
};

}  // namespace laredo::testing
