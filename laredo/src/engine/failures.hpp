#pragma once

#include "laredo/error.hpp"

#include <boost/system/system_error.hpp>

#include <exception>
#include <string>

namespace laredo::detail {

// The message of a failure, for reports and observers.
inline std::string describe(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "unknown exception";
    }
}

// The error code a failure carries; empty for exceptions that are not system errors.
inline boost::system::error_code code_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& ex) {
        return ex.code();
    } catch (...) {
        return {};
    }
}

// The error code and message of a failure, for an operation's handler and diagnostics. The
// message is the one the failure was raised with (a system_error's what() without the code's
// own text appended); a failure without a code is errc::internal_error.
struct failure_report {
    boost::system::error_code code;
    std::string message;
};
inline failure_report report_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const boost::system::system_error& ex) {
        std::string message = ex.what();
        const std::string suffix = ": " + ex.code().what();
        if (message.size() > suffix.size() && message.ends_with(suffix))
            message.resize(message.size() - suffix.size());
        else if (message == ex.code().what())
            message = ex.code().message();
        return {ex.code(), std::move(message)};
    } catch (const std::exception& ex) {
        return {make_error_code(errc::internal_error), ex.what()};
    } catch (...) {
        return {make_error_code(errc::internal_error), "unknown exception"};
    }
}

// "category:value" (e.g. "laredo:11") for files and reports; "" without a code.
inline std::string code_text(const boost::system::error_code& ec) {
    if (!ec) return {};
    return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

// A target's failure is retried unless its code says retrying cannot help (an exception
// without a code, e.g. std::bad_alloc from a busy target, is retried).
inline bool retryable_target_failure(const std::exception_ptr& e) {
    const auto ec = code_of(e);
    return !ec || !is_fatal(ec);
}

// A source's failure is retried only when its code says so (transient, asio/system errors).
inline bool retryable_source_failure(const std::exception_ptr& e) {
    const auto ec = code_of(e);
    return ec && !is_fatal(ec);
}

}  // namespace laredo::detail
