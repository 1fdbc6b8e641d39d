#pragma once

#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/sync_target.hpp"
#include "laredo/targets/memory/subscription.hpp"
#include "laredo/types.hpp"

#include <boost/asio/awaitable.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::targets::memory {

// How a re-baseline replaces the rows.
enum class rebuild_mode : std::uint8_t {
    // The new copy is built beside the old one and swapped in at commit_rebuild: readers see
    // the old rows until then, never an empty or partial table. Needs memory for both.
    shadow,
    // The table is emptied at begin_rebuild and refilled in place: readers see it fill up.
    // For memory-tight deployments.
    reset,
};

struct indexed_target_options {
    // Secondary indexes: a non-empty unique name each, one or more fields (composite
    // indexes compare field by field). A unique index refuses a write that would give its
    // key to a second row (errc::target_failed naming the index and the key); like SQL, a
    // key containing a null conflicts with nothing.
    std::vector<index_definition> indexes;
    // The fields lookup() searches by; empty = lookup() is not offered.
    std::vector<std::string> lookup_fields;
    // The key columns, for a table without a primary key or replica-identity index (when
    // set they also override the table's key). A table with neither is refused at on_init.
    std::vector<std::string> key_columns;
    // When true, persisted_position() is the last applied position (the end of the last
    // transaction applied in full), so an embedder may hand this same object to a new
    // engine and resume. When false, it is the position of the snapshot the target was
    // restored from, if any.
    bool keep_position_across_engines = false;
    // Transactions of up to this many changes are applied under one write lock: readers
    // never see part of one. Larger ones are applied in chunks of this size while
    // is_mid_transaction() is true. At least 1.
    std::size_t max_atomic_transaction_rows = 10'000;
    rebuild_mode rebuild = rebuild_mode::shadow;
};

// An in-memory copy of ONE table (one target object per pipeline), kept packed (one
// allocation per row), found by key through a hash table of row pointers, with secondary
// hash indexes, readable from any thread while the pipeline writes. Key order is not kept:
// the reads that promise it (rows(), for_each(), lookups of several rows, exports) sort what
// they return, at O(n log n) for a whole-table read.
//
// Writes (the engine calls them on the pipeline's strand, one at a time):
//  - baseline rows and inserts upsert: a row with an existing key replaces it;
//  - an update finds the stored row by the key of change.identity(), takes the columns the
//    change marks `unchanged` from it (an unchanged TOAST value is never lost), and
//    replaces it; when the key changed, the row under the old key is removed (and a row
//    already under the new key is replaced). An update of a missing row inserts it: columns
//    still `unchanged` then keep the marker (the value is unknown, not null) until a later
//    change sends them;
//  - a delete of a missing key does nothing; truncate empties the table.
//  Secondary index entries of a replaced or removed row are always removed (the exact entry
//  of that row, never another row's) before the new row's are added, or repointed to the new
//  row when it keeps the same index values: no stale entry survives.
//  A change that fails (a unique-index conflict, a row of another schema) leaves the
//  changes before it applied; the change itself is not.
//
// Reads return decoded copies and take a shared lock; the writer takes the lock per group
// of whole transactions (see max_atomic_transaction_rows). The lock prefers a waiting
// writer, so busy readers cannot stall replication (see detail/rw_lock.hpp).
//
// Listeners are called on the writer's thread (the pipeline's strand) after each batch of
// changes is applied and visible, outside the lock, in order, with the old and the new
// version of each changed row (nullptr for none; truncate: (nullptr, nullptr)). They may
// read the target; reads then see the state after the whole batch. They must not throw
// (an exception becomes an errc::target_failed of the operation, after the data changed).
// Baseline rows outside a rebuild notify like inserts; a shadow rebuild notifies the
// difference between the old and the new copy at commit; restore_snapshot notifies nothing.
class indexed_target final : public sync_target {
  public:
    using listener = std::function<void(const row* old_row, const row* new_row)>;

    // Throws errc::invalid_config for an index without name or fields, two indexes with
    // one name, or max_atomic_transaction_rows == 0.
    explicit indexed_target(indexed_target_options options = {});
    ~indexed_target() override;
    indexed_target(const indexed_target&) = delete;
    indexed_target& operator=(const indexed_target&) = delete;

    // --- sync_target ---
    std::string type_name() const override { return "memory.indexed"; }
    // Resolves the key, index and lookup columns (errc::invalid_config naming a missing one,
    // or a table with no key). Called again on the same object (a new engine), it keeps the
    // rows when the schema still fits them; a baseline that follows then replaces them as a
    // whole (like a rebuild), while a resume streams on top of them.
    boost::asio::awaitable<void> on_init(const table_identifier& table, schema_ptr schema) override;
    boost::asio::awaitable<void> on_baseline_rows(const table_identifier& table,
                                                  std::span<const row> rows) override;
    boost::asio::awaitable<void> on_baseline_complete(const table_identifier& table,
                                                      const position& pos) override;
    boost::asio::awaitable<void> on_changes(const table_identifier& table,
                                            std::span<const change_event> changes) override;
    boost::asio::awaitable<void> on_insert(const table_identifier& table,
                                           const change_event& change) override;
    boost::asio::awaitable<void> on_update(const table_identifier& table,
                                           const change_event& change) override;
    boost::asio::awaitable<void> on_delete(const table_identifier& table,
                                           const change_event& change) override;
    boost::asio::awaitable<void> on_truncate(const table_identifier& table,
                                             const change_event& change) override;

    // True unless part of a transaction is held or applied without its end.
    bool is_durable() const override;
    // The end of the last transaction applied in full (or of the baseline/restore).
    std::optional<position> confirmed_position() const override;
    std::optional<position> persisted_position() const override;
    // A heartbeat: nothing more for this table up to `pos` (ignored mid-transaction).
    void on_position_reached(const table_identifier& table, const position& pos) override;

    // Continues when the new schema only adds columns (stored rows read them as null);
    // otherwise asks for a re-baseline.
    boost::asio::awaitable<schema_change_response> on_schema_change(
        const table_identifier& table, const row_schema& old_schema,
        const row_schema& new_schema) override;

    // Changes that arrive between begin_rebuild and commit_rebuild go to the new copy.
    boost::asio::awaitable<void> begin_rebuild(const table_identifier& table) override;
    boost::asio::awaitable<void> commit_rebuild(const table_identifier& table) override;

    bool keeps_rows() const override { return true; }
    // The stored row with identity's key; during a shadow rebuild, from the new copy (the
    // one changes are applied to).
    std::optional<row> find(const row& identity) const override;
    std::optional<std::uint64_t> row_count(const table_identifier&) const override {
        return count();
    }
    // Visits every row, in no particular order (see for_each for key order).
    void for_each_row(const table_identifier& table,
                      const std::function<void(const row&)>& fn) const override;

    boost::asio::awaitable<std::vector<row>> export_snapshot(
        const table_identifier& table) override;
    // Replaces the contents with `rows` (no listener calls) and records `pos` as the
    // persisted position.
    boost::asio::awaitable<void> restore_snapshot(const table_snapshot_info& info,
                                                  std::vector<row> rows,
                                                  const position& pos) override;
    bool supports_consistent_snapshot() const override { return true; }

    // --- reads: safe from any thread ---

    // The row with this key (the key columns' values, in key order). Throws
    // errc::invalid_argument when the count of values differs from the key's.
    std::optional<row> get(const std::vector<value>& key) const;
    template <class... V>
    requires(sizeof...(V) > 0 &&
             (std::constructible_from<value, V> && ...)) std::optional<row> get(V&&... key)
    const { return get(std::vector<value>{value(std::forward<V>(key))...}); }

    // The first row (in key order) whose lookup fields equal `values`; lookup_all: all of
    // them. Throw errc::invalid_argument when no lookup fields are configured or the count
    // of values differs.
    std::optional<row> lookup(const std::vector<value>& values) const;
    template <class... V>
    requires(sizeof...(V) > 0 &&
             (std::constructible_from<value, V> && ...)) std::optional<row> lookup(V&&... values)
    const { return lookup(std::vector<value>{value(std::forward<V>(values))...}); }
    std::vector<row> lookup_all(const std::vector<value>& values) const;

    // The rows whose index fields equal `values`, in key order (a unique index gives at
    // most one, except for keys containing a null). Throws errc::invalid_argument naming an
    // unknown index, or when the count of values differs from the index's fields.
    std::vector<row> lookup_index(std::string_view index, const std::vector<value>& values) const;

    std::size_t count() const;
    // Calls fn for each row in key order, under the shared lock: fn must not block or call
    // into this target (the lock prefers a waiting writer, so even a nested read could
    // deadlock). Use rows() to work on a copy instead. The rows are sorted first.
    void for_each(const std::function<void(const row&)>& fn) const;
    // All rows, in key order.
    std::vector<row> rows() const;
    // The columns rows carry (nullptr before on_init).
    schema_ptr schema() const;
    // True while a transaction larger than max_atomic_transaction_rows is partly applied.
    bool is_mid_transaction() const noexcept;
    // Bytes taken by the packed encodings of the stored rows (allocator overhead and index
    // tables excluded).
    std::size_t packed_bytes() const;
    // Bytes taken by the hash tables of the key and the secondary indexes.
    std::size_t index_bytes() const;

    // Registers a listener; see the class comment. Safe from any thread.
    [[nodiscard]] subscription listen(listener fn);

  private:
    class impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace laredo::targets::memory
