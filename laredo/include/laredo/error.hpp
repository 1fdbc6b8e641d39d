#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <string>
#include <type_traits>

namespace laredo {

// Every expected failure in laredo carries one of these codes. The engine decides what to do
// with a failure by its code (is_fatal), never by parsing a message.
enum class errc {
    invalid_argument = 1,  // bad input from a caller: malformed identifier, bad option...
    invalid_position,      // a position string that does not parse, or of the wrong kind
    invalid_config,        // an engine or pipeline configuration that cannot run
    unknown_source,        // an admin call named a source the engine does not have
    unknown_table,         // a table the source does not serve, or no pipeline has
    not_started,           // lifecycle misuse: the engine was not started
    already_started,       // lifecycle misuse: start called twice
    stopped,               // the engine (or a source) was stopped
    timeout,               // an operation did not finish in its time limit
    source_failed,         // a source reported a failure it cannot recover from
    target_failed,         // a target reported a failure it cannot recover from
    transient,             // a failure worth retrying (connection lost, target busy)
    rebaseline_required,   // the source cannot continue streaming: take a new baseline
    buffer_overflow,       // a pipeline buffer with policy `error` was full
    schema_mismatch,       // a row or stored file does not match the expected schema
    corrupt_data,          // a stored file or message failed its integrity checks
    unsupported,           // the operation is not offered by this source or target
    pipeline_failed,       // a pipeline went to ERROR (e.g. before the engine was ready)
    internal_error,        // an unexpected failure that carried no error code
};

const boost::system::error_category& laredo_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), laredo_category()};
}

// True for failures that retrying cannot fix. Codes from other categories (e.g. asio's) are
// treated as transient unless they are clearly a programming or input error.
bool is_fatal(const boost::system::error_code& ec) noexcept;

// The exception laredo throws for expected failures: a system_error with a laredo code and a
// message that names the problem ("invalid table identifier \"x\": expected schema.table").
class error : public boost::system::system_error {
  public:
    error(errc code, const std::string& what) : system_error(make_error_code(code), what) {}
    error(boost::system::error_code code, const std::string& what) : system_error(code, what) {}
};

}  // namespace laredo

namespace boost::system {
template <>
struct is_error_code_enum<laredo::errc> : std::true_type {};
}  // namespace boost::system
