// Default implementations of the optional parts of the source and target contracts.
#include "laredo/change_handler.hpp"
#include "laredo/error.hpp"
#include "laredo/sync_source.hpp"
#include "laredo/sync_target.hpp"

#include <fmt/format.h>

namespace laredo {

using boost::asio::awaitable;

awaitable<void> baseline_sink::on_row(const table_identifier& table, row r) {
    std::vector<row> batch;
    batch.push_back(std::move(r));
    co_await on_rows(table, std::move(batch));
}

awaitable<void> change_handler::on_change(change_event event) {
    std::vector<change_event> batch;
    batch.push_back(std::move(event));
    co_await on_changes(std::move(batch));
}

awaitable<bool> sync_source::can_resume_from(const position&) { co_return supports_resume(); }

awaitable<void> sync_target::on_changes(const table_identifier& table,
                                        std::span<const change_event> changes) {
    for (const auto& change : changes) {
        set_change_position(change.pos);
        switch (change.action) {
            case change_action::insert:
                co_await on_insert(table, change);
                break;
            case change_action::update:
                co_await on_update(table, change);
                break;
            case change_action::delete_:
                co_await on_delete(table, change);
                break;
            case change_action::truncate:
                co_await on_truncate(table, change);
                break;
        }
    }
}

awaitable<schema_change_response> sync_target::on_schema_change(const table_identifier&,
                                                                const row_schema&,
                                                                const row_schema&) {
    co_return schema_change_response{schema_change_action::rebaseline,
                                     "columns changed: re-baseline"};
}

awaitable<void> sync_target::begin_rebuild(const table_identifier& table) {
    change_event truncate;
    truncate.table = table;
    truncate.action = change_action::truncate;
    co_await on_truncate(table, truncate);
}

awaitable<void> sync_target::commit_rebuild(const table_identifier&) { co_return; }

std::optional<row> sync_target::find(const row&) const { return std::nullopt; }

std::optional<std::uint64_t> sync_target::row_count(const table_identifier&) const {
    return std::nullopt;
}

void sync_target::for_each_row(const table_identifier& table,
                               const std::function<void(const row&)>&) const {
    throw error(errc::unsupported, fmt::format("target {} cannot enumerate the rows of {}",
                                               type_name(), table.to_string()));
}

awaitable<std::vector<row>> sync_target::export_snapshot(const table_identifier& table) {
    throw error(errc::unsupported, fmt::format("target {} cannot export a snapshot of {}",
                                               type_name(), table.to_string()));
    co_return std::vector<row>{};
}

awaitable<void> sync_target::restore_snapshot(const table_snapshot_info& info, std::vector<row>,
                                              const position&) {
    throw error(errc::unsupported, fmt::format("target {} cannot restore a snapshot of {}",
                                               type_name(), info.table.to_string()));
    co_return;
}

awaitable<void> sync_target::on_close(const table_identifier&) { co_return; }

}  // namespace laredo
