// Memory per stored row of the indexed memory target, against the raw bytes of the values.
//
// Loads N rows (default 1,000,000; first argument overrides) of the benchmark row shape through
// on_baseline_rows in batches of 1,000 and measures the heap the target keeps with glibc's
// mallinfo2() (in-use bytes of the arenas plus mmapped chunks) before and after. Batches are
// freed before the second measurement, so the difference is what the target holds: packed
// rows, the primary-key index and allocator overhead.
//
// The goal: at most 1.3x the raw bytes per row, primary-key index included; a secondary
// index costs no more than the key bytes it holds plus a pointer per row. For comparison it
// also measures the same rows held as a std::vector<laredo::row> (N / 10 rows).

#include "bench_rows.hpp"

#include "laredo/targets/memory/indexed_target.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <vector>

namespace {

using namespace laredo;
using laredo::bench::bench_row;
using laredo::bench::bench_schema;
using laredo::bench::bench_table;
using laredo::targets::memory::indexed_target;
using laredo::targets::memory::indexed_target_options;

std::size_t heap_in_use() {
    const auto m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

template <class Awaitable>
void run(Awaitable a) {
    boost::asio::io_context ctx;
    boost::asio::co_spawn(ctx, std::move(a), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    ctx.run();
}

struct measurement {
    double bytes_per_row;
    double packed_per_row;
    double raw_per_row;
};

measurement load(indexed_target& target, std::size_t rows) {
    run(target.on_init(bench_table, bench_schema()));
    malloc_trim(0);
    const std::size_t before = heap_in_use();
    std::size_t raw = 0;
    constexpr std::size_t batch_size = 1000;
    for (std::size_t first = 0; first < rows; first += batch_size) {
        std::vector<row> batch;
        batch.reserve(batch_size);
        for (std::size_t i = first; i < std::min(rows, first + batch_size); ++i) {
            batch.push_back(bench_row(static_cast<std::int64_t>(i)));
            raw += batch.back().raw_size();
        }
        run(target.on_baseline_rows(bench_table, batch));
    }
    run(target.on_baseline_complete(bench_table, position::from_sequence(1)));
    const std::size_t after = heap_in_use();
    const auto n = static_cast<double>(rows);
    return {static_cast<double>(after - before) / n, static_cast<double>(target.packed_bytes()) / n,
            static_cast<double>(raw) / n};
}

double vector_of_rows_bytes(std::size_t rows) {
    const std::size_t before = heap_in_use();
    auto held = std::make_unique<std::vector<row>>();
    held->reserve(rows);
    for (std::size_t i = 0; i < rows; ++i) held->push_back(bench_row(static_cast<std::int64_t>(i)));
    const std::size_t after = heap_in_use();
    return static_cast<double>(after - before) / static_cast<double>(rows);
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
    if (rows == 0) {
        fmt::print(stderr, "usage: {} [rows > 0]\n", argv[0]);
        return 2;
    }

    measurement pk;
    {
        indexed_target target;
        pk = load(target, rows);
        if (target.count() != rows) {
            fmt::print(stderr, "stored {} rows, expected {}\n", target.count(), rows);
            return 1;
        }
    }
    fmt::print("rows: {}\n", rows);
    fmt::print("raw bytes per row: {:.1f}\n", pk.raw_per_row);
    fmt::print("indexed target bytes per row (packed rows + primary-key index): {:.1f}\n",
               pk.bytes_per_row);
    fmt::print("  of which packed encoding: {:.1f}\n", pk.packed_per_row);
    fmt::print("ratio to raw: {:.2f}x (goal: at most 1.3x)\n", pk.bytes_per_row / pk.raw_per_row);

    // Each secondary index beside the primary key: what it adds per row, against the bytes
    // of the key it indexes plus a pointer.
    struct secondary {
        const char* field;
        double key_bytes;
        bool unique;
    };
    for (const auto& [field, key_bytes, unique] :
         {secondary{"name", 20, true}, secondary{"value", 8, false}}) {
        indexed_target_options options;
        options.indexes = {{.name = "by_field", .fields = {field}, .unique = unique}};
        indexed_target target(options);
        const auto with_index = load(target, rows);
        const double added = with_index.bytes_per_row - pk.bytes_per_row;
        fmt::print(
            "with a {} secondary index on {} ({} key bytes): {:.1f} bytes per row "
            "({:.2f}x raw); the index adds {:.1f} (key bytes + pointer: {:.0f})\n",
            unique ? "unique" : "non-unique", field, key_bytes, with_index.bytes_per_row,
            with_index.bytes_per_row / with_index.raw_per_row, added, key_bytes + 8);
    }

    malloc_trim(0);
    const std::size_t sample = std::max<std::size_t>(1, rows / 10);
    const double naive = vector_of_rows_bytes(sample);
    fmt::print(
        "for comparison, std::vector<laredo::row> ({} rows): {:.1f} bytes per row "
        "({:.2f}x raw)\n",
        sample, naive, naive / pk.raw_per_row);
    return 0;
}
