// Snapshot storage on the benchmark row shape (bigint, text, float8, ~100-byte text,
// timestamptz): save and load of one table through snapshots::local_store (JSONL files,
// CRC-32C, fsync of files and folders, atomic rename), and the JSONL serializer alone into
// and out of memory, so encoding and decoding cost can be told apart from I/O.
//
// Rates are over wall-clock time (UseRealTime): rows/s, and bytes/s of the table file as it
// is on disk (the same bytes the in-memory benches count). Tables are built before the clock
// runs; a loaded snapshot is freed with the clock paused. Loads read a file the save just
// wrote, so it comes from the page cache: that is the cost of parsing and checking, not of
// the disk.

#include "../memory/bench_rows.hpp"
#include "bench_dir.hpp"

#include "laredo/snapshot/jsonl_serializer.hpp"
#include "laredo/snapshot/local_store.hpp"

#include <benchmark/benchmark.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

namespace {

using namespace laredo;
using laredo::bench::bench_row;
using laredo::bench::bench_schema;
using laredo::bench::bench_table;
using laredo::snapshots::byte_sink;
using laredo::snapshots::byte_source;
using laredo::snapshots::jsonl_serializer;
using laredo::snapshots::local_store;

// One pipeline's table of `rows` rows of the bench shape, in a snapshot (built once per size:
// a million rows take a few hundred MB and a second or two to make). Benches set its id.
snapshot& bench_snapshot(std::size_t rows) {
    static std::map<std::size_t, snapshot> cache;
    auto it = cache.find(rows);
    if (it != cache.end()) return it->second;

    snapshot_table t;
    t.pipeline_id = "pg:public.bench:memory.indexed";
    t.source_id = "pg";
    t.info.table = bench_table;
    t.info.target_type = "memory.indexed";
    t.info.columns = bench_schema()->columns();
    t.info.row_count = rows;
    t.position = "0/16B3748:1";
    t.schema_fingerprint = bench_schema()->fingerprint();
    t.rows.reserve(rows);
    for (std::size_t i = 0; i < rows; ++i)
        t.rows.push_back(bench_row(static_cast<std::int64_t>(i)));

    snapshot s;
    s.descriptor.labels = {{"trigger", "bench"}};
    s.descriptor.source_positions = {{"pg", t.position}};
    s.tables.push_back(std::move(t));
    return cache.emplace(rows, std::move(s)).first->second;
}

// Counts what the serializer writes and keeps none of it.
class discarding_sink final : public byte_sink {
  public:
    void write(std::string_view bytes) override { bytes_ += bytes.size(); }
    std::uint64_t bytes() const noexcept { return bytes_; }

  private:
    std::uint64_t bytes_ = 0;
};

class string_sink final : public byte_sink {
  public:
    void write(std::string_view bytes) override { text_.append(bytes); }
    std::string& text() noexcept { return text_; }

  private:
    std::string text_;
};

// Hands out an in-memory file in pieces of the size a file read would return.
class string_source final : public byte_source {
  public:
    explicit string_source(std::string_view text) : text_(text) {}
    std::size_t read(char* buffer, std::size_t size) override {
        const std::size_t n = std::min(size, text_.size() - offset_);
        std::memcpy(buffer, text_.data() + offset_, n);
        offset_ += n;
        return n;
    }

  private:
    std::string_view text_;
    std::size_t offset_ = 0;
};

// The JSONL file of a table size, encoded once.
const std::string& encoded_table(std::size_t rows) {
    static std::map<std::size_t, std::string> cache;
    auto it = cache.find(rows);
    if (it != cache.end()) return it->second;
    string_sink sink;
    jsonl_serializer{}.write(bench_snapshot(rows).tables.front(), sink);
    return cache.emplace(rows, std::move(sink.text())).first->second;
}

void set_rates(benchmark::State& state, std::size_t rows, std::uint64_t bytes) {
    const auto iterations = static_cast<double>(state.iterations());
    state.counters["rows/s"] =
        benchmark::Counter(static_cast<double>(rows) * iterations, benchmark::Counter::kIsRate);
    state.counters["bytes/s"] =
        benchmark::Counter(static_cast<double>(bytes) * iterations, benchmark::Counter::kIsRate);
    state.counters["file_bytes"] = static_cast<double>(bytes);
    state.counters["bytes/row"] = static_cast<double>(bytes) / static_cast<double>(rows);
}

void BM_snapshot_save(benchmark::State& state) {
    const auto rows = static_cast<std::size_t>(state.range(0));
    snapshot& s = bench_snapshot(rows);
    laredo::bench::bench_dir dir;
    local_store store(dir.path());
    std::uint64_t bytes = 0;
    int n = 0;
    for (auto _ : state) {
        state.PauseTiming();
        s.descriptor.id = fmt::format("bench-{}", n++);
        state.ResumeTiming();
        const auto d = store.save(s);
        state.PauseTiming();
        bytes = d.size_bytes;
        if (d.row_count != rows) state.SkipWithError("saved row count differs");
        store.remove(d.id);  // keeps the disk footprint to one snapshot
        state.ResumeTiming();
    }
    set_rates(state, rows, bytes);
}

void BM_snapshot_load(benchmark::State& state) {
    const auto rows = static_cast<std::size_t>(state.range(0));
    laredo::bench::bench_dir dir;
    local_store store(dir.path());
    snapshot& s = bench_snapshot(rows);
    s.descriptor.id = "bench-load";
    const auto d = store.save(s);
    for (auto _ : state) {
        snapshot loaded = store.load(d.id);
        state.PauseTiming();
        if (loaded.tables.size() != 1 || loaded.tables.front().rows.size() != rows) {
            state.SkipWithError("loaded row count differs");
        }
        loaded = {};
        state.ResumeTiming();
    }
    set_rates(state, rows, d.size_bytes);
}

void BM_jsonl_encode(benchmark::State& state) {
    const auto rows = static_cast<std::size_t>(state.range(0));
    const auto& table = bench_snapshot(rows).tables.front();
    const jsonl_serializer format;
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        discarding_sink sink;
        format.write(table, sink);
        bytes = sink.bytes();
    }
    set_rates(state, rows, bytes);
}

void BM_jsonl_decode(benchmark::State& state) {
    const auto rows = static_cast<std::size_t>(state.range(0));
    const auto& text = encoded_table(rows);
    const jsonl_serializer format;
    for (auto _ : state) {
        string_source in(text);
        auto table = format.read(in, "bench.jsonl");
        state.PauseTiming();
        if (table.rows.size() != rows) state.SkipWithError("decoded row count differs");
        table = {};
        state.ResumeTiming();
    }
    set_rates(state, rows, text.size());
}

// 100k rows: let the library pick the iterations (about 0.5 s each); 1M rows: 3 iterations,
// which keeps the whole program near half a minute on two shared cores.
void small(benchmark::internal::Benchmark* b) {
    b->Arg(100'000)->Unit(benchmark::kMillisecond)->UseRealTime();
}
void large(benchmark::internal::Benchmark* b) {
    b->Arg(1'000'000)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK(BM_snapshot_save)->Apply(small);
BENCHMARK(BM_snapshot_save)->Apply(large);
BENCHMARK(BM_snapshot_load)->Apply(small);
BENCHMARK(BM_snapshot_load)->Apply(large);
BENCHMARK(BM_jsonl_encode)->Apply(small);
BENCHMARK(BM_jsonl_encode)->Apply(large);
BENCHMARK(BM_jsonl_decode)->Apply(small);
BENCHMARK(BM_jsonl_decode)->Apply(large);

}  // namespace

BENCHMARK_MAIN();
