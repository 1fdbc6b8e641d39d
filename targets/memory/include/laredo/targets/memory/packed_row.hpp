#pragma once

#include "laredo/row.hpp"
#include "laredo/targets/memory/value_view.hpp"

#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
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
    value_view operator[](std::size_t column) const noexcept;  // inline below
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

// --- the hot path, inline: tree comparisons read columns in place ---

namespace packed_format {

constexpr std::size_t header_fixed = 3;  // u16 count + u8 flags
constexpr std::uint8_t flag_wide = 1;

template <class T>
T load(const std::byte* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

inline value_view read_payload(value::type type, const std::byte* p, std::size_t size) noexcept {
    using t = value::type;
    switch (type) {
        case t::null:
            return {};
        case t::unchanged:
            return value_view::unchanged();
        case t::boolean:
            return value_view::from_bool(*p != std::byte{0});
        case t::date:
            return value_view::from_int(t::date, load<std::int32_t>(p));
        case t::float64:
            return value_view::from_double(load<double>(p));
        case t::int64:
        case t::time:
        case t::timestamp:
        case t::timestamptz:
            return value_view::from_int(type, load<std::int64_t>(p));
        default:
            return value_view::from_bytes(type,
                                          std::string_view(reinterpret_cast<const char*>(p), size));
    }
}

}  // namespace packed_format

inline value_view packed_view::operator[](std::size_t column) const noexcept {
    using namespace packed_format;
    if (!data_) return {};
    const std::size_t count = load<std::uint16_t>(data_);
    if (column >= count) return {};
    const bool wide = (static_cast<std::uint8_t>(data_[2]) & flag_wide) != 0;
    const std::byte* tags = data_ + header_fixed;
    const std::byte* ends = tags + count;
    const std::byte* payload = ends + count * (wide ? 4 : 2);
    std::size_t begin = 0;
    std::size_t end = 0;
    if (wide) {
        begin = column == 0 ? 0 : load<std::uint32_t>(ends + (column - 1) * 4);
        end = load<std::uint32_t>(ends + column * 4);
    } else {
        begin = column == 0 ? 0 : load<std::uint16_t>(ends + (column - 1) * 2);
        end = load<std::uint16_t>(ends + column * 2);
    }
    return read_payload(static_cast<value::type>(tags[column]), payload + begin, end - begin);
}

// Compares the columns `columns` of two packed rows, in that order.
inline std::strong_ordering compare_columns(packed_view a, packed_view b,
                                            std::span<const std::size_t> columns) noexcept {
    for (std::size_t c : columns) {
        if (const auto o = a[c] <=> b[c]; o != 0) return o;
    }
    return std::strong_ordering::equal;
}

// Compares the columns `columns` of `a` with the values of `key` (key[i] against
// a[columns[i]]). key.size() must equal columns.size().
inline std::strong_ordering compare_columns(packed_view a, std::span<const value_view> key,
                                            std::span<const std::size_t> columns) noexcept {
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (const auto o = a[columns[i]] <=> key[i]; o != 0) return o;
    }
    return std::strong_ordering::equal;
}

}  // namespace laredo::targets::memory
