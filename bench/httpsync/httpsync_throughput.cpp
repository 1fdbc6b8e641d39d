// HTTP sync throughput: testsource -> one pipeline -> the HTTP sync target -> an endpoint on
// loopback that answers 200 at once (instant_endpoint), with batches of 1, 100 and 1000
// changes; beside it the same stream into a target that applies nothing (the engine alone),
// runs alternating so both see the same machine. One io_context thread runs the engine; the
// endpoint has threads of its own. The clock stops when the source has been ACKed the last
// position, i.e. when the endpoint has answered every batch (the target's confirmed position).

#include "bench_events.hpp"
#include "bench_rows.hpp"
#include "instant_endpoint.hpp"

#include "laredo/engine.hpp"
#include "laredo/sources/testsource/test_source.hpp"
#include "laredo/targets/httpsync/http_sync_target.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace laredo;
using boost::asio::awaitable;
using boost::asio::use_awaitable;
using laredo::bench::bench_table;
using sources::testsource::test_source;
using sources::testsource::test_source_options;
using targets::httpsync::http_sync_options;
using targets::httpsync::http_sync_target;

struct result {
    double changes_per_second = 0;
    double requests_per_second = 0;
    double body_bytes_per_change = 0;
};

// batch_size 0: the counting target (the engine alone).
result run_once(const std::string& url, std::size_t batch_size, std::size_t count) {
    boost::asio::io_context ctx(1);
    test_source_options options;
    options.batch_size = 256;
    auto src = std::make_shared<test_source>(ctx.get_executor(), options);
    const auto schema = src->set_schema(bench_table, laredo::bench::bench_columns());
    std::shared_ptr<http_sync_target> http;
    std::shared_ptr<sync_target> target;
    if (batch_size == 0) {
        target = std::make_shared<laredo::bench::counting_target>();
    } else {
        http_sync_options o;
        o.base_url = url;
        o.batch_size = batch_size;
        // The last, partial batch should not wait long for the clock to stop.
        o.flush_interval = std::chrono::milliseconds(5);
        http = std::make_shared<http_sync_target>(std::move(o));
        target = http;
    }
    auto builder = engine::builder();
    builder.add_source("bench", src);
    pipeline_options p;
    p.id = "bench";
    builder.add_pipeline("bench", bench_table, target, p);
    auto eng = builder.build(ctx.get_executor());
    auto events = laredo::bench::make_events(schema, count, count / 2);
    double seconds = 0;
    auto body = [&]() -> awaitable<void> {
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        const auto started = std::chrono::steady_clock::now();
        const auto last = src->emit(std::move(events));
        boost::asio::steady_timer poll(ctx);
        // A target that is not durable is ACKed on the next event after its answer: a
        // heartbeat carries it.
        while (src->last_acked() != last) {
            src->heartbeat();
            poll.expires_after(std::chrono::microseconds(500));
            co_await poll.async_wait(use_awaitable);
        }
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        co_await eng.async_stop(use_awaitable);
    };
    boost::asio::co_spawn(ctx, body, [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    ctx.run();

    result out;
    out.changes_per_second = static_cast<double>(count) / seconds;
    if (http) {
        const auto m = http->metrics();
        if (m.rows_sent < count || m.failures != 0) {
            throw std::runtime_error(fmt::format("{} of {} changes delivered, {} failures",
                                                 m.rows_sent, count, m.failures));
        }
        // The baseline (empty table) costs two requests: start and complete.
        out.requests_per_second = static_cast<double>(m.batches_sent) / seconds;
        out.body_bytes_per_change = static_cast<double>(m.bytes_sent) / static_cast<double>(count);
    }
    return out;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

// Usage: httpsync_throughput_bench [changes per run (500000)] [repetitions (5)]
// Batches of one change run a tenth of the changes (one request each).
int main(int argc, char** argv) {
    const std::size_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 500'000;
    const std::size_t repetitions = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 5;
    if (count < 1'000 || repetitions == 0) {
        fmt::print(stderr, "usage: {} [changes >= 1000] [repetitions >= 1]\n", argv[0]);
        return 2;
    }
    laredo::bench::instant_endpoint endpoint;
    fmt::print(
        "HTTP sync throughput: testsource -> 1 pipeline -> http-sync -> an endpoint on loopback "
        "answering 200 at once\n{} changes per run ({} inserts, then updates; bench row shape), "
        "source batches of 256, 1 io_context thread; medians of {} runs, alternating with the "
        "engine alone\n\n",
        count, count / 2, repetitions);
    fmt::print("{:>10} | {:>14} | {:>14} | {:>12} | {:>14}\n", "batch_size", "changes/s",
               "engine alone", "requests/s", "JSON B/change");
    for (std::size_t batch_size : {1u, 100u, 1000u}) {
        const std::size_t n = batch_size == 1 ? count / 10 : count;
        std::vector<double> rate, engine_alone, requests, bytes;
        for (std::size_t i = 0; i < repetitions; ++i) {
            const auto r = run_once(endpoint.url(), batch_size, n);
            rate.push_back(r.changes_per_second);
            requests.push_back(r.requests_per_second);
            bytes.push_back(r.body_bytes_per_change);
            engine_alone.push_back(run_once(endpoint.url(), 0, n).changes_per_second);
        }
        fmt::print("{:>10} | {:>14.0f} | {:>14.0f} | {:>12.0f} | {:>14.0f}\n", batch_size,
                   median(rate), median(engine_alone), median(requests), median(bytes));
    }
    fmt::print("\n{} requests answered by the endpoint in all\n", endpoint.requests());
}
