#pragma once

#include "failures.hpp"

#include "laredo/diagnostics.hpp"
#include "laredo/error.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

namespace laredo::detail {

// The adapters operation<>::start takes: the result of `work` as a tuple, with the engine
// kept alive until the work ends.
template <class Owner>
boost::asio::awaitable<std::tuple<>> no_result(std::shared_ptr<Owner> owner,
                                               boost::asio::awaitable<void> work) {
    co_await std::move(work);
    owner.reset();
    co_return std::tuple<>{};
}
template <class Owner, class T>
boost::asio::awaitable<std::tuple<T>> one_result(std::shared_ptr<Owner> owner,
                                                 boost::asio::awaitable<T> work) {
    auto result = co_await std::move(work);
    owner.reset();
    co_return std::tuple<T>(std::move(result));
}

// One engine operation between its initiation and its completion. The work runs as a
// coroutine on the engine's executor, detached from the caller's cancellation: a caller that
// stops waiting (its cancellation slot fires) completes at once with operation_aborted and
// the work runs on to its end, so the engine is never left half-way through a start, a stop
// or a reload. Whichever comes first (the result or the cancellation) completes the
// handler; the other finds it gone. The diagnostics are written only by the one that
// completes, before the handler runs.
template <class... T>
class operation : public std::enable_shared_from_this<operation<T...>> {
  public:
    using handler_type = boost::asio::any_completion_handler<void(boost::system::error_code, T...)>;

    // What a cancellation does besides completing the handler with operation_aborted.
    enum class on_cancel : std::uint8_t {
        run_on,     // the work runs to its end (a start, a stop, a reload...)
        stop_work,  // the work is a wait with no effect: it gets terminal cancellation
    };

    // Starts `work` on `ex` (a strand); completes `handler` when the work ends or when the
    // handler's slot asks for one of `cancellable`: posted to `io`, then run through the
    // handler's associated executor (never inside the initiating call).
    static void start(
        boost::asio::any_io_executor ex, boost::asio::any_io_executor io,
        boost::asio::awaitable<std::tuple<T...>> work, diagnostics* diag, handler_type handler,
        on_cancel what = on_cancel::run_on,
        boost::asio::cancellation_type cancellable = boost::asio::cancellation_type::terminal |
                                                     boost::asio::cancellation_type::partial) {
        auto op = std::shared_ptr<operation>(
            new operation(ex, std::move(io), diag, std::move(handler), what));
        op->listen_for_cancellation(cancellable);
        auto done = [op](std::exception_ptr e, std::tuple<T...> result) {
            op->finish(e, std::move(result));
        };
        if (what == on_cancel::stop_work) {
            boost::asio::co_spawn(
                ex, std::move(work),
                boost::asio::bind_cancellation_slot(op->work_cancel_.slot(), std::move(done)));
        } else {
            boost::asio::co_spawn(ex, std::move(work), std::move(done));
        }
    }

  private:
    operation(boost::asio::any_io_executor ex, boost::asio::any_io_executor io, diagnostics* diag,
              handler_type handler, on_cancel what)
        : ex_(std::move(ex)),
          io_(std::move(io)),
          diag_(diag),
          what_(what),
          handler_(std::move(handler)) {}

    void listen_for_cancellation(boost::asio::cancellation_type cancellable) {
        auto slot = boost::asio::get_associated_cancellation_slot(*handler_);
        if (!slot.is_connected()) return;
        std::weak_ptr<operation> weak = this->shared_from_this();
        slot.assign([weak, cancellable](boost::asio::cancellation_type type) {
            if ((type & cancellable) == boost::asio::cancellation_type::none) return;
            auto op = weak.lock();
            if (!op) return;
            op->complete(boost::asio::error::operation_aborted, "cancelled by the caller", {});
            // The work's signal is only touched on the work's strand.
            if (op->what_ == on_cancel::stop_work)
                boost::asio::post(op->ex_, [op] {
                    op->work_cancel_.emit(boost::asio::cancellation_type::terminal);
                });
        });
    }

    void finish(const std::exception_ptr& e, std::tuple<T...> result) {
        if (!e) {
            complete({}, {}, std::move(result));
            return;
        }
        auto report = report_of(e);
        complete(report.code, std::move(report.message), {});
    }

    void complete(boost::system::error_code ec, std::string message, std::tuple<T...> result) {
        std::optional<handler_type> h;
        {
            std::lock_guard lock(mutex_);
            h.swap(handler_);
        }
        if (!h) return;  // completed already (cancelled, or finished)
        if (diag_) {
            if (ec)
                diag_->assign(std::move(message));
            else
                diag_->clear();
        }
        auto args = std::tuple_cat(std::make_tuple(ec), std::move(result));
        std::apply(
            [&](auto&&... a) {
                boost::asio::post(io_, boost::asio::append(std::move(*h), std::move(a)...));
            },
            std::move(args));
    }

    boost::asio::any_io_executor ex_;
    boost::asio::any_io_executor io_;
    diagnostics* const diag_;
    const on_cancel what_;
    boost::asio::cancellation_signal work_cancel_;
    std::mutex mutex_;
    std::optional<handler_type> handler_;
};

}  // namespace laredo::detail
