#pragma once

#include "laredo/error.hpp"

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/system/error_code.hpp>

#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace laredo {

// What an engine operation says about a failure beyond its error code: a message naming
// the problem ("unknown source: pg2", "pipeline pg:public.users:memory.indexed went to
// ERROR before the engine was ready: ..."). The error code says what kind of failure it is
// (errc, in laredo_category()); decide on it, show the message.
//
// Every engine operation has an overload taking a diagnostics& before its completion token:
// the message is stored there before the handler runs (and cleared on success), so it is
// there with any token (callbacks, as_tuple, redirect_error, use_future...). Without that
// overload, the default token with_diagnostics(deferred) puts the message into the
// exception a co_await throws.
class diagnostics {
  public:
    const std::string& message() const noexcept { return message_; }
    void clear() noexcept { message_.clear(); }
    void assign(std::string message) { message_ = std::move(message); }

  private:
    std::string message_;
};

// Completion token adapter (as Boost.MySQL's with_diagnostics): an engine operation that
// completes with void(error_code, T...) completes `token` with void(std::exception_ptr, T...)
// instead, the exception being a laredo::error with the operation's code and message. So
// `co_await eng.async_reload(...)` throws an error that names the table, where plain
// use_awaitable would throw a system_error with the code alone. Works with laredo's engine
// operations only (they hand it their diagnostics).
template <class Token>
struct with_diagnostics_t {
    Token token;
};

template <class Token>
with_diagnostics_t<std::decay_t<Token>> with_diagnostics(Token&& token) {
    return {std::forward<Token>(token)};
}

// The default completion token of every engine operation.
using default_token = with_diagnostics_t<boost::asio::deferred_t>;

namespace detail {

// Wraps a void(exception_ptr, T...) handler into the void(error_code, T...) handler an
// operation completes, owning the diagnostics the operation fills.
template <class Handler>
class diagnostics_handler {
  public:
    diagnostics_handler(Handler h, diagnostics* given)
        : handler_(std::move(h)),
          owned_(given ? nullptr : std::make_unique<diagnostics>()),
          diag_(given ? given : owned_.get()) {}

    diagnostics* diag() const noexcept { return diag_; }

    template <class... Args>
    void operator()(boost::system::error_code ec, Args&&... args) {
        std::exception_ptr e;
        if (ec) e = std::make_exception_ptr(error(ec, diag_->message()));
        std::move(handler_)(e, std::forward<Args>(args)...);
    }

    Handler handler_;

  private:
    std::unique_ptr<diagnostics> owned_;
    diagnostics* diag_;
};

template <class Signature>
struct diagnostics_signature;
template <class R, class... Args>
struct diagnostics_signature<R(boost::system::error_code, Args...)> {
    using type = R(std::exception_ptr, Args...);
};

}  // namespace detail
}  // namespace laredo

namespace boost::asio {

template <class Token, class Signature>
struct async_result<laredo::with_diagnostics_t<Token>, Signature> {
    using adapted = typename laredo::detail::diagnostics_signature<Signature>::type;

    // Engine initiations take the diagnostics to fill as their first argument; any other
    // initiation gets a handler whose diagnostics stay empty.
    template <class Initiation>
    struct init_wrapper {
        Initiation initiation;

        template <class Handler, class... Args>
        void operator()(Handler&& handler, laredo::diagnostics* diag, Args&&... args) && {
            laredo::detail::diagnostics_handler<std::decay_t<Handler>> wrapped(
                std::forward<Handler>(handler), diag);
            auto* d = wrapped.diag();
            std::move(initiation)(std::move(wrapped), d, std::forward<Args>(args)...);
        }
        template <class Handler>
        void operator()(Handler&& handler) && {
            std::move(initiation)(laredo::detail::diagnostics_handler<std::decay_t<Handler>>(
                std::forward<Handler>(handler), nullptr));
        }
    };

    template <class Initiation, class RawToken, class... Args>
    static auto initiate(Initiation&& initiation, RawToken&& token, Args&&... args) {
        Token inner(std::forward<RawToken>(token).token);
        return async_initiate<Token, adapted>(
            init_wrapper<std::decay_t<Initiation>>{std::forward<Initiation>(initiation)}, inner,
            std::forward<Args>(args)...);
    }
};

// The wrapped handler keeps the executor, allocator and cancellation slot of the handler it
// wraps.
template <template <class, class> class Associator, class Handler, class DefaultCandidate>
struct associator<Associator, laredo::detail::diagnostics_handler<Handler>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type get(
        const laredo::detail::diagnostics_handler<Handler>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler_);
    }
    static auto get(const laredo::detail::diagnostics_handler<Handler>& h,
                    const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler_, c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler_, c);
    }
};

}  // namespace boost::asio
