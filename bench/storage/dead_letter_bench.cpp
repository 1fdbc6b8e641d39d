// Dead-letter stores on the benchmark row shape (../memory/bench_rows.hpp): each letter holds an
// insert of one row (bigint, text, float8, ~100-byte text, timestamptz), as a pipeline would write
// it after its retries. Measured: deadletter::local_store appends with fsync on (a letter is on
// disk when write returns) and off, listing 10,000 letters back from the file, and
// deadletter::memory_store appends.
//
// Rates are over wall-clock time (UseRealTime), so fsync waits count. Letters are built
// before the clock runs and moved into write(), as the engine hands them over; listed letters
// are freed with the clock paused. The list reads a file just written, from the page cache.

#include "../memory/bench_rows.hpp"
#include "bench_dir.hpp"

#include "laredo/deadletter/local_store.hpp"
#include "laredo/deadletter/memory_store.hpp"

#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace laredo;
using laredo::bench::bench_row;
using laredo::bench::bench_table;
using laredo::deadletter::local_store;
using laredo::deadletter::local_store_options;
using laredo::deadletter::memory_store;
using laredo::deadletter::memory_store_options;

const std::string pipeline = "pg:public.bench:memory.indexed";

dead_letter make_letter(std::int64_t id) {
    dead_letter l;
    l.pipeline_id = pipeline;
    l.written_at = std::chrono::system_clock::time_point{std::chrono::seconds(1'700'000'000 + id)};
    l.change.table = bench_table;
    l.change.action = change_action::insert;
    l.change.timestamp = l.written_at;
    l.change.commit_timestamp = l.written_at;
    l.change.transaction_id = static_cast<std::uint64_t>(1000 + id);
    l.change.new_values = bench_row(id);
    l.position = fmt::format("0/{:X}", 0x16B3748 + id * 160);
    l.error_code = "laredo:target_failed";
    l.error_message = fmt::format("target refused row {}: duplicate key", id);
    l.attempts = 3;
    return l;
}

std::vector<dead_letter> make_letters(std::size_t count) {
    std::vector<dead_letter> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i)
        out.push_back(make_letter(static_cast<std::int64_t>(i)));
    return out;
}

void set_rates(benchmark::State& state, double letters, double bytes) {
    state.counters["letters/s"] = benchmark::Counter(letters, benchmark::Counter::kIsRate);
    state.counters["bytes/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsRate);
}

// Arg 1: fsync each append (the default); arg 0: no fsync (page cache only).
void BM_local_store_write(benchmark::State& state) {
    const bool fsync = state.range(0) != 0;
    auto letters = make_letters(static_cast<std::size_t>(state.max_iterations));
    laredo::bench::bench_dir dir;
    local_store store(dir.path(), local_store_options{.max_bytes = 0, .fsync = fsync});
    std::size_t next = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(store.write(std::move(letters[next++])));
    }
    const auto bytes = static_cast<double>(store.bytes_used());
    set_rates(state, static_cast<double>(state.iterations()), bytes);
    state.counters["bytes/letter"] = bytes / static_cast<double>(state.iterations());
}

// list() of a pipeline's 10,000 letters: read the file, check each line's CRC, decode.
void BM_local_store_list(benchmark::State& state) {
    const auto count = static_cast<std::size_t>(state.range(0));
    laredo::bench::bench_dir dir;
    local_store store(dir.path(), local_store_options{.max_bytes = 0, .fsync = false});
    for (auto& l : make_letters(count)) store.write(std::move(l));
    for (auto _ : state) {
        auto listed = store.list(pipeline);
        state.PauseTiming();
        if (listed.size() != count) state.SkipWithError("listed letter count differs");
        listed = {};
        state.ResumeTiming();
    }
    const auto iterations = static_cast<double>(state.iterations());
    set_rates(state, static_cast<double>(count) * iterations,
              static_cast<double>(store.bytes_used()) * iterations);
    state.counters["file_bytes"] = static_cast<double>(store.bytes_used());
}

void BM_memory_store_write(benchmark::State& state) {
    auto letters = make_letters(static_cast<std::size_t>(state.max_iterations));
    memory_store store(memory_store_options{.max_bytes = 0});
    std::size_t next = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(store.write(std::move(letters[next++])));
    }
    // bytes/s here is the store's accounted in-memory footprint per second.
    const auto bytes = static_cast<double>(store.bytes_used());
    set_rates(state, static_cast<double>(state.iterations()), bytes);
    state.counters["bytes/letter"] = bytes / static_cast<double>(state.iterations());
}

// Writes run for a set time (the library picks the count, letters are built for it before
// the clock runs): fsync on is bound by the disk's flush latency, which differs by machine
// by two orders of magnitude, so a fixed count could not bound the run. The memory store is
// fast enough that a set time would mean millions of prebuilt letters (GBs): a fixed count.
BENCHMARK(BM_local_store_write)->Arg(1)->MinTime(3.0)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_local_store_write)->Arg(0)->MinTime(2.0)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_local_store_list)
    ->Arg(10'000)
    ->MinTime(2.0)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_memory_store_write)->Iterations(500'000)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
