#pragma once

// The benchmark row shape the memory and throughput goals are measured on: a bigint key, a
// 20-byte text, a float8, a 100-byte text and a timestamptz (144 raw bytes). The PostgreSQL
// benchmarks create the same columns in SQL (bench/postgres/source_bench.cpp).

#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

namespace laredo::bench {

inline const table_identifier bench_table{"public", "bench"};

inline std::vector<column_definition> bench_columns() {
    return {
        {.name = "id",
         .type = "int8",
         .nullable = false,
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 1},
        {.name = "name", .type = "text", .ordinal_position = 2},
        {.name = "value", .type = "float8", .ordinal_position = 3},
        {.name = "payload", .type = "text", .ordinal_position = 4},
        {.name = "updated_at", .type = "timestamptz", .ordinal_position = 5},
    };
}

inline schema_ptr bench_schema() {
    static const schema_ptr s = row_schema::make(bench_columns());
    return s;
}

// The values of row `id`, version `version` (updates change the value, payload and time).
inline std::vector<value> bench_values(std::int64_t id, std::int64_t version = 0) {
    // 100 bytes, like rpad(md5(...), 100, ...): varies with id and version.
    std::string payload =
        fmt::format("{:032x}{:032x}", static_cast<std::uint64_t>(id) * 2654435761u,
                    static_cast<std::uint64_t>(version) * 40503u + 17);
    payload.resize(100, static_cast<char>('a' + (id + version) % 26));
    std::vector<value> out;
    out.reserve(5);
    out.emplace_back(id);
    out.emplace_back(fmt::format("name-{:015}", id));  // 20 bytes
    out.emplace_back(static_cast<double>(id) * 1.25 + static_cast<double>(version));
    out.emplace_back(std::move(payload));
    out.emplace_back(timestamptz_value{1'700'000'000'000'000 - id * 1'000'000 + version});
    return out;
}

inline row bench_row(std::int64_t id, std::int64_t version = 0) {
    return row(bench_schema(), bench_values(id, version));
}

}  // namespace laredo::bench
