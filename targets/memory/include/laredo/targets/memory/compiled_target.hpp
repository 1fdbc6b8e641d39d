#pragma once

#include "laredo/error.hpp"
#include "laredo/row.hpp"
#include "laredo/sync_target.hpp"
#include "laredo/targets/memory/detail/compiled_core.hpp"
#include "laredo/targets/memory/subscription.hpp"

#include <boost/asio/awaitable.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace laredo::targets::memory {

template <class T>
struct compiled_target_options {
    // Turns a row into the object kept for it. Required. Throwing rejects the row: it is
    // counted (rejected_count()) and described (last_error()); an update that fails to
    // compile keeps the previous object. It runs under the target's write lock: it must not
    // read this target.
    std::function<T(const row&)> compiler;
    // The fields objects are kept by (get() takes their values in this order). Default: the
    // table's key columns; a table with neither is refused at on_init. Fields other than
    // the table's key must be unique across rows (a second row taking a key is an
    // errc::target_failed).
    std::vector<std::string> key_fields;
    // Rows for which it returns false are not kept; an update whose new row fails it removes
    // the object. Runs under the write lock like the compiler.
    std::function<bool(const row&)> filter;
    // As for the indexed target: transactions up to this size are applied atomically.
    std::size_t max_atomic_transaction_rows = 10'000;
};

// Keeps one table's rows as domain objects built by a compiler function, by key. Reads are
// safe from any thread (shared lock) and return shared, immutable objects.
//
// Writes follow the indexed target: inserts and baseline rows upsert, updates find the
// stored row by change.identity() and merge `unchanged` columns from it before filtering
// and compiling, deletes of missing rows do nothing, truncate empties, re-baselines build a
// shadow copy swapped in at commit_rebuild. A schema change asks for a re-baseline (the
// compiler was written for the old columns). restore_snapshot filters and compiles the rows
// again (without listener calls) and its position is the persisted position; a second
// on_init starts from an empty target.
//
// Listeners get (old object, new object) with nullptr for none, (nullptr, nullptr) for a
// truncate, on the writer's thread after each batch is visible, outside the lock.
template <class T>
class compiled_target final : public sync_target {
  public:
    using object_ptr = std::shared_ptr<const T>;
    using listener = std::function<void(const T* old_object, const T* new_object)>;

    // Throws errc::invalid_config without a compiler.
    explicit compiled_target(compiled_target_options<T> options)
        : core_(erase(std::move(options))) {}

    std::string type_name() const override { return "memory.compiled"; }

    boost::asio::awaitable<void> on_init(const table_identifier& table,
                                         schema_ptr schema) override {
        core_.init(table, std::move(schema));
        co_return;
    }
    boost::asio::awaitable<void> on_baseline_rows(const table_identifier& table,
                                                  std::span<const row> rows) override {
        core_.baseline_rows(table, rows);
        co_return;
    }
    boost::asio::awaitable<void> on_baseline_complete(const table_identifier& table,
                                                      const position& pos) override {
        core_.baseline_complete(table, pos);
        co_return;
    }
    boost::asio::awaitable<void> on_changes(const table_identifier& table,
                                            std::span<const change_event> changes) override {
        core_.changes(table, changes);
        co_return;
    }
    boost::asio::awaitable<void> on_insert(const table_identifier& table,
                                           const change_event& change) override {
        core_.changes(table, std::span<const change_event>(&change, 1));
        co_return;
    }
    boost::asio::awaitable<void> on_update(const table_identifier& table,
                                           const change_event& change) override {
        core_.changes(table, std::span<const change_event>(&change, 1));
        co_return;
    }
    boost::asio::awaitable<void> on_delete(const table_identifier& table,
                                           const change_event& change) override {
        core_.changes(table, std::span<const change_event>(&change, 1));
        co_return;
    }
    boost::asio::awaitable<void> on_truncate(const table_identifier& table,
                                             const change_event& change) override {
        core_.changes(table, std::span<const change_event>(&change, 1));
        co_return;
    }

    bool is_durable() const override { return core_.is_durable(); }
    std::optional<position> confirmed_position() const override {
        return core_.confirmed_position();
    }
    std::optional<position> persisted_position() const override {
        return core_.persisted_position();
    }

    boost::asio::awaitable<void> begin_rebuild(const table_identifier& table) override {
        core_.begin_rebuild(table);
        co_return;
    }
    boost::asio::awaitable<void> commit_rebuild(const table_identifier& table) override {
        core_.commit_rebuild(table);
        co_return;
    }

    bool keeps_rows() const override { return true; }
    // The stored row of a kept object (rows filtered out or rejected are not kept).
    std::optional<row> find(const row& identity) const override { return core_.find(identity); }
    std::optional<std::uint64_t> row_count(const table_identifier&) const override {
        return core_.count();
    }
    // Visits a copy: the stored rows are exported first, so fn runs without the lock.
    void for_each_row(const table_identifier& table,
                      const std::function<void(const row&)>& fn) const override {
        for (const auto& r : core_.export_rows(table)) fn(r);
    }

    boost::asio::awaitable<std::vector<row>> export_snapshot(
        const table_identifier& table) override {
        co_return core_.export_rows(table);
    }
    boost::asio::awaitable<void> restore_snapshot(const table_snapshot_info& info,
                                                  std::vector<row> rows,
                                                  const position& pos) override {
        core_.restore(info, std::move(rows), pos);
        co_return;
    }
    bool supports_consistent_snapshot() const override { return true; }

    // --- reads: safe from any thread ---

    // The object with these key-field values, or nullptr. Throws errc::invalid_argument when
    // the count of values differs from the key fields'.
    object_ptr get(const std::vector<value>& key) const {
        return std::static_pointer_cast<const T>(core_.get(key));
    }
    template <class... V>
    requires(sizeof...(V) > 0 && (std::constructible_from<value, V> && ...)) object_ptr
        get(V&&... key)
    const { return get(std::vector<value>{value(std::forward<V>(key))...}); }
    std::size_t count() const { return core_.count(); }
    // Calls fn for each object in key order, under the shared lock: fn must not block or
    // call into this target (see indexed_target::for_each). objects() returns a copy.
    void for_each(const std::function<void(const T&)>& fn) const {
        core_.for_each(
            [&](const detail::erased_object& o) { fn(*static_cast<const T*>(o.get())); });
    }
    // All objects, in key order.
    std::vector<object_ptr> objects() const {
        std::vector<object_ptr> out;
        for (auto& o : core_.objects()) out.push_back(std::static_pointer_cast<const T>(o));
        return out;
    }
    // Rows the compiler rejected so far, and the description of the last one.
    std::uint64_t rejected_count() const noexcept { return core_.rejected_count(); }
    std::optional<std::string> last_error() const { return core_.last_error(); }
    schema_ptr schema() const { return core_.schema(); }
    bool is_mid_transaction() const noexcept { return core_.is_mid_transaction(); }

    [[nodiscard]] subscription listen(listener fn) {
        auto typed = [fn = std::move(fn)](const void* o, const void* n) {
            fn(static_cast<const T*>(o), static_cast<const T*>(n));
        };
        return core_.listen(std::move(typed));
    }

  private:
    static detail::compiled_core_options erase(compiled_target_options<T> options) {
        if (!options.compiler)
            throw error(errc::invalid_config, "memory.compiled needs a compiler");
        detail::compiled_core_options out;
        out.compile = [compiler = std::move(options.compiler)](const row& r) {
            return detail::erased_object(
                std::shared_ptr<const T>(std::make_shared<T>(compiler(r))));
        };
        out.filter = std::move(options.filter);
        out.key_fields = std::move(options.key_fields);
        out.max_atomic_transaction_rows = options.max_atomic_transaction_rows;
        return out;
    }

    detail::compiled_core core_;
};

}  // namespace laredo::targets::memory
