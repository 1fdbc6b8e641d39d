#pragma once

#include "laredo/row.hpp"
#include "laredo/targets/memory/value_view.hpp"

#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace laredo::targets::memory {

// A row's values encoded in one heap allocation: what the in-memory targets store per row.
// A vector of laredo::value costs about 3x the raw bytes (a 40-byte variant per column plus
// a heap string per text); this layout costs the raw bytes plus 1 + w bytes per column.
//
// Layout (native byte order; nothing is aligned, every read goes through memcpy):
//   u16  column count n
//   u8   flags (bit 0: offsets are u32, else u16; u32 only when the payload exceeds 64 KiB)
//   u8   tag[n]            the value::type of each column
//   uN   end[n]            where each column's payload ends, relative to the payload start
//   payload               column i spans [i ? end[i-1] : 0, end[i])
// Payloads: null and unchanged take 0 bytes, boolean 1, date 4, int64, float64, time,
// timestamp and timestamptz 8; text-like alternatives and bytes their bytes. Any column is
// reached in O(1).

// Reads a packed row in place. Does not own the bytes.
class packed_view {
public:
    packed_view() noexcept = default;
    explicit packed_view(const std::byte* data) noexcept : data_(data) {}

    bool empty() const noexcept { return data_ == nullptr; }
    const std::byte* data() const noexcept { return data_; }

    std::size_t column_count() const noexcept;
    // The column's value; null for a column past column_count() (a row stored before
    // columns were added to its table).
    value_view operator[](std::size_t column) const noexcept;
    // Total size of the encoding in bytes.
    std::size_t size_bytes() const noexcept;

    // Decoded values, padded with nulls (or cut) to `width` columns.
    std::vector<value> values(std::size_t width) const;
    // A decoded row of `schema` (padded to its width).
    row to_row(const schema_ptr& schema) const;

    // Same encoded bytes (same values, same column count).
    friend bool operator==(packed_view a, packed_view b) noexcept;

private:
    const std::byte* data_ = nullptr;
};

// Owns one packed row. Move-only in spirit: copies are explicit through clone().
class packed_row {
public:
    packed_row() noexcept = default;
    packed_row(packed_row&&) noexcept = default;
    packed_row& operator=(packed_row&&) noexcept = default;

    // Throws errc::invalid_argument when there are more than 65535 columns or the values
    // exceed 4 GiB.
    static packed_row encode(std::span<const value> values);
    static packed_row encode(std::span<const value_view> values);
    // Encodes `values`, taking each column that is `unchanged` there from `stored` instead
    // (the TOAST merge). Columns unchanged in both stay unchanged.
    static packed_row encode_merged(std::span<const value> values, packed_view stored);

    packed_row clone() const;

    bool empty() const noexcept { return data_ == nullptr; }
    explicit operator bool() const noexcept { return data_ != nullptr; }
    packed_view view() const noexcept { return packed_view(data_.get()); }
    const std::byte* data() const noexcept { return data_.get(); }

    std::size_t column_count() const noexcept { return view().column_count(); }
    value_view operator[](std::size_t column) const noexcept { return view()[column]; }
    row to_row(const schema_ptr& schema) const { return view().to_row(schema); }

private:
    explicit packed_row(std::unique_ptr<std::byte[]> data) noexcept : data_(std::move(data)) {}
    template <class Get>
    static packed_row encode_with(std::size_t count, Get get);

    std::unique_ptr<std::byte[]> data_;
};

// Compares the columns `columns` of two packed rows, in that order.
std::strong_ordering compare_columns(packed_view a, packed_view b,
                                     std::span<const std::size_t> columns) noexcept;
// Compares the columns `columns` of `a` with the values of `key` (key[i] against
// a[columns[i]]). key.size() must equal columns.size().
std::strong_ordering compare_columns(packed_view a, std::span<const value_view> key,
                                     std::span<const std::size_t> columns) noexcept;

}  // namespace laredo::targets::memory
