#pragma once

// The rows of one table, packed, found by key through a hash table of bare row pointers (no
// node per row), with secondary indexes. No locking: table_core decides who may touch a
// store and when. Key order is not kept: reads that promise it sort what they return.

#include "flat_table.hpp"
#include "row_arena.hpp"
#include "secondary_index.hpp"
#include "table_core.hpp"
#include "table_layout.hpp"

#include "laredo/targets/memory/packed_row.hpp"
#include "laredo/targets/memory/value_view.hpp"

#include <boost/container/small_vector.hpp>

#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace laredo::targets::memory::detail {

// The columns of a row being stored.
using row_views = boost::container::small_vector<value_view, 16>;

// A row taken out of a store: its bytes go back to the store's arena when this is destroyed,
// which must happen before the store is.
class taken_row {
  public:
    taken_row() noexcept = default;
    taken_row(row_arena& arena, packed_view row) noexcept : arena_(&arena), row_(row) {}
    taken_row(taken_row&& other) noexcept
        : arena_(other.arena_), row_(std::exchange(other.row_, packed_view())) {}
    taken_row& operator=(taken_row&& other) noexcept {
        std::swap(arena_, other.arena_);
        std::swap(row_, other.row_);
        return *this;
    }
    ~taken_row() {
        if (!row_.empty()) arena_->deallocate(row_.data(), row_.size_bytes());
    }

    bool empty() const noexcept { return row_.empty(); }
    explicit operator bool() const noexcept { return !row_.empty(); }
    packed_view view() const noexcept { return row_; }
    row to_row(const schema_ptr& schema) const { return row_.to_row(schema); }

  private:
    row_arena* arena_ = nullptr;
    packed_view row_;
};

class row_store final : public table_store {
  public:
    row_store(std::vector<std::size_t> key_columns, std::vector<index_layout> indexes);
    ~row_store() override;
    row_store(const row_store&) = delete;
    row_store& operator=(const row_store&) = delete;

    store_ptr make_empty() const override;

    std::size_t size() const noexcept override { return rows_.size(); }
    bool empty() const noexcept { return rows_.empty(); }
    const std::vector<std::size_t>& key_columns() const noexcept { return key_columns_; }
    const std::vector<index_layout>& indexes() const noexcept { return layouts_; }

    // The stored row with key `key` (one view per key column), or an empty view.
    packed_view find(std::span<const value_view> key) const;

    struct put_result {
        packed_view stored;  // the row now stored
        taken_row replaced;  // the row that had r's key, if any (not when overwritten)
        taken_row removed;   // `previous`, when it had another key and was removed
    };
    // Stores a row of these column values, replacing the row with the same key. When
    // `previous` (a row of this store) has another key, it is removed too: an update that
    // changed the row's key. Secondary index entries of the replaced and removed rows are
    // removed before the new row's are added, so no stale entry survives. Throws
    // errc::target_failed naming the index and key when the row would give a unique index
    // key to a row other than those two; the store is then unchanged.
    //
    // With `overwrite`, a row with the same key whose encoding has the same size is
    // overwritten in place (no allocation; `replaced` stays empty): `values` must then not
    // borrow from it.
    put_result put(std::span<const value_view> values, packed_view previous = {},
                   bool overwrite = false);
    // The same for a row already packed.
    put_result put(packed_view r, packed_view previous = {});

    // Removes and returns the row with key `key`; empty when there is none.
    taken_row erase(std::span<const value_view> key);

    // The position of the index called `name`, or npos.
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    std::size_t index_position(std::string_view name) const noexcept;
    // The rows whose index columns equal `values`, in key order. values.size() must equal
    // the index's column count.
    std::vector<packed_view> index_lookup(std::size_t index,
                                          std::span<const value_view> values) const;
    std::size_t index_size(std::size_t index) const { return indexes_.at(index).size(); }

    // Calls f(packed_view) for each row, in no particular order.
    template <class F>
    void for_each(F&& f) const {
        rows_.for_each([&](flat_table::word w) { f(packed_view(row_of(w))); });
    }
    // The rows in key order (sorted on each call: O(n log n)).
    std::vector<packed_view> in_key_order() const;
    // Sorts rows of this store in key order.
    void sort_by_key(std::vector<packed_view>& rows) const;

    // Walks this store and `other` (same key columns) together in key order, calling
    // f(row here or empty, row there or empty) once per key present in either.
    template <class F>
    void merge_walk(const row_store& other, F&& f) const {
        const auto mine = in_key_order();
        const auto theirs = other.in_key_order();
        auto a = mine.begin();
        auto b = theirs.begin();
        while (a != mine.end() || b != theirs.end()) {
            const auto order = a == mine.end()     ? std::strong_ordering::greater
                               : b == theirs.end() ? std::strong_ordering::less
                                                   : compare_keys(*a, *b);
            if (order < 0) {
                f(*a++, packed_view());
            } else if (order > 0) {
                f(packed_view(), *b++);
            } else {
                f(*a++, *b++);
            }
        }
    }

    // Key order of two rows of this store (or rows packed for it).
    std::strong_ordering compare_keys(packed_view a, packed_view b) const noexcept;

    // Bytes held by packed rows (their encodings, not allocator overhead): a walk over every
    // row, so that writes keep no count.
    std::size_t packed_bytes() const noexcept;

    // Asks the CPU for the start of the probe for `key`, a few changes ahead of the put.
    void prefetch(std::span<const value_view> key) const noexcept;
    // Bytes held by the hash tables of the key and of the secondary indexes.
    std::size_t table_bytes() const noexcept;
    // Bytes the rows' arena took from the system.
    std::size_t arena_bytes() const noexcept { return arena_.bytes(); }

    void reserve_beside(std::size_t incoming) override;
    void swap_in_reserved() noexcept override;

  private:
    // Per index: does the new row keep the old row's index values (same key too)?
    using index_mask = boost::container::small_vector<bool, 8>;

    static const std::byte* row_of(flat_table::word w) noexcept {
        return reinterpret_cast<const std::byte*>(w);
    }
    std::uint64_t key_hash(packed_view r) const noexcept;
    // The slot of the row with this key (views of the key columns, with their hash).
    std::size_t find_slot(std::uint64_t hash, std::span<const value_view> key) const;
    std::size_t find_slot(packed_view r) const;

    // `unchanged` (may be empty) lists indexes whose key `values` keeps from allowed_a.
    void check_unique(std::span<const value_view> values, packed_view allowed_a,
                      packed_view allowed_b, const index_mask& unchanged) const;
    void index(packed_view r, const index_mask& skip);
    void unindex(packed_view r, const index_mask& skip);

    std::vector<std::size_t> key_columns_;
    std::vector<index_layout> layouts_;
    row_arena arena_;  // owns the rows
    flat_table rows_;  // words: the packed rows this store owns
    flat_table reserved_rows_;
    bool has_reserved_ = false;
    std::vector<secondary_index> indexes_;
};

}  // namespace laredo::targets::memory::detail
