// Throughput of the indexed memory target (rows/s): inserts, updates (whole rows, and with
// the payload `unchanged` so the TOAST merge runs), updates with a secondary index, and
// reads. Changes go through on_changes in batches of 1,000 single-row transactions, as the
// engine delivers them; the batches are built before the clock runs.

#include "bench_rows.hpp"

#include "laredo/change_event.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

namespace {

using namespace laredo;
using laredo::bench::bench_row;
using laredo::bench::bench_schema;
using laredo::bench::bench_table;
using laredo::targets::memory::indexed_target;
using laredo::targets::memory::indexed_target_options;

constexpr std::size_t batch_size = 1000;

template <class Awaitable>
void run(boost::asio::io_context& ctx, Awaitable a) {
    boost::asio::co_spawn(ctx, std::move(a), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    ctx.run();
    ctx.restart();
}

using batch = std::vector<change_event>;

change_event event(change_action action, row r, std::uint64_t pos) {
    change_event c;
    c.table = bench_table;
    c.action = action;
    c.pos = position::from_sequence(pos);
    c.new_values = std::move(r);
    return c;
}

std::unique_ptr<indexed_target> loaded_target(boost::asio::io_context& ctx, std::size_t rows,
                                              indexed_target_options options = {}) {
    auto t = std::make_unique<indexed_target>(std::move(options));
    run(ctx, t->on_init(bench_table, bench_schema()));
    std::vector<row> chunk;
    for (std::size_t i = 0; i < rows; ++i) {
        chunk.push_back(bench_row(static_cast<std::int64_t>(i)));
        if (chunk.size() == batch_size || i + 1 == rows) {
            run(ctx, t->on_baseline_rows(bench_table, chunk));
            chunk.clear();
        }
    }
    run(ctx, t->on_baseline_complete(bench_table, position::from_sequence(1)));
    return t;
}

// Batches of inserts of fresh keys, `count` batches.
std::vector<batch> insert_batches(std::size_t count) {
    std::vector<batch> out(count);
    std::uint64_t pos = 2;
    for (std::size_t b = 0; b < count; ++b) {
        for (std::size_t i = 0; i < batch_size; ++i) {
            const auto id = static_cast<std::int64_t>(b * batch_size + i);
            out[b].push_back(event(change_action::insert, bench_row(id), pos++));
        }
    }
    return out;
}

// Batches of updates of random existing keys in [0, rows).
std::vector<batch> update_batches(std::size_t count, std::size_t rows, bool payload_unchanged) {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int64_t> pick(0, static_cast<std::int64_t>(rows) - 1);
    std::vector<batch> out(count);
    std::uint64_t pos = 2;
    for (std::size_t b = 0; b < count; ++b) {
        for (std::size_t i = 0; i < batch_size; ++i) {
            row r = bench_row(pick(rng), static_cast<std::int64_t>(pos));
            if (payload_unchanged) r.set(3, value::unchanged());
            out[b].push_back(event(change_action::update, std::move(r), pos++));
        }
    }
    return out;
}

void BM_indexed_insert(benchmark::State& state) {
    boost::asio::io_context ctx;
    const auto batches = insert_batches(200);  // 200,000 fresh rows, then a new table
    std::unique_ptr<indexed_target> t;
    std::size_t next = batches.size();
    for (auto _ : state) {
        if (next == batches.size()) {
            state.PauseTiming();
            t = loaded_target(ctx, 0);
            next = 0;
            state.ResumeTiming();
        }
        run(ctx, t->on_changes(bench_table, batches[next++]));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch_size));
}
BENCHMARK(BM_indexed_insert)->Unit(benchmark::kMicrosecond);

void update_bench(benchmark::State& state, bool payload_unchanged, indexed_target_options options) {
    boost::asio::io_context ctx;
    const auto rows = static_cast<std::size_t>(state.range(0));
    auto t = loaded_target(ctx, rows, std::move(options));
    const auto batches = update_batches(100, rows, payload_unchanged);
    std::size_t next = 0;
    for (auto _ : state) {
        run(ctx, t->on_changes(bench_table, batches[next]));
        next = (next + 1) % batches.size();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch_size));
}

void BM_indexed_update(benchmark::State& state) { update_bench(state, false, {}); }
BENCHMARK(BM_indexed_update)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);

void BM_indexed_update_unchanged_payload(benchmark::State& state) { update_bench(state, true, {}); }
BENCHMARK(BM_indexed_update_unchanged_payload)->Arg(100'000)->Unit(benchmark::kMicrosecond);

void BM_indexed_update_with_secondary_index(benchmark::State& state) {
    indexed_target_options options;
    options.indexes = {{.name = "by_name", .fields = {"name"}, .unique = true},
                       {.name = "by_value", .fields = {"value"}, .unique = false}};
    update_bench(state, false, std::move(options));
}
BENCHMARK(BM_indexed_update_with_secondary_index)->Arg(100'000)->Unit(benchmark::kMicrosecond);

void BM_indexed_get(benchmark::State& state) {
    boost::asio::io_context ctx;
    const auto rows = static_cast<std::size_t>(state.range(0));
    auto t = loaded_target(ctx, rows);
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::int64_t> pick(0, static_cast<std::int64_t>(rows) - 1);
    for (auto _ : state) {
        auto r = t->get(pick(rng));
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_indexed_get)->Arg(100'000)->Arg(1'000'000);

}  // namespace

BENCHMARK_MAIN();
