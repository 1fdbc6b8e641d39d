#include "laredo/targets/memory/packed_row.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <cstring>
#include <limits>

namespace laredo::targets::memory {

namespace {

using packed_format::flag_wide;
using packed_format::header_fixed;
using packed_format::load;

template <class T>
void store(std::byte* p, T v) noexcept {
    std::memcpy(p, &v, sizeof v);
}

std::size_t payload_size(const value_view& v) noexcept {
    using t = value::type;
    switch (v.type()) {
        case t::null:
        case t::unchanged:
            return 0;
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
            return v.bytes().size();
    }
}

void write_payload(std::byte* p, const value_view& v) noexcept {
    using t = value::type;
    switch (v.type()) {
        case t::null:
        case t::unchanged:
            return;
        case t::boolean:
            *p = static_cast<std::byte>(v.integer() != 0);
            return;
        case t::date:
            store(p, static_cast<std::int32_t>(v.integer()));
            return;
        case t::float64:
            store(p, v.float64());
            return;
        case t::int64:
        case t::time:
        case t::timestamp:
        case t::timestamptz:
            store(p, v.integer());
            return;
        default:
            if (!v.bytes().empty()) std::memcpy(p, v.bytes().data(), v.bytes().size());
            return;
    }
}

struct header {
    std::size_t count;
    std::size_t width;  // 2 or 4
    const std::byte* tags;
    const std::byte* ends;
    const std::byte* payload;
};

header read_header(const std::byte* data) noexcept {
    header h;
    h.count = load<std::uint16_t>(data);
    const auto flags = static_cast<std::uint8_t>(data[2]);
    h.width = (flags & flag_wide) ? 4 : 2;
    h.tags = data + header_fixed;
    h.ends = h.tags + h.count;
    h.payload = h.ends + h.count * h.width;
    return h;
}

std::size_t end_of(const header& h, std::size_t i) noexcept {
    return h.width == 4 ? load<std::uint32_t>(h.ends + i * 4) : load<std::uint16_t>(h.ends + i * 2);
}

}  // namespace

template <class Get>
packed_row packed_row::encode_with(std::size_t count, Get get) {
    if (count > std::numeric_limits<std::uint16_t>::max()) {
        throw error(errc::invalid_argument,
                    fmt::format("cannot pack a row of {} columns (at most 65535)", count));
    }
    std::size_t payload = 0;
    for (std::size_t i = 0; i < count; ++i) payload += payload_size(get(i));
    if (payload > std::numeric_limits<std::uint32_t>::max()) {
        throw error(errc::invalid_argument,
                    fmt::format("cannot pack a row of {} bytes (at most 4 GiB)", payload));
    }
    const bool wide = payload > std::numeric_limits<std::uint16_t>::max();
    const std::size_t width = wide ? 4 : 2;
    const std::size_t total = header_fixed + count * (1 + width) + payload;

    auto data = std::unique_ptr<std::byte[]>(new std::byte[total]);
    std::byte* p = data.get();
    store(p, static_cast<std::uint16_t>(count));
    p[2] = static_cast<std::byte>(wide ? flag_wide : 0);
    std::byte* tags = p + header_fixed;
    std::byte* ends = tags + count;
    std::byte* out = ends + count * width;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const value_view v = get(i);
        tags[i] = static_cast<std::byte>(v.type());
        write_payload(out + offset, v);
        offset += payload_size(v);
        if (wide) {
            store(ends + i * 4, static_cast<std::uint32_t>(offset));
        } else {
            store(ends + i * 2, static_cast<std::uint16_t>(offset));
        }
    }
    return packed_row(std::move(data));
}

packed_row packed_row::encode(std::span<const value> values) {
    return encode_with(values.size(), [&](std::size_t i) { return value_view::of(values[i]); });
}

packed_row packed_row::encode(std::span<const value_view> values) {
    return encode_with(values.size(), [&](std::size_t i) { return values[i]; });
}

packed_row packed_row::encode_merged(std::span<const value> values, packed_view stored) {
    return encode_with(values.size(), [&](std::size_t i) {
        if (values[i].is_unchanged() && !stored.empty()) return stored[i];
        return value_view::of(values[i]);
    });
}

packed_row packed_row::clone() const {
    if (!data_) return {};
    const std::size_t n = view().size_bytes();
    auto data = std::unique_ptr<std::byte[]>(new std::byte[n]);
    std::memcpy(data.get(), data_.get(), n);
    return packed_row(std::move(data));
}

std::size_t packed_view::column_count() const noexcept {
    return data_ ? load<std::uint16_t>(data_) : 0;
}

std::size_t packed_view::size_bytes() const noexcept {
    if (!data_) return 0;
    const header h = read_header(data_);
    const std::size_t payload = h.count == 0 ? 0 : end_of(h, h.count - 1);
    return static_cast<std::size_t>(h.payload - data_) + payload;
}

std::vector<value> packed_view::values(std::size_t width) const {
    std::vector<value> out;
    out.reserve(width);
    for (std::size_t i = 0; i < width; ++i) out.push_back((*this)[i].to_value());
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
