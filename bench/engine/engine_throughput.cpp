// Engine throughput: testsource -> N pipelines (1, 4, 16) on one table -> indexed memory
// targets, on an io_context run by ONE thread (so the figure is per core). Events are built
// before the clock starts and handed to the source in bulk; the clock stops when the source
// has been ACKed the last position, i.e. when every pipeline has applied every event.
//
// Prints events/s through each pipeline (what one pipeline sustains) and applied events/s in
// total (events x pipelines).

#include "laredo/engine.hpp"
#include "laredo/sources/testsource/test_source.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace laredo;
using boost::asio::awaitable;
using boost::asio::use_awaitable;
using sources::testsource::test_source;
using sources::testsource::test_source_options;
using targets::memory::indexed_target;

const table_identifier bench_table{"public", "bench"};

// Applies nothing: isolates what the engine itself costs (source, buffers, strands, ACK).
class counting_target final : public sync_target {
  public:
    std::string type_name() const override { return "bench.counting"; }
    awaitable<void> on_init(const table_identifier&, schema_ptr) override { co_return; }
    awaitable<void> on_baseline_rows(const table_identifier&, std::span<const row>) override {
        co_return;
    }
    awaitable<void> on_baseline_complete(const table_identifier&, const position&) override {
        co_return;
    }
    awaitable<void> on_changes(const table_identifier&,
                               std::span<const change_event> changes) override {
        count_ += changes.size();
        co_return;
    }
    awaitable<void> on_insert(const table_identifier&, const change_event&) override { co_return; }
    awaitable<void> on_update(const table_identifier&, const change_event&) override { co_return; }
    awaitable<void> on_delete(const table_identifier&, const change_event&) override { co_return; }
    awaitable<void> on_truncate(const table_identifier&, const change_event&) override {
        co_return;
    }

  private:
    std::size_t count_ = 0;
};

// The row shape of ../shared/bench/pg_limits.sh: bigint, text, float8, ~100-byte text,
// timestamptz (about 160 raw bytes).
std::vector<column_definition> bench_columns() {
    return {
        {.name = "id",
         .type = "int8",
         .nullable = false,
         .primary_key = true,
         .ordinal_position = 1,
         .primary_key_ordinal = 1},
        {.name = "name", .type = "text", .ordinal_position = 2},
        {.name = "score", .type = "float8", .ordinal_position = 3},
        {.name = "payload", .type = "text", .ordinal_position = 4},
        {.name = "updated_at", .type = "timestamptz", .ordinal_position = 5},
    };
}

std::vector<change_event> make_events(const schema_ptr& schema, std::size_t count,
                                      std::size_t keys) {
    std::vector<change_event> events;
    events.reserve(count);
    const std::string payload(100, 'x');
    for (std::size_t i = 0; i < count; ++i) {
        change_event e;
        e.table = bench_table;
        // First pass over the keys inserts, later passes update.
        e.action = i < keys ? change_action::insert : change_action::update;
        const auto id = static_cast<std::int64_t>(i % keys);
        std::vector<value> values{
            value(id), value("name-" + std::to_string(id)), value(static_cast<double>(i) * 0.5),
            value(payload),
            value(timestamptz_value{1'700'000'000'000'000LL + static_cast<std::int64_t>(i)})};
        e.new_values = row(schema, std::move(values));
        events.push_back(std::move(e));
    }
    return events;
}

struct result {
    double seconds = 0;
    std::size_t events = 0;
};

result run_once(std::size_t pipelines, std::size_t count, std::size_t keys, bool counting) {
    boost::asio::io_context ctx(1);
    test_source_options options;
    options.batch_size = 256;
    auto src = std::make_shared<test_source>(ctx.get_executor(), options);
    const auto schema = src->set_schema(bench_table, bench_columns());
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
            const auto last = src->emit(std::move(events));
            boost::asio::steady_timer poll(ctx);
            while (src->last_acked() != last) {
                poll.expires_after(std::chrono::microseconds(200));
                co_await poll.async_wait(use_awaitable);
            }
            out.seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            co_await eng.async_stop(use_awaitable);
        },
        [](std::exception_ptr e) {
            if (e) std::rethrow_exception(e);
        });
    ctx.run();
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    const std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 500'000;
    const std::size_t keys = count / 2;  // half inserts, half updates
    fmt::print("engine throughput: testsource -> N pipelines -> indexed memory target, 1 thread\n");
    fmt::print("{} events per run ({} inserts, {} updates), batches of 256\n\n", count, keys,
               count - keys);
    for (const bool counting : {false, true}) {
        fmt::print("{}\n", counting ? "engine alone (a target that only counts):"
                                    : "into indexed memory targets:");
        fmt::print("{:>9} | {:>22} | {:>24}\n", "pipelines", "events/s per pipeline",
                   "applied events/s total");
        for (std::size_t n : {1u, 4u, 16u}) {
            const std::size_t div = n >= 16 ? 4 : 1;
            const auto r = run_once(n, count / div, keys / div, counting);
            const double per_pipeline = static_cast<double>(r.events) / r.seconds;
            fmt::print("{:>9} | {:>22.0f} | {:>24.0f}\n", n, per_pipeline,
                       per_pipeline * static_cast<double>(n));
        }
        fmt::print("\n");
    }
}
