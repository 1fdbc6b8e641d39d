#include "laredo/json/values.hpp"

#include <array>

namespace laredo::json {

namespace {

// Slicing-by-8 tables for the reflected Castagnoli polynomial 0x82F63B78: eight bytes per
// step, portable (no SSE 4.2 requirement). Dead letters and snapshots checksum every line.
constexpr std::array<std::array<std::uint32_t, 256>, 8> make_tables() noexcept {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        t[0][i] = c;
    }
    for (std::size_t s = 1; s < 8; ++s) {
        for (std::size_t i = 0; i < 256; ++i)
            t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
    return t;
}

constexpr auto tables = make_tables();

}  // namespace

std::uint32_t crc32c(std::string_view bytes, std::uint32_t seed) noexcept {
    std::uint32_t c = ~seed;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    std::size_t n = bytes.size();
    while (n >= 8) {
        const std::uint32_t lo = c ^ (std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 |
                                      std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24);
        c = tables[7][lo & 0xff] ^ tables[6][(lo >> 8) & 0xff] ^ tables[5][(lo >> 16) & 0xff] ^
            tables[4][lo >> 24] ^ tables[3][p[4]] ^ tables[2][p[5]] ^ tables[1][p[6]] ^
            tables[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) c = tables[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

}  // namespace laredo::json
