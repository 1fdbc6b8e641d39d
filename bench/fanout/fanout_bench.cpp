// Replication fan-out: journal entries/s delivered to 1, 10 and 100 replica clients on
// loopback, and the memory each client costs.
//
// Each round runs in a process of its own (so its memory starts clean) that serves a fan-out
// target on one io_context thread and forks a second process holding the replica clients on
// one io_context thread of their own. The target gets a baseline, the clients connect and
// load it, then the round applies `entries` changes to the target (updates, inserts and
// deletes of the bench row shape, transactions of 16, on_changes calls of 256, as the engine
// hands them over) and stops the clock when every client has applied the last one. Clients
// that fall behind are held (slow_down policy, queues of 8 MiB), not disconnected, so the
// figure is the sustained fan-out rate. Memory: the server's RSS growth once the clients are
// connected and in sync, per client; the client process's RSS growth per client (a replica
// holds its own copy of the table); the largest total of the server's queues seen during the
// stream, per client.

#include "bench_rows.hpp"
#include "process_tools.hpp"
#include "replica_process.hpp"

#include "laredo/change_event.hpp"
#include "laredo/targets/fanout/fanout_target.hpp"
#include "laredo/targets/fanout/replication_listener.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace laredo;
using laredo::bench::bench_row;
using laredo::bench::bench_schema;
using laredo::bench::bench_table;
using laredo::bench::line_pipe;
using laredo::bench::rss_bytes;
using targets::fanout::fanout_target;
using targets::fanout::fanout_target_options;
using targets::fanout::replication_listener;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t transaction_size = 16;
constexpr std::size_t call_size = 256;

// `count` changes over a table of `rows` rows (ids 0..rows-1): 70% updates, 15% inserts of
// new ids, 15% deletes, at positions 2, 3... (the baseline is at 1).
std::vector<change_event> make_changes(std::size_t count, std::size_t rows) {
    std::mt19937_64 random(7);
    std::vector<std::int64_t> live(rows);
    for (std::size_t i = 0; i < rows; ++i) live[i] = static_cast<std::int64_t>(i);
    auto next_id = static_cast<std::int64_t>(rows);
    std::vector<change_event> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        change_event e;
        e.table = bench_table;
        e.pos = position::from_sequence(i + 2);
        e.timestamp = std::chrono::system_clock::now();
        e.ends_transaction = (i + 1) % transaction_size == 0 || i + 1 == count;
        const auto dice = random() % 100;
        const auto slot = static_cast<std::size_t>(random() % live.size());
        if (dice < 15 || live.size() < 2) {
            e.action = change_action::insert;
            e.new_values = bench_row(next_id);
            live.push_back(next_id++);
        } else if (dice < 30) {
            e.action = change_action::delete_;
            e.old_values = bench_row(live[slot]);
            live[slot] = live.back();
            live.pop_back();
        } else {
            e.action = change_action::update;
            e.new_values = bench_row(live[slot], static_cast<std::int64_t>(i + 1));
        }
        out.push_back(std::move(e));
    }
    return out;
}

boost::asio::awaitable<void> load_baseline(fanout_target& target, std::size_t rows) {
    co_await target.on_init(bench_table, bench_schema());
    std::vector<row> all;
    all.reserve(rows);
    for (std::size_t i = 0; i < rows; ++i) all.push_back(bench_row(static_cast<std::int64_t>(i)));
    co_await target.on_baseline_rows(bench_table, all);
    co_await target.on_baseline_complete(bench_table, position::from_sequence(1));
}

// As the engine would: a call per 256 changes, letting the sessions run between calls.
boost::asio::awaitable<void> apply(fanout_target& target, const std::vector<change_event>& all) {
    for (std::size_t at = 0; at < all.size(); at += call_size) {
        const auto n = std::min(call_size, all.size() - at);
        co_await target.on_changes(bench_table, std::span(all).subspan(at, n));
        co_await boost::asio::post(co_await boost::asio::this_coro::executor,
                                   boost::asio::use_awaitable);
    }
}

std::size_t queued_bytes(const fanout_target& target) {
    std::size_t total = 0;
    for (const auto& c : target.clients()) total += c.queue_bytes;
    return total;
}

// What a round measured, sent back to the parent as one line of numbers.
struct round_result {
    double clients = 0;
    double entries = 0;
    double seconds = 0;             // first entry applied -> every client has the last
    double server_cpu = 0;          // CPU seconds of the server process meanwhile
    double client_cpu = 0;          // and of the clients' process
    double server_connected = 0;    // server RSS growth with the clients connected, bytes
    double replicas_connected = 0;  // client process RSS growth once they are loaded, bytes
    double peak_queued = 0;         // the most bytes in all the server's queues at once

    std::string to_line() const {
        return fmt::format("{} {} {} {} {} {} {} {}", clients, entries, seconds, server_cpu,
                           client_cpu, server_connected, replicas_connected, peak_queued);
    }
    static round_result from_line(const std::string& line) {
        round_result r;
        std::istringstream in(line);
        in >> r.clients >> r.entries >> r.seconds >> r.server_cpu >> r.client_cpu >>
            r.server_connected >> r.replicas_connected >> r.peak_queued;
        return r;
    }
};

// One round: the server here, the clients in a child process.
round_result run_round(std::size_t clients, std::size_t entries, std::size_t rows) {
    int down[2];
    int up[2];
    if (::pipe(down) != 0 || ::pipe(up) != 0) throw std::runtime_error("pipe failed");
    const pid_t replicas = ::fork();
    if (replicas < 0) throw std::runtime_error("fork failed");
    if (replicas == 0) {
        ::close(down[1]);
        ::close(up[0]);
        line_pipe from_server(down[0]);
        line_pipe to_server(up[1]);
        std::_Exit(laredo::bench::run_replica_process(from_server, to_server, clients));
    }
    ::close(down[0]);
    ::close(up[1]);
    line_pipe to_replicas(down[1]);
    line_pipe from_replicas(up[0]);

    const auto changes = make_changes(entries, rows);
    boost::asio::io_context ctx(1);
    auto work = boost::asio::make_work_guard(ctx);
    std::thread io([&] { ctx.run(); });

    fanout_target_options o;
    o.journal.max_entries = entries + 1;
    o.journal.max_bytes = std::size_t{8} << 30;
    o.clients.policy = targets::fanout::slow_client_policy::slow_down;
    o.clients.max_lag_entries = entries + 1;
    auto target = std::make_shared<fanout_target>(ctx.get_executor(), o);
    replication_listener listener(ctx.get_executor());
    listener.add(bench_table, target);
    listener.start();
    boost::asio::co_spawn(ctx, load_baseline(*target, rows), boost::asio::use_future).get();
    // The snapshot full syncs start from, taken now: it is the table's, not the clients'.
    target->take_snapshot();

    round_result r;
    r.clients = static_cast<double>(clients);
    r.entries = static_cast<double>(entries);
    const auto server_before = rss_bytes();
    to_replicas.write_line(listener.url(bench_table));
    std::istringstream ready(from_replicas.read_line());
    std::string word;
    std::size_t replicas_before = 0;
    std::size_t replicas_ready = 0;
    ready >> word >> replicas_before >> replicas_ready;
    const auto server_connected = rss_bytes();
    const auto growth = [](std::size_t after, std::size_t before) {
        return after > before ? static_cast<double>(after - before) : 0.0;
    };
    r.server_connected = growth(server_connected, server_before);
    r.replicas_connected = growth(replicas_ready, replicas_before);

    // The stream; a sampler watches the queues meanwhile.
    std::atomic<bool> streaming{true};
    std::size_t peak_queued = 0;
    std::thread sampler([&] {
        while (streaming) {
            peak_queued = std::max(peak_queued, queued_bytes(*target));
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
    const auto cpu_before = laredo::bench::cpu_seconds();
    const auto started = clock_type::now();
    to_replicas.write_line(fmt::format("until {}", entries + 1));
    auto applied = boost::asio::co_spawn(ctx, apply(*target, changes), boost::asio::use_future);
    std::istringstream done(from_replicas.read_line());
    r.seconds = std::chrono::duration<double>(clock_type::now() - started).count();
    r.server_cpu = laredo::bench::cpu_seconds() - cpu_before;
    applied.get();
    streaming = false;
    sampler.join();
    r.peak_queued = static_cast<double>(peak_queued);
    std::size_t replicas_after = 0;
    done >> word >> replicas_after >> r.client_cpu;

    to_replicas.write_line("quit");
    int status = 0;
    ::waitpid(replicas, &status, 0);
    listener.stop();
    work.reset();
    io.join();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("the clients' process failed");
    return r;
}

std::size_t env_or(const char* name, std::size_t fallback) {
    const char* text = std::getenv(name);
    return text ? static_cast<std::size_t>(std::stoull(text)) : fallback;
}

// Runs the round in a process of its own (so each starts with a clean heap) and reads back
// what it measured.
round_result run_round_apart(std::size_t clients, std::size_t entries, std::size_t rows) {
    int back[2];
    if (::pipe(back) != 0) throw std::runtime_error("pipe failed");
    std::fflush(stdout);
    const pid_t round = ::fork();
    if (round < 0) throw std::runtime_error("fork failed");
    if (round == 0) {
        ::close(back[0]);
        line_pipe to_parent(back[1]);
        try {
            to_parent.write_line(run_round(clients, entries, rows).to_line());
            std::_Exit(0);
        } catch (const std::exception& e) {
            fmt::print(stderr, "the round with {} clients failed: {}\n", clients, e.what());
            std::_Exit(1);
        }
    }
    ::close(back[1]);
    line_pipe from_round(back[0]);
    const auto line = from_round.read_line();
    int status = 0;
    ::waitpid(round, &status, 0);
    return round_result::from_line(line);
}

}  // namespace

int main() {
    const auto entries = env_or("ENTRIES", 50'000);
    const auto rows = env_or("ROWS", 10'000);
    std::vector<std::size_t> counts = {1, 10, 100};
    if (const char* text = std::getenv("CLIENTS")) {
        counts.clear();
        std::istringstream list(text);
        for (std::string item; std::getline(list, item, ',');) counts.push_back(std::stoull(item));
    }
    fmt::print(
        "fan-out: {} entries (70% updates, 15% inserts, 15% deletes; transactions of {}) over a "
        "table of {} rows of the bench shape; server and clients one io_context thread each, "
        "in two processes, on loopback\n\n",
        entries, transaction_size, rows);
    std::vector<round_result> results;
    for (const auto clients : counts) {
        try {
            results.push_back(run_round_apart(clients, entries, rows));
        } catch (const std::exception& e) {
            fmt::print(stderr, "{} clients: {}\n", clients, e.what());
            return 1;
        }
    }
    fmt::print("{:>7} | {:>11} | {:>13} | {:>26} | {:>26}\n", "clients", "entries/s", "delivered/s",
               "server CPU us per delivery", "client CPU us per delivery");
    for (const auto& r : results) {
        const auto delivered = r.entries * r.clients;
        fmt::print("{:>7} | {:>11.0f} | {:>13.0f} | {:>26.2f} | {:>26.2f}\n", r.clients,
                   r.entries / r.seconds, delivered / r.seconds, r.server_cpu * 1e6 / delivered,
                   r.client_cpu * 1e6 / delivered);
    }
    fmt::print("\n{:>7} | {:>24} | {:>25} | {:>24}\n", "clients", "server KiB per client",
               "replica KiB per client", "peak queue KiB per client");
    for (const auto& r : results) {
        fmt::print("{:>7} | {:>24.1f} | {:>25.1f} | {:>24.1f}\n", r.clients,
                   r.server_connected / r.clients / 1024.0,
                   r.replicas_connected / r.clients / 1024.0, r.peak_queued / r.clients / 1024.0);
    }
    fmt::print(
        "\nserver KiB per client: the server's RSS growth once the clients are connected and "
        "loaded (after malloc_trim); replica: the clients' process, table copy included; peak "
        "queue: the most bytes waiting in all the server's queues at one time (limit {} KiB "
        "each)\n",
        targets::fanout::client_options{}.queue_bytes / 1024);
    return 0;
}
