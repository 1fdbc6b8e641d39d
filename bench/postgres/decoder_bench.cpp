// Decoder + converter throughput on captured bytes, with heap allocations per row counted by
// a replaced global operator new. The goal: decode and convert at 1 M rows/s per core or more,
// so that the decoder never limits the stream.
//
// Data: tests/postgres/unit/data/bench.hex, a pgoutput stream captured from PostgreSQL 15 with
// the benchmark row shape (bench/memory/bench_rows.hpp: bigint, text, float8, ~100-byte text,
// timestamptz): 100 inserts in one transaction, then 10 transactions of 5.
//
//   decode_only       decode_pgoutput + walk every column (no conversion): the parser alone
//   decode_and_convert change_decoder::feed: decode, relation cache, positions, typed rows in
//                     change events (what the source does per message)
//   convert/<kind>    one value of each kind through convert_text
//
// Counters: rows/s (items_per_second), allocs_per_row (decoder_bench_alloc.cpp counts them).

#include "capture_data.hpp"
#include "decoder_bench_alloc.hpp"

#include "laredo/sources/postgres/pgoutput_changes.hpp"
#include "laredo/sources/postgres/value_converter.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace pg = laredo::sources::postgres;

namespace {

const std::vector<std::string>& payloads() {
    static const auto p = pg::testing::load_payloads("bench.hex");
    return p;
}

std::size_t row_messages() {
    std::size_t n = 0;
    for (const auto& p : payloads()) n += p[0] == 'I' || p[0] == 'U' || p[0] == 'D';
    return n;
}

std::size_t payload_bytes() {
    std::size_t n = 0;
    for (const auto& p : payloads()) n += p.size();
    return n;
}

void report(benchmark::State& state, std::size_t rows_per_pass, std::size_t allocs) {
    const auto rows = static_cast<double>(state.iterations()) * static_cast<double>(rows_per_pass);
    state.SetItemsProcessed(static_cast<std::int64_t>(rows));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(payload_bytes()));
    state.counters["allocs_per_row"] = static_cast<double>(allocs) / rows;
}

void decode_only(benchmark::State& state) {
    const auto& msgs = payloads();
    const std::size_t rows = row_messages();
    std::size_t allocs = 0;
    for (auto _ : state) {
        const std::size_t before = decoder_bench_allocations();
        std::size_t bytes = 0;
        for (const auto& p : msgs) {
            const auto m = pg::decode_pgoutput(p);
            if (const auto* i = std::get_if<pg::insert_message>(&m)) {
                for (const auto& c : i->new_tuple) bytes += c.data.size();
            }
        }
        benchmark::DoNotOptimize(bytes);
        allocs += decoder_bench_allocations() - before;
    }
    report(state, rows, allocs);
}
BENCHMARK(decode_only);

void decode_and_convert(benchmark::State& state) {
    const auto& msgs = payloads();
    const std::size_t rows = row_messages();
    pg::value_converter types;
    pg::change_decoder decoder(types);
    std::vector<laredo::change_event> events;
    events.reserve(rows);
    const auto now = std::chrono::system_clock::now();
    std::size_t allocs = 0;
    for (auto _ : state) {
        // The same stream again: a new session (positions start over), relations stay cached.
        decoder.reset_session();
        events.clear();  // delivered; keeps its capacity
        const std::size_t before = decoder_bench_allocations();
        for (const auto& p : msgs) (void)decoder.feed(p, now, events);
        allocs += decoder_bench_allocations() - before;
        benchmark::DoNotOptimize(events.data());
    }
    if (events.size() != rows) state.SkipWithError("not every row became an event");
    report(state, rows, allocs);
}
BENCHMARK(decode_and_convert);

void convert(benchmark::State& state, pg::value_kind kind, std::string text) {
    std::size_t allocs = 0;
    for (auto _ : state) {
        const std::size_t before = decoder_bench_allocations();
        auto v = pg::convert_text(kind, text);
        benchmark::DoNotOptimize(v);
        allocs += decoder_bench_allocations() - before;
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["allocs_per_value"] =
        static_cast<double>(allocs) / static_cast<double>(state.iterations());
}
BENCHMARK_CAPTURE(convert, int64, pg::value_kind::int64, "1234567890");
BENCHMARK_CAPTURE(convert, float64, pg::value_kind::float64, "1234.5678125");
BENCHMARK_CAPTURE(convert, text_short, pg::value_kind::text, "name-42");
BENCHMARK_CAPTURE(convert, text_100, pg::value_kind::text, std::string(100, 'p'));
BENCHMARK_CAPTURE(convert, numeric, pg::value_kind::numeric, "12345.678");
BENCHMARK_CAPTURE(convert, timestamptz, pg::value_kind::timestamptz,
                  "2024-01-02 03:04:05.123456+00");
BENCHMARK_CAPTURE(convert, date, pg::value_kind::date, "2024-01-02");
BENCHMARK_CAPTURE(convert, uuid, pg::value_kind::uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
BENCHMARK_CAPTURE(convert, bytea_16, pg::value_kind::bytes, "\\x000102030405060708090a0b0c0d0e0f");

}  // namespace

BENCHMARK_MAIN();
