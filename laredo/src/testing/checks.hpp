#pragma once

// The checklist's checks. Each runs one case in `env` (its own io_context) and records what
// it observed in env.rep.

#include "driver.hpp"
#include "harness.hpp"

#include <fmt/format.h>

#include <optional>
#include <string>

namespace laredo::testing::detail {

void check_all_operations_are_callable(case_env& env);
void check_init_reports_every_table_with_primary_key(case_env& env);
void check_unknown_table_is_an_error_naming_it(case_env& env);
void check_baseline_delivers_every_row_exactly_once(case_env& env);
void check_stream_delivers_every_change_exactly_once(case_env& env);
void check_stream_runs_until_cancelled(case_env& env);
void check_source_failure_surfaces_as_an_error(case_env& env);
void check_positions_strictly_increase(case_env& env);
void check_position_strings_round_trip(case_env& env);
void check_malformed_position_strings_are_rejected(case_env& env);
void check_state_follows_the_lifecycle(case_env& env);
void check_close_releases_everything(case_env& env);
void check_concurrent_calls_while_streaming(case_env& env);
void check_last_acked_position(case_env& env);
void check_restarted_engine_resumes(case_env& env);

// Runs an operation of the driver's source that must not throw. A throw is recorded as
// "<what> threw: ..." and gives nullopt; a timeout ends the case.
template <class T>
boost::asio::awaitable<std::optional<result_of_t<T>>> attempt(driver& d, std::string what,
                                                              boost::asio::awaitable<T> op) {
    std::exception_ptr failure;
    try {
        if constexpr (std::is_void_v<T>) {
            co_await d.on_source(what, std::move(op));
            co_return std::monostate{};
        } else {
            co_return co_await d.on_source(what, std::move(op));
        }
    } catch (const check_aborted&) {
        throw;
    } catch (...) {
        failure = std::current_exception();
    }
    d.env.rep.fail(fmt::format("{} threw: {}", what, describe(failure)));
    co_return std::nullopt;
}

// The state as text for messages.
inline std::string state_text(source_state s) { return std::string(to_string(s)); }

}  // namespace laredo::testing::detail
