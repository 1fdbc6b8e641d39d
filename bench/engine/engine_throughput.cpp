// Engine throughput: testsource -> N pipelines (1, 4, 16) on one table -> indexed memory
// targets, and the same with a target that only counts (the engine alone), on an io_context
// run by ONE thread (so the figure is per core). Events are built before the clock starts and
// handed to the source in bulk; the clock stops when the source has been ACKed the last
// position, i.e. when every pipeline has applied every event.
//
// Absolute rates on a shared machine move 2-3x between runs, so the figure that matters is
// the ratio of the two targets measured in one process, runs alternating; beside it the cost
// of Asio's own primitives measured in the same process.

#include "asio_floor.hpp"
#include "bench_events.hpp"
#include "bench_rows.hpp"

#include "laredo/engine.hpp"
#include "laredo/sources/testsource/test_source.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

namespace {

using namespace laredo;
using boost::asio::awaitable;
using boost::asio::use_awaitable;
using sources::testsource::test_source;
using sources::testsource::test_source_options;
using targets::memory::indexed_target;

using laredo::bench::bench_table;
using laredo::bench::counting_target;
using laredo::bench::make_events;

// CPU time of the whole process: the io_context's one thread does all the work, so on a
// shared machine this counts what the work costs, not the time other programs took the core.
double cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

struct result {
    double seconds = 0;
    double cpu = 0;
    std::size_t events = 0;
};

result run_once(std::size_t pipelines, std::size_t count, std::size_t keys, bool counting) {
    boost::asio::io_context ctx(1);
    test_source_options options;
    options.batch_size = 256;
    auto src = std::make_shared<test_source>(ctx.get_executor(), options);
    const auto schema = src->set_schema(bench_table, laredo::bench::bench_columns());
    auto builder = engine::builder();
    builder.add_source("bench", src);
    for (std::size_t i = 0; i < pipelines; ++i) {
        pipeline_options p;
        p.id = "bench-" + std::to_string(i);
        std::shared_ptr<sync_target> target;
        if (counting) {
            target = std::make_shared<counting_target>();
        } else {
            target = std::make_shared<indexed_target>();
        }
        builder.add_pipeline("bench", bench_table, std::move(target), p);
    }
    auto eng = builder.build(ctx.get_executor());
    auto events = make_events(schema, count, keys);
    result out;
    out.events = count;
    boost::asio::co_spawn(
        ctx,
        [&]() -> awaitable<void> {
            co_await eng.async_start(use_awaitable);
            co_await eng.async_await_ready(use_awaitable);
            const auto started = std::chrono::steady_clock::now();
            const double cpu_started = cpu_seconds();
            const auto last = src->emit(std::move(events));
            boost::asio::steady_timer poll(ctx);
            while (src->last_acked() != last) {
                poll.expires_after(std::chrono::microseconds(200));
                co_await poll.async_wait(use_awaitable);
            }
            out.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            out.cpu = cpu_seconds() - cpu_started;
            co_await eng.async_stop(use_awaitable);
        },
        [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    ctx.run();
    return out;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// events/s through each pipeline in one run, by the wall clock and by CPU time.
struct rates {
    double wall = 0;
    double cpu = 0;
};

rates rate(std::size_t pipelines, std::size_t count, bool counting) {
    const std::size_t div = pipelines >= 16 ? 4 : 1;
    const auto r = run_once(pipelines, count / div, count / div / 2, counting);
    const auto events = static_cast<double>(r.events);
    return {events / r.seconds, events / r.cpu};
}

std::string millions(double per_second) { return fmt::format("{:.2f} M", per_second / 1e6); }

}  // namespace

// Usage: engine_throughput_bench [events per run (500000)] [repetitions (5)] [indexed|counting]
// With a third argument only that kind of run is repeated (for a profiler).
int main(int argc, char** argv) {
    const std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 500'000;
    const std::size_t repetitions = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 5;
    const std::string only = argc > 3 ? argv[3] : "";
    if (count < 64 || repetitions == 0 ||
        (!only.empty() && only != "indexed" && only != "counting")) {
        fmt::print(stderr, "usage: {} [events >= 64] [repetitions >= 1] [indexed|counting]\n",
                   argv[0]);
        return 2;
    }
    if (!only.empty()) {
        for (std::size_t i = 0; i < repetitions; ++i) {
            const auto r = rate(1, count, only == "counting");
            fmt::print("{}: {} events/s ({} by CPU time)\n", only, millions(r.wall),
                       millions(r.cpu));
        }
        return 0;
    }
    fmt::print("engine throughput: testsource -> N pipelines -> target, 1 io_context thread\n");
    fmt::print(
        "{} events per run ({} inserts, then {} updates), batches of 256; medians of {} "
        "runs,\nthe two kinds of target alternating so both see the same machine\n\n",
        count, count / 2, count - count / 2, repetitions);

    const auto floor = laredo::bench::measure_asio_floor(2'000'000);
    // Through one pipeline, the goal's figure: runs alternate between the two targets.
    std::vector<double> indexed_wall, counting_wall, indexed_cpu, counting_cpu, ratio_wall,
        ratio_cpu;
    for (std::size_t i = 0; i < repetitions; ++i) {
        const auto a = rate(1, count, false);
        const auto b = rate(1, count, true);
        indexed_wall.push_back(a.wall);
        counting_wall.push_back(b.wall);
        indexed_cpu.push_back(a.cpu);
        counting_cpu.push_back(b.cpu);
        ratio_wall.push_back(a.wall / b.wall);
        ratio_cpu.push_back(a.cpu / b.cpu);
    }
    const auto report = [&](const char* clock, const std::vector<double>& indexed_rates,
                            const std::vector<double>& counting_rates,
                            const std::vector<double>& ratios) {
        const double indexed = median(indexed_rates);
        const double counting = median(counting_rates);
        fmt::print(
            "one pipeline, {}: indexed memory target {} events/s, counting target {} "
            "events/s\n",
            clock, millions(indexed), millions(counting));
        fmt::print("  ratio indexed / counting: {:.2f} (median of the runs' ratios; per run:",
                   median(ratios));
        for (double r : ratios) fmt::print(" {:.2f}", r);
        fmt::print(")\n  per event: engine alone {:.0f} ns, the indexed target adds {:.0f} ns\n",
                   1e9 / counting, 1e9 / indexed - 1e9 / counting);
    };
    report("wall clock", indexed_wall, counting_wall, ratio_wall);
    report("CPU time", indexed_cpu, counting_cpu, ratio_cpu);
    fmt::print(
        "Asio floor (same process, 1 thread): strand hop {:.0f} ns, channel element {:.0f} "
        "ns,\n  channel of 256-event batches {:.1f} ns per event\n\n",
        floor.strand_hop_ns, floor.channel_element_ns, floor.batched_channel_event_ns);

    fmt::print("{:>9} | {:>26} | {:>26}\n", "pipelines", "indexed: per pipeline (all)",
               "counting: per pipeline (all)");
    for (std::size_t n : {4u, 16u}) {
        std::vector<double> a, b;
        for (std::size_t i = 0; i < std::max<std::size_t>(1, repetitions / 2); ++i) {
            a.push_back(rate(n, count, false).wall);
            b.push_back(rate(n, count, true).wall);
        }
        const double ia = median(a), cb = median(b);
        const auto cell = [n](double r) {
            return fmt::format("{} ({})", millions(r), millions(r * static_cast<double>(n)));
        };
        fmt::print("{:>9} | {:>26} | {:>26}\n", n, cell(ia), cell(cb));
    }
}
