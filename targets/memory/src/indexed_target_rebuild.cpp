// The indexed target's whole-table operations: rebuild, restore, schema changes.
#include "laredo/targets/memory/indexed_target.hpp"

#include "indexed_target_impl.hpp"
#include "row_store.hpp"
#include "table_layout.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

namespace laredo::targets::memory {

using boost::asio::awaitable;

schema_change_response indexed_target::impl::change_schema(const table_identifier& table,
                                                           const row_schema& old_schema,
                                                           const row_schema& new_schema) {
    core_.check_table(table);
    const row_schema& current = *schema();
    if (!detail::only_adds_columns(old_schema, new_schema) ||
        !detail::only_adds_columns(current, new_schema)) {
        return {
            schema_change_action::rebaseline,
            fmt::format("columns of {} changed beyond additions: re-baseline", table.to_string())};
    }
    auto next = std::make_shared<const row_schema>(new_schema);
    if (detail::keeps_column_positions(current, new_schema)) {
        core_.set_schema(std::move(next));
    } else {
        // Rows are packed by column position: re-pack them in the new order.
        auto live = convert_store(*rows_of(core_.live()), current, new_schema);
        const detail::row_store* shadow =
            core_.writing() != core_.live() ? rows_of(core_.writing()) : nullptr;
        detail::store_ptr new_shadow =
            shadow ? convert_store(*shadow, current, new_schema) : nullptr;
        core_.repack(std::move(next), std::move(live), std::move(new_shadow));
    }
    // ALTER TABLE ... ADD COLUMN ... DEFAULT gives every existing row the default without a
    // change for any of them: the rows take the new columns now (reading null), and only a
    // new copy of the table has the default in them.
    if (const auto with_defaults = detail::added_columns_with_defaults(old_schema, new_schema);
        !with_defaults.empty()) {
        return {schema_change_action::rebaseline,
                fmt::format("columns added to {} with a default, which stored rows lack: {}; "
                            "re-baseline",
                            table.to_string(), with_defaults)};
    }
    return {schema_change_action::continue_,
            fmt::format("columns added to {}: {}", table.to_string(),
                        detail::added_column_names(old_schema, new_schema))};
}

awaitable<void> indexed_target::begin_rebuild(const table_identifier& table) {
    impl_->core_.begin_rebuild(table);
    co_return;
}

awaitable<void> indexed_target::commit_rebuild(const table_identifier& table) {
    impl_->core_.commit_rebuild(table);
    co_return;
}

awaitable<void> indexed_target::restore_snapshot(const table_snapshot_info& info,
                                                 std::vector<row> rows, const position& pos) {
    impl_->core_.restore(info, std::move(rows), pos);
    co_return;
}

awaitable<std::vector<row>> indexed_target::export_snapshot(const table_identifier& table) {
    impl_->core_.check_table(table);
    co_return rows();
}

awaitable<schema_change_response> indexed_target::on_schema_change(const table_identifier& table,
                                                                   const row_schema& old_schema,
                                                                   const row_schema& new_schema) {
    co_return impl_->change_schema(table, old_schema, new_schema);
}

}  // namespace laredo::targets::memory
