#pragma once

// The type-erased body of compiled_target<T>: everything but the casts lives in a .cpp.

#include "laredo/change_event.hpp"
#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/sync_target.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/targets/memory/subscription.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace laredo::targets::memory::detail {

using erased_object = std::shared_ptr<const void>;

struct compiled_core_options {
    std::function<erased_object(const row&)> compile;
    std::function<bool(const row&)> filter;
    std::vector<std::string> key_fields;
    std::size_t max_atomic_transaction_rows = 10'000;
};

class compiled_core {
  public:
    // Throws errc::invalid_config without a compiler or with max_atomic_transaction_rows 0.
    explicit compiled_core(compiled_core_options options);
    ~compiled_core();
    compiled_core(const compiled_core&) = delete;
    compiled_core& operator=(const compiled_core&) = delete;

    void init(const table_identifier& table, schema_ptr schema);
    void baseline_rows(const table_identifier& table, std::span<const row> rows);
    void baseline_complete(const table_identifier& table, const position& pos);
    void changes(const table_identifier& table, std::span<const change_event> changes);
    void begin_rebuild(const table_identifier& table);
    void commit_rebuild(const table_identifier& table);
    std::vector<row> export_rows(const table_identifier& table) const;
    void restore(const table_snapshot_info& info, std::vector<row> rows, const position& pos);

    std::optional<row> find(const row& identity) const;
    bool is_durable() const noexcept;
    bool is_mid_transaction() const noexcept;
    std::optional<position> confirmed_position() const;
    std::optional<position> persisted_position() const;

    erased_object get(const std::vector<value>& key) const;
    std::size_t count() const;
    void for_each(const std::function<void(const erased_object&)>& fn) const;
    std::vector<erased_object> objects() const;
    std::uint64_t rejected_count() const noexcept;
    std::optional<std::string> last_error() const;
    schema_ptr schema() const;

    subscription listen(std::function<void(const void*, const void*)> fn);

  private:
    class impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace laredo::targets::memory::detail
