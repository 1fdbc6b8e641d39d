#include "laredo/types.hpp"

#include "laredo/change_event.hpp"
#include "laredo/error.hpp"

#include <fmt/format.h>

namespace laredo {

std::string_view to_string(change_action a) noexcept {
    switch (a) {
        case change_action::insert:
            return "INSERT";
        case change_action::update:
            return "UPDATE";
        case change_action::delete_:
            return "DELETE";
        case change_action::truncate:
            return "TRUNCATE";
    }
    return "UNKNOWN";
}

std::string_view to_string(ordering_guarantee g) noexcept {
    switch (g) {
        case ordering_guarantee::total_order:
            return "TOTAL_ORDER";
        case ordering_guarantee::per_table_order:
            return "PER_TABLE_ORDER";
        case ordering_guarantee::per_partition_order:
            return "PER_PARTITION_ORDER";
        case ordering_guarantee::best_effort:
            return "BEST_EFFORT";
    }
    return "UNKNOWN";
}

std::string_view to_string(source_state s) noexcept {
    switch (s) {
        case source_state::connecting:
            return "CONNECTING";
        case source_state::connected:
            return "CONNECTED";
        case source_state::streaming:
            return "STREAMING";
        case source_state::reconnecting:
            return "RECONNECTING";
        case source_state::paused:
            return "PAUSED";
        case source_state::error:
            return "ERROR";
        case source_state::closed:
            return "CLOSED";
    }
    return "UNKNOWN";
}

std::string_view to_string(pipeline_state s) noexcept {
    switch (s) {
        case pipeline_state::initializing:
            return "INITIALIZING";
        case pipeline_state::baselining:
            return "BASELINING";
        case pipeline_state::streaming:
            return "STREAMING";
        case pipeline_state::paused:
            return "PAUSED";
        case pipeline_state::error:
            return "ERROR";
        case pipeline_state::stopped:
            return "STOPPED";
    }
    return "UNKNOWN";
}

std::string_view to_string(buffer_policy p) noexcept {
    switch (p) {
        case buffer_policy::block:
            return "block";
        case buffer_policy::drop_oldest:
            return "drop_oldest";
        case buffer_policy::error:
            return "error";
    }
    return "unknown";
}

buffer_policy parse_buffer_policy(std::string_view text) {
    if (text == "block") return buffer_policy::block;
    if (text == "drop_oldest") return buffer_policy::drop_oldest;
    if (text == "error") return buffer_policy::error;
    throw error(
        errc::invalid_argument,
        fmt::format("unknown buffer policy \"{}\": expected block, drop_oldest or error", text));
}

std::string_view to_string(error_policy p) noexcept {
    switch (p) {
        case error_policy::isolate:
            return "isolate";
        case error_policy::stop_source:
            return "stop_source";
        case error_policy::stop_all:
            return "stop_all";
    }
    return "unknown";
}

error_policy parse_error_policy(std::string_view text) {
    if (text == "isolate") return error_policy::isolate;
    if (text == "stop_source") return error_policy::stop_source;
    if (text == "stop_all") return error_policy::stop_all;
    throw error(
        errc::invalid_argument,
        fmt::format("unknown error policy \"{}\": expected isolate, stop_source or stop_all",
                    text));
}

std::string validation_error::to_string() const {
    if (table) return fmt::format("{}: {}: {}", table->to_string(), code, message);
    return fmt::format("{}: {}", code, message);
}

std::string change_event::debug_string() const {
    std::string out =
        fmt::format("{} {} @{}", laredo::to_string(action), table.to_string(), pos.debug_string());
    if (!new_values.empty()) out += " new=" + new_values.debug_string();
    if (!old_values.empty()) out += " old=" + old_values.debug_string();
    return out;
}

}  // namespace laredo
