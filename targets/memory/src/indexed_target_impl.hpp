#pragma once

// The body of indexed_target, shared by its source files: the options, the rows (row_store)
// and what the indexed target does to them; table_core does the rest.

#include "row_store.hpp"
#include "table_core.hpp"

#include "laredo/row.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace laredo::targets::memory {

class indexed_target::impl final : public detail::table_writer {
  public:
    explicit impl(indexed_target_options options);

    // --- table_writer ---
    void apply(detail::table_store& store, const change_event& c, bool record) override;
    void put(detail::table_store& store, const row& r, bool record) override;
    void prefetch(const detail::table_store& store, const change_event& c) noexcept override;
    void record_truncate() override { notes_.push_back({}); }
    void record_difference(const detail::table_store& before,
                           const detail::table_store& after) override;
    bool has_listeners() const noexcept override { return !listeners_->empty(); }
    void announce() override;

    void init(const table_identifier& table, schema_ptr schema);
    schema_change_response change_schema(const table_identifier& table,
                                         const row_schema& old_schema,
                                         const row_schema& new_schema);

    // The stores table_core holds are row_stores.
    static const detail::row_store* rows_of(const detail::table_store* s) noexcept {
        return static_cast<const detail::row_store*>(s);
    }
    const detail::row_store* live() const noexcept { return rows_of(core_.live()); }
    const schema_ptr& schema() const noexcept { return core_.schema(); }

    const indexed_target_options options_;
    std::size_t lookup_position_ = 0;  // of the lookup index in a store, when configured
    std::shared_ptr<detail::listener_registry<const row*, const row*>> listeners_;
    detail::table_core core_;

  private:
    // One change as listeners see it.
    struct note {
        std::optional<row> old_row;
        std::optional<row> new_row;
    };

    detail::store_ptr make_store(const table_identifier& table, const row_schema& schema) const;
    detail::store_ptr convert_store(const detail::row_store& from, const row_schema& from_schema,
                                    const row_schema& to_schema) const;
    std::optional<row> decoded(const detail::taken_row& r, bool record) const;

    std::vector<note> notes_;  // recorded, not yet announced (strand only)
};

}  // namespace laredo::targets::memory
