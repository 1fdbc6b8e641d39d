// The in-process side of the server's lookup benchmark: what GET /v1/tables/{t}/rows/{id}
// does without HTTP (find the row by key in an indexed memory target and encode it as JSON),
// on the rows bench/server/server_bench.sh serves. Compare its rate with wrk's against the
// server on loopback to see what HTTP costs.

#include "laredo/json/values.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>

#include <random>

namespace {

using namespace laredo;

constexpr std::int64_t row_count = 100'000;

std::shared_ptr<targets::memory::indexed_target> make_table() {
    auto schema = row_schema::make({{"id", "int8", 20, false, true, 1, 1},
                                    {"name", "text", 25, true, false, 2, 0},
                                    {"email", "text", 25, true, false, 3, 0},
                                    {"city", "text", 25, true, false, 4, 0}});
    auto target = std::make_shared<targets::memory::indexed_target>();
    std::vector<row> rows;
    rows.reserve(row_count);
    for (std::int64_t i = 1; i <= row_count; ++i)
        rows.emplace_back(schema,
                          std::vector<value>{value(i), value("user" + std::to_string(i)),
                                             value("u" + std::to_string(i) + "@example.com"),
                                             value(i % 2 ? "oslo" : "berlin")});
    boost::asio::io_context ioc;
    const table_identifier table("public", "users");
    auto load = [&]() -> boost::asio::awaitable<void> {
        co_await target->on_init(table, schema);
        co_await target->on_baseline_rows(table, rows);
        co_await target->on_baseline_complete(table, position::from_sequence(1));
    };
    auto done = boost::asio::co_spawn(ioc, load(), boost::asio::use_future);
    ioc.run();
    done.get();
    return target;
}

void lookup_by_key_as_json(benchmark::State& state) {
    static const auto target = make_table();
    std::mt19937_64 random(42);
    std::uniform_int_distribution<std::int64_t> id(1, row_count);
    std::size_t bytes = 0;
    for (auto _ : state) {
        auto r = target->get(std::vector<value>{value(id(random))});
        auto text = boost::json::serialize(json::encode_row(*r));
        bytes += text.size();
        benchmark::DoNotOptimize(text);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["bytes_per_row"] =
        static_cast<double>(bytes) / static_cast<double>(state.iterations());
}
BENCHMARK(lookup_by_key_as_json);

}  // namespace

BENCHMARK_MAIN();
