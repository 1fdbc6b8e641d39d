#include "laredo/sources/postgres/source_options.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace laredo::sources::postgres {

std::string_view to_string(slot_mode mode) noexcept {
    return mode == slot_mode::stateful ? "stateful" : "ephemeral";
}

slot_mode parse_slot_mode(std::string_view text) {
    if (text == "ephemeral") return slot_mode::ephemeral;
    if (text == "stateful") return slot_mode::stateful;
    throw error(errc::invalid_config,
                fmt::format("invalid slot mode \"{}\": expected ephemeral or stateful", text));
}

std::string_view to_string(slot_loss_policy policy) noexcept {
    return policy == slot_loss_policy::fail ? "fail" : "rebaseline";
}

slot_loss_policy parse_slot_loss_policy(std::string_view text) {
    if (text == "rebaseline") return slot_loss_policy::rebaseline;
    if (text == "fail") return slot_loss_policy::fail;
    throw error(
        errc::invalid_config,
        fmt::format("invalid on_slot_invalidated \"{}\": expected rebaseline or fail", text));
}

std::string source_options::publication_name() const {
    return publication.name.empty() ? slot_name + "_pub" : publication.name;
}

namespace {

bool valid_slot_name(std::string_view s) {
    if (s.empty() || s.size() > 63) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

}  // namespace

void source_options::validate() const {
    std::vector<std::string> problems;
    if (!valid_slot_name(slot_name)) {
        problems.push_back(fmt::format(
            "slot_name \"{}\": a replication slot name is 1 to 63 of [a-z0-9_]", slot_name));
    }
    const auto name = publication_name();
    if (name.empty() || name.size() > 63 || name.find('\0') != std::string::npos) {
        problems.push_back(
            fmt::format("publication name \"{}\": 1 to 63 characters, no NUL", name));
    }
    constexpr std::array<std::string_view, 4> operations{"insert", "update", "delete", "truncate"};
    if (publication.publish.empty()) {
        problems.push_back(
            "publication.publish: name at least one of insert, update, delete, "
            "truncate");
    }
    for (const auto& op : publication.publish) {
        if (std::find(operations.begin(), operations.end(), op) == operations.end()) {
            problems.push_back(fmt::format(
                "publication.publish: unknown operation \"{}\" (insert, update, delete, truncate)",
                op));
        }
    }
    for (const auto& [table, t] : publication.tables) {
        for (const auto& c : t.columns) {
            if (c.empty())
                problems.push_back(
                    fmt::format("publication.tables.{}: an empty column name", table.to_string()));
        }
        if (t.row_filter.find(';') != std::string::npos) {
            problems.push_back(
                fmt::format("publication.tables.{}.row_filter: one expression, without ';'",
                            table.to_string()));
        }
    }
    for (const auto& [table, columns] : key_columns) {
        if (columns.empty()) {
            problems.push_back(
                fmt::format("key_columns.{}: name at least one column", table.to_string()));
        }
    }
    const auto positive = [&](std::chrono::milliseconds d, std::string_view what) {
        if (d.count() <= 0) problems.push_back(fmt::format("{} must be positive", what));
    };
    positive(status_interval, "status_interval");
    positive(health_interval, "health_interval");
    positive(slot_creation_timeout, "slot_creation_timeout");
    if (reconnect.max_attempts < 0) problems.push_back("reconnect.max_attempts must be 0 or more");
    positive(reconnect.initial_backoff, "reconnect.initial_backoff");
    positive(reconnect.max_backoff, "reconnect.max_backoff");
    if (reconnect.multiplier < 1.0) problems.push_back("reconnect.multiplier must be at least 1");
    if (reconnect.jitter < 0.0 || reconnect.jitter > 1.0)
        problems.push_back("reconnect.jitter must be between 0 and 1");
    if (baseline_batch_rows == 0) problems.push_back("baseline_batch_rows must be at least 1");
    if (change_batch_size == 0) problems.push_back("change_batch_size must be at least 1");
    if (read_batch_messages == 0) problems.push_back("read_batch_messages must be at least 1");
    if (problems.empty()) return;
    std::string what = "invalid PostgreSQL source options:";
    for (const auto& p : problems) what += "\n  " + p;
    throw error(errc::invalid_config, what);
}

}  // namespace laredo::sources::postgres
