#pragma once

// The rows of one table, packed, ordered by key, with secondary indexes. No locking: the
// indexed target decides who may touch a store and when.

#include "table_core.hpp"

#include "laredo/targets/memory/packed_row.hpp"
#include "laredo/targets/memory/value_view.hpp"

#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::targets::memory::detail {

struct index_layout {
    std::string name;
    std::vector<std::size_t> columns;  // positions in the schema
    bool unique = false;
};

class row_store final : public table_store {
  public:
    row_store(std::vector<std::size_t> key_columns, std::vector<index_layout> indexes);
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
        packed_row replaced;  // the row that had r's key, if any
        packed_row removed;   // `previous`, when it had another key and was removed
    };
    // Stores `r`, replacing the row with the same key. When `previous` (a row of this store)
    // has another key, it is removed too: an update that changed the row's key. Secondary
    // index entries of the replaced and removed rows are removed before r's are added, so no
    // stale entry survives. Throws errc::target_failed naming the index and key when r would
    // give a unique index key to a row other than those two; the store is then unchanged.
    put_result put(packed_row r, packed_view previous = {});

    // Removes and returns the row with key `key`; empty when there is none.
    packed_row erase(std::span<const value_view> key);

    // The position of the index called `name`, or npos.
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    std::size_t index_position(std::string_view name) const noexcept;
    // The rows whose index columns equal `values`, in key order. values.size() must equal
    // the index's column count.
    std::vector<packed_view> index_lookup(std::size_t index,
                                          std::span<const value_view> values) const;
    std::size_t index_size(std::size_t index) const { return indexes_.at(index).size(); }

    // Calls f(packed_view) for each row in key order.
    template <class F>
    void for_each(F&& f) const {
        for (const auto& r : rows_) f(r.row.view());
    }

    // Walks this store and `other` (same key columns) together in key order, calling
    // f(row here or empty, row there or empty) once per key present in either.
    template <class F>
    void merge_walk(const row_store& other, F&& f) const {
        auto a = rows_.begin();
        auto b = other.rows_.begin();
        while (a != rows_.end() || b != other.rows_.end()) {
            const auto order = a == rows_.end() ? std::strong_ordering::greater
                               : b == other.rows_.end()
                                   ? std::strong_ordering::less
                                   : compare_keys(a->row.view(), b->row.view());
            if (order < 0) {
                f(a->row.view(), packed_view());
                ++a;
            } else if (order > 0) {
                f(packed_view(), b->row.view());
                ++b;
            } else {
                f(a->row.view(), b->row.view());
                ++a;
                ++b;
            }
        }
    }

    // Key order of two rows of this store (or rows packed for it).
    std::strong_ordering compare_keys(packed_view a, packed_view b) const noexcept;

    // Bytes held by packed rows (their encodings, not allocator overhead).
    std::size_t packed_bytes() const noexcept { return packed_bytes_; }

  private:
    struct key_probe {
        std::span<const value_view> values;
    };
    // A stored row. `row` is replaced in place only by a row with an equal key, which keeps
    // the tree's order: no rebalancing and no node allocation for an update.
    struct slot {
        mutable packed_row row;
    };
    struct key_less {
        using is_transparent = void;
        std::vector<std::size_t> columns;
        bool operator()(const slot& a, const slot& b) const noexcept {
            return compare_columns(a.row.view(), b.row.view(), columns) < 0;
        }
        bool operator()(const slot& a, const key_probe& b) const noexcept {
            return compare_columns(a.row.view(), b.values, columns) < 0;
        }
        bool operator()(const key_probe& a, const slot& b) const noexcept {
            return compare_columns(b.row.view(), a.values, columns) > 0;
        }
    };
    // Index entries point at the packed bytes owned by rows_. Entries are ordered by the
    // index columns, then by key, so each row has exactly one entry and removing a row
    // removes its own entry, never another row's. `row` is repointed in place when a row is
    // replaced by one with the same key and the same index values.
    struct index_entry {
        mutable const std::byte* row;
    };
    struct index_less {
        using is_transparent = void;
        std::vector<std::size_t> columns;
        std::vector<std::size_t> key_columns;
        bool operator()(const index_entry& a, const index_entry& b) const noexcept {
            const packed_view va(a.row), vb(b.row);
            if (const auto o = compare_columns(va, vb, columns); o != 0) return o < 0;
            return compare_columns(va, vb, key_columns) < 0;
        }
        bool operator()(const index_entry& a, const key_probe& b) const noexcept {
            return compare_columns(packed_view(a.row), b.values, columns) < 0;
        }
        bool operator()(const key_probe& a, const index_entry& b) const noexcept {
            return compare_columns(packed_view(b.row), a.values, columns) > 0;
        }
    };
    using row_set = std::set<slot, key_less>;
    using index_set = std::set<index_entry, index_less>;
    // Per index: does the new row keep the old row's index values (same key too)?
    using index_mask = boost::container::small_vector<bool, 8>;

    // `unchanged` (may be empty) lists indexes whose key `r` keeps from allowed_a.
    void check_unique(packed_view r, packed_view allowed_a, packed_view allowed_b,
                      const index_mask& unchanged) const;
    void index(packed_view r, const index_mask& skip);
    void unindex(packed_view r, const index_mask& skip) noexcept;
    row_set::const_iterator find_row(packed_view r) const;

    std::vector<std::size_t> key_columns_;
    std::vector<index_layout> layouts_;
    row_set rows_;
    std::vector<index_set> indexes_;
    std::size_t packed_bytes_ = 0;
};

}  // namespace laredo::targets::memory::detail
