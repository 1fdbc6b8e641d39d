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
// a heap string per text); this layout costs the raw bytes plus half a byte per column and
// one byte per text-like value of under 128 bytes.
//
// Layout (native byte order; nothing is aligned, every read goes through memcpy):
//   varint n              column count (LEB128: 7 bits a byte, low bits first)
//   u8     tag[(n+1)/2]   the value::type of column i in the low (even i) or high (odd i)
//                         nibble
//   u32    jump[(n-1)/16] where column 16 * (k + 1) starts, from the start of the columns
//                         (only rows of more than 16 columns have any)
//   columns, in order:    null and unchanged take no bytes; boolean 1, date 4, int64,
//                         float64, time, timestamp and timestamptz 8; text-like
//                         alternatives and bytes a varint length, then their bytes.
// A column is reached by walking at most 15 columns from the nearest jump.

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

    // Throws errc::invalid_argument when there are more than 65535 columns or the columns
    // of a row of more than 16 columns exceed 4 GiB.
    static packed_row encode(std::span<const value> values);
    static packed_row encode(std::span<const value_view> values);
    // Encodes `values`, taking each column that is `unchanged` there from `stored` instead
    // (the TOAST merge). Columns unchanged in both stay unchanged.
    static packed_row encode_merged(std::span<const value> values, packed_view stored);

    packed_row clone() const;

    // The size encode(values) would take, and the encoding written at `out`, which must
    // have that many bytes: for a container that keeps rows in memory of its own, or reuses
    // a row's bytes for a new version of the same size. encoded_size throws like encode.
    static std::size_t encoded_size(std::span<const value_view> values);
    static void encode_into(std::byte* out, std::span<const value_view> values) noexcept;

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

// --- the hot path, inline: key hashing and comparisons read columns in place ---

namespace packed_format {

constexpr std::size_t jump_every = 16;

template <class T>
T load(const std::byte* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Reads a LEB128 varint at p and moves p past it.
inline std::size_t read_varint(const std::byte*& p) noexcept {
    auto b = static_cast<std::uint8_t>(*p++);
    std::size_t v = b & 0x7f;
    for (unsigned shift = 7; b & 0x80; shift += 7) {
        b = static_cast<std::uint8_t>(*p++);
        v |= static_cast<std::size_t>(b & 0x7f) << shift;
    }
    return v;
}

inline value::type tag_of(const std::byte* tags, std::size_t column) noexcept {
    const auto b = static_cast<std::uint8_t>(tags[column / 2]);
    return static_cast<value::type>(column % 2 ? b >> 4 : b & 0x0f);
}

// The fixed size of an alternative's bytes; 0 for null and unchanged, and for the byte
// strings, which carry their length.
constexpr std::size_t fixed_size(value::type type) noexcept {
    using t = value::type;
    switch (type) {
        case t::boolean:
            return 1;
        case t::date:
            return 4;
        case t::int64:
        case t::float64:
        case t::time:
        case t::timestamp:
        case t::timestamptz:
            return 8;
        default:
            return 0;
    }
}

// Reads the column of alternative `type` at p and moves p past it.
inline value_view read_column(value::type type, const std::byte*& p) noexcept {
    using t = value::type;
    switch (type) {
        case t::null:
            return {};
        case t::unchanged:
            return value_view::unchanged();
        case t::boolean:
            return value_view::from_bool(*p++ != std::byte{0});
        case t::date: {
            const auto v = value_view::from_int(t::date, load<std::int32_t>(p));
            p += 4;
            return v;
        }
        case t::float64: {
            const auto v = value_view::from_double(load<double>(p));
            p += 8;
            return v;
        }
        case t::int64:
        case t::time:
        case t::timestamp:
        case t::timestamptz: {
            const auto v = value_view::from_int(type, load<std::int64_t>(p));
            p += 8;
            return v;
        }
        default: {
            const std::size_t size = read_varint(p);
            const auto v = value_view::from_bytes(
                type, std::string_view(reinterpret_cast<const char*>(p), size));
            p += size;
            return v;
        }
    }
}

// Moves p past a column of alternative `type`.
inline void skip_column(value::type type, const std::byte*& p) noexcept {
    if (is_byte_string(type)) {
        const std::size_t size = read_varint(p);
        p += size;
    } else {
        p += fixed_size(type);
    }
}

// Where a packed row's parts start.
struct parts {
    std::size_t count = 0;
    const std::byte* tags = nullptr;
    const std::byte* jumps = nullptr;
    const std::byte* columns = nullptr;
};

inline parts parse(const std::byte* data) noexcept {
    parts out;
    const std::byte* p = data;
    out.count = read_varint(p);
    out.tags = p;
    out.jumps = p + (out.count + 1) / 2;
    out.columns = out.jumps + (out.count > jump_every ? (out.count - 1) / jump_every : 0) * 4;
    return out;
}

}  // namespace packed_format

// Reads the columns of a packed row one after the other.
class packed_cursor {
  public:
    explicit packed_cursor(packed_view row) noexcept {
        if (row.empty()) return;
        const auto parts = packed_format::parse(row.data());
        count_ = parts.count;
        tags_ = parts.tags;
        at_ = parts.columns;
    }
    // Columns left to read.
    bool done() const noexcept { return next_ >= count_; }
    // The next column (null once done: rows stored before columns were added).
    value_view next() noexcept {
        if (done()) return {};
        return packed_format::read_column(packed_format::tag_of(tags_, next_++), at_);
    }
    // Where the bytes read so far end.
    const std::byte* position() const noexcept { return at_; }

  private:
    std::size_t count_ = 0;
    std::size_t next_ = 0;
    const std::byte* tags_ = nullptr;
    const std::byte* at_ = nullptr;
};

inline value_view packed_view::operator[](std::size_t column) const noexcept {
    using namespace packed_format;
    if (!data_) return {};
    const parts row = parse(data_);
    if (column >= row.count) return {};
    std::size_t at = 0;
    const std::byte* p = row.columns;
    if (column >= jump_every) {
        const std::size_t jump = column / jump_every;
        at = jump * jump_every;
        p += load<std::uint32_t>(row.jumps + (jump - 1) * 4);
    }
    for (; at < column; ++at) skip_column(tag_of(row.tags, at), p);
    return read_column(tag_of(row.tags, column), p);
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
