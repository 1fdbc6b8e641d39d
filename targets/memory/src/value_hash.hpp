#pragma once

// Hashes of column values that agree with value_view's equality: equal views hash equally
// whether they are borrowed from a laredo::value or read from a packed row (NaN equals NaN,
// -0.0 equals 0.0, the alternative is part of the value).

#include "laredo/targets/memory/packed_row.hpp"
#include "laredo/targets/memory/value_view.hpp"

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

namespace laredo::targets::memory::detail {

// Spreads the bits of x over the whole word (the finaliser of MurmurHash3): the tables take
// a slot from the high bits and a tag from the low ones.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

inline std::uint64_t hash_of(const value_view& v) noexcept {
    std::uint64_t content = 0;
    if (v.type() == value::type::float64) {
        const double d = v.float64();
        // One hash for the doubles value_view calls equal.
        content = std::isnan(d) ? 0x7ff8000000000000ULL
                  : d == 0      ? 0
                                : std::bit_cast<std::uint64_t>(d);
    } else if (is_byte_string(v.type())) {
        content = std::hash<std::string_view>{}(v.bytes());
    } else {
        content = static_cast<std::uint64_t>(v.integer());
    }
    return mix(content + (static_cast<std::uint64_t>(v.type()) << 56));
}

// Combines the hashes of a key's columns, in order.
constexpr std::uint64_t combine(std::uint64_t seed, std::uint64_t h) noexcept {
    return mix(seed ^ (h + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2)));
}

inline std::uint64_t hash_of(std::span<const value_view> key) noexcept {
    std::uint64_t h = 0;
    for (const auto& v : key) h = combine(h, hash_of(v));
    return h;
}

// The hash of the columns `columns` of `row`: equal to hash_of(key) when those columns equal
// the key's values.
inline std::uint64_t hash_of(packed_view row, std::span<const std::size_t> columns) noexcept {
    std::uint64_t h = 0;
    for (std::size_t c : columns) h = combine(h, hash_of(row[c]));
    return h;
}

}  // namespace laredo::targets::memory::detail
