#pragma once

// The write machinery both memory targets share: one table's live rows and the copy a
// rebuild fills beside them, behind one writer-preferring lock; transactions cut into groups
// that readers see whole; truncates, rebuild swaps, restores and the positions that go with
// them; listener announcements after the lock is released. What a row or a store is belongs
// to each target (table_store, table_writer).

#include "transaction_batcher.hpp"

#include "laredo/change_event.hpp"
#include "laredo/error.hpp"
#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/sync_target.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/targets/memory/detail/rw_lock.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>  // std::shared_lock
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::targets::memory::detail {

// One copy of a table's rows, in a target's own representation.
class table_store {
  public:
    virtual ~table_store() = default;
    // An empty store with the same key and indexes.
    virtual std::unique_ptr<table_store> make_empty() const = 0;
    virtual std::size_t size() const noexcept = 0;
    // Makes room for `incoming` more rows without changing what readers see (bigger tables
    // are built beside the current ones), so that growing never happens under the write
    // lock; swap_in_reserved() puts them in place and runs under it.
    virtual void reserve_beside(std::size_t /*incoming*/) {}
    virtual void swap_in_reserved() noexcept {}
};

using store_ptr = std::unique_ptr<table_store>;

// What a target does to its own stores. apply() and put() run under the write lock;
// announce() after it is released. A target records what listeners should hear (when asked
// to) and announces it when told.
class table_writer {
  public:
    // Applies one insert, update or delete (never a truncate) to `store`; the row's schema
    // is already checked.
    virtual void apply(table_store& store, const change_event& change, bool record) = 0;
    // Stores one baseline or restored row, replacing the row with its key.
    virtual void put(table_store& store, const row& r, bool record) = 0;
    // A hint, a few changes ahead of apply(store, change): start loading what it will read.
    virtual void prefetch(const table_store& /*store*/, const change_event& /*change*/) noexcept {}
    // Records a truncate, and the difference between two copies of the table (a swap).
    virtual void record_truncate() = 0;
    virtual void record_difference(const table_store& before, const table_store& after) = 0;
    virtual bool has_listeners() const noexcept = 0;
    // Calls the listeners with what was recorded, in order, and forgets it. Throws
    // errc::target_failed when one throws (see listener_failure).
    virtual void announce() = 0;

  protected:
    ~table_writer() = default;
};

struct table_core_options {
    std::string type_name;  // "memory.indexed", for messages
    std::size_t max_atomic_transaction_rows = 10'000;
    // A rebuild empties the live rows and refills them in place instead of building a copy.
    bool rebuild_in_place = false;
    // persisted_position() is the last applied position, not only a restored snapshot's.
    bool keep_position_across_engines = false;
};

class table_core {
  public:
    // Throws errc::invalid_config when max_atomic_transaction_rows is 0.
    table_core(table_core_options options, table_writer& writer);
    table_core(const table_core&) = delete;
    table_core& operator=(const table_core&) = delete;

    // --- writes: the pipeline's strand, one at a time ---

    // Serves `table` with rows of `schema` from now on. `replacement` becomes the live store;
    // with rows_kept it is the old rows (nullptr: as they are), which keep their positions
    // and which a baseline that follows replaces as a whole (like a rebuild).
    void start(const table_identifier& table, schema_ptr schema, store_ptr replacement,
               bool rows_kept);
    // Throws errc::invalid_argument before start or for another table.
    void check_table(const table_identifier& table) const;

    void baseline_rows(const table_identifier& table, std::span<const row> rows);
    void baseline_complete(const table_identifier& table, const position& pos);
    void changes(const table_identifier& table, std::span<const change_event> changes);
    void begin_rebuild(const table_identifier& table);
    void commit_rebuild(const table_identifier& table);
    void restore(const table_snapshot_info& info, std::vector<row> rows, const position& pos);
    void position_reached(const table_identifier& table, const position& pos);
    // A schema change: rows keep their encoding (set_schema) or come re-packed (repack; the
    // new copy of a rebuild in progress too, when there is one).
    void set_schema(schema_ptr schema);
    void repack(schema_ptr schema, store_ptr live, store_ptr shadow);

    // --- state: any thread ---

    bool is_durable() const noexcept { return !holding_ && !mid_transaction_; }
    bool is_mid_transaction() const noexcept { return mid_transaction_.load(); }
    std::optional<position> confirmed_position() const;
    std::optional<position> persisted_position() const;

    // --- reads: under read_lock(), or on the strand ---

    [[nodiscard]] std::shared_lock<rw_lock> read_lock() const {
        return std::shared_lock<rw_lock>(mutex_);
    }
    bool initialized() const noexcept { return initialized_; }
    const table_identifier& table() const noexcept { return table_; }
    const schema_ptr& schema() const noexcept { return schema_; }
    // The rows readers see (nullptr before start).
    const table_store* live() const noexcept { return live_.get(); }
    // The copy changes go to: the new one during a rebuild, else the live one.
    const table_store* writing() const noexcept { return shadow_ ? shadow_.get() : live_.get(); }

  private:
    enum class rebuild_state : std::uint8_t { none, explicit_, implicit_ };

    table_store& write_store() noexcept { return shadow_ ? *shadow_ : *live_; }
    void check_row(const row& r);
    void start_rebuild();
    void finish_rebuild();
    void replace_rows_if_reinitialised();
    void set_applied(const position& pos);
    void forget_open_transaction() noexcept;
    // Announces what was recorded; when `failure` is set, a listener's failure is dropped
    // and `failure` rethrown (what was applied before it is announced all the same).
    void announce(std::exception_ptr failure);

    const table_core_options options_;
    table_writer& writer_;
    table_identifier table_;
    bool initialized_ = false;

    // Guards schema_, live_ and shadow_ (the pointers and the contents); only the strand
    // writes them.
    mutable rw_lock mutex_;
    schema_ptr schema_;
    store_ptr live_;
    store_ptr shadow_;            // the new copy during a rebuild
    schema_ptr accepted_schema_;  // a schema object found equal to schema_ (strand only)

    rebuild_state rebuild_ = rebuild_state::none;
    // Set when start() kept rows: a baseline must replace them as a whole.
    bool baseline_replaces_ = false;

    transaction_batcher batcher_;
    std::atomic<bool> mid_transaction_{false};
    std::atomic<bool> holding_{false};

    mutable std::mutex position_mutex_;
    std::optional<position> applied_;          // what the live rows are consistent with
    std::optional<position> rebuild_applied_;  // what the new copy is consistent with
    std::optional<position> restored_;         // the snapshot the rows came from
};

// Calls `registry.dispatch(notes, call)`, turning a listener's exception into
// errc::target_failed naming the target and table; `notes` is emptied either way.
template <class Registry, class Notes, class Call>
void announce_to(Registry& registry, Notes& notes, Call call, std::string_view type_name,
                 const table_identifier& table) {
    const Notes pending = std::move(notes);
    notes.clear();
    try {
        registry.dispatch(pending, call);
    } catch (const std::exception& e) {
        throw error(errc::target_failed, fmt::format("a change listener of {} ({}) failed: {}",
                                                     type_name, table.to_string(), e.what()));
    } catch (...) {
        throw error(errc::target_failed, fmt::format("a change listener of {} ({}) failed",
                                                     type_name, table.to_string()));
    }
}

}  // namespace laredo::targets::memory::detail
