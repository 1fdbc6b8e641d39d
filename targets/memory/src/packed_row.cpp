#include "laredo/targets/memory/packed_row.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <cstring>
#include <limits>

namespace laredo::targets::memory {

namespace {

using packed_format::fixed_size;
using packed_format::jump_every;

static_assert(static_cast<unsigned>(value::type::unchanged) < 16, "a tag must fit a nibble");

template <class T>
void store(std::byte* p, T v) noexcept {
    std::memcpy(p, &v, sizeof v);
}

std::size_t varint_size(std::size_t v) noexcept {
    std::size_t n = 1;
    for (; v >= 0x80; v >>= 7) ++n;
    return n;
}

std::byte* write_varint(std::byte* p, std::size_t v) noexcept {
    for (; v >= 0x80; v >>= 7) *p++ = static_cast<std::byte>((v & 0x7f) | 0x80);
    *p++ = static_cast<std::byte>(v);
    return p;
}

std::size_t column_size(const value_view& v) noexcept {
    if (is_byte_string(v.type())) return varint_size(v.bytes().size()) + v.bytes().size();
    return fixed_size(v.type());
}

std::byte* write_column(std::byte* p, const value_view& v) noexcept {
    using t = value::type;
    switch (v.type()) {
        case t::null:
        case t::unchanged:
            return p;
        case t::boolean:
            *p = static_cast<std::byte>(v.integer() != 0);
            return p + 1;
        case t::date:
            store(p, static_cast<std::int32_t>(v.integer()));
            return p + 4;
        case t::float64:
            store(p, v.float64());
            return p + 8;
        case t::int64:
        case t::time:
        case t::timestamp:
        case t::timestamptz:
            store(p, v.integer());
            return p + 8;
        default: {
            const auto bytes = v.bytes();
            p = write_varint(p, bytes.size());
            if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
            return p + bytes.size();
        }
    }
}

}  // namespace

namespace {

// The size of the encoding of `count` columns, get(i) giving column i; throws for a row
// that cannot be packed.
template <class Get>
std::size_t size_of(std::size_t count, Get get) {
    if (count > std::numeric_limits<std::uint16_t>::max()) {
        throw error(errc::invalid_argument,
                    fmt::format("cannot pack a row of {} columns (at most 65535)", count));
    }
    std::size_t columns = 0;
    for (std::size_t i = 0; i < count; ++i) columns += column_size(get(i));
    const std::size_t jumps = count > jump_every ? (count - 1) / jump_every : 0;
    if (jumps > 0 && columns > std::numeric_limits<std::uint32_t>::max()) {
        throw error(errc::invalid_argument,
                    fmt::format("cannot pack a row of {} columns and {} bytes (at most 4 GiB)",
                                count, columns));
    }
    return varint_size(count) + (count + 1) / 2 + jumps * 4 + columns;
}

template <class Get>
void write_row(std::byte* out, std::size_t count, Get get) noexcept {
    const std::size_t jumps = count > jump_every ? (count - 1) / jump_every : 0;
    std::byte* tags = write_varint(out, count);
    std::memset(tags, 0, (count + 1) / 2);
    std::byte* jump = tags + (count + 1) / 2;
    std::byte* const first = jump + jumps * 4;
    std::byte* p = first;
    for (std::size_t i = 0; i < count; ++i) {
        const value_view v = get(i);
        const auto tag = static_cast<std::uint8_t>(v.type());
        tags[i / 2] |= static_cast<std::byte>(i % 2 ? tag << 4 : tag);
        if (i > 0 && i % jump_every == 0) {
            store(jump, static_cast<std::uint32_t>(p - first));
            jump += 4;
        }
        p = write_column(p, v);
    }
}

}  // namespace

template <class Get>
packed_row packed_row::encode_with(std::size_t count, Get get) {
    const std::size_t size = size_of(count, get);
    auto data = std::unique_ptr<std::byte[]>(new std::byte[size]);
    write_row(data.get(), count, get);
    return packed_row(std::move(data));
}

std::size_t packed_row::encoded_size(std::span<const value_view> values) {
    return size_of(values.size(), [&](std::size_t i) { return values[i]; });
}

void packed_row::encode_into(std::byte* out, std::span<const value_view> values) noexcept {
    write_row(out, values.size(), [&](std::size_t i) { return values[i]; });
}

packed_row packed_row::encode(std::span<const value> values) {
    return encode_with(values.size(), [&](std::size_t i) { return value_view::of(values[i]); });
}

packed_row packed_row::encode(std::span<const value_view> values) {
    return encode_with(values.size(), [&](std::size_t i) { return values[i]; });
}

packed_row packed_row::encode_merged(std::span<const value> values, packed_view stored) {
    if (stored.empty()) return encode(values);
    // Both passes of encode_with read the stored columns in order: decode them once.
    std::vector<value_view> merged;
    merged.reserve(values.size());
    packed_cursor cursor(stored);
    for (const auto& v : values) {
        const value_view old = cursor.next();
        merged.push_back(v.is_unchanged() ? old : value_view::of(v));
    }
    return encode(merged);
}

packed_row packed_row::clone() const {
    if (!data_) return {};
    const std::size_t n = view().size_bytes();
    auto data = std::unique_ptr<std::byte[]>(new std::byte[n]);
    std::memcpy(data.get(), data_.get(), n);
    return packed_row(std::move(data));
}

std::size_t packed_view::column_count() const noexcept {
    if (!data_) return 0;
    const std::byte* p = data_;
    return packed_format::read_varint(p);
}

std::size_t packed_view::size_bytes() const noexcept {
    if (!data_) return 0;
    packed_cursor cursor(*this);
    while (!cursor.done()) cursor.next();
    return static_cast<std::size_t>(cursor.position() - data_);
}

std::vector<value> packed_view::values(std::size_t width) const {
    std::vector<value> out;
    out.reserve(width);
    packed_cursor cursor(*this);
    for (std::size_t i = 0; i < width; ++i) out.push_back(cursor.next().to_value());
    return out;
}

row packed_view::to_row(const schema_ptr& schema) const {
    return row(schema, values(schema->size()));
}

bool operator==(packed_view a, packed_view b) noexcept {
    if (a.data_ == b.data_) return true;
    if (!a.data_ || !b.data_) return false;
    const std::size_t n = a.size_bytes();
    return n == b.size_bytes() && std::memcmp(a.data_, b.data_, n) == 0;
}

}  // namespace laredo::targets::memory
