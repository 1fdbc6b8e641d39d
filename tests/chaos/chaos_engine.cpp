// The engine process of the chaos test (chaos_test.cpp): the PostgreSQL source with a stateful
// slot streams the given tables into indexed memory targets, with a local snapshot store so a
// restart after kill -9 can restore instead of baselining.
//
//   chaos_engine CONNINFO SLOT SNAPSHOT_DIR DUMP_DIR schema.table...
//
// Prints "ready" on stdout once every pipeline streams. On SIGUSR1 it writes each target's
// contents (contents.hpp, one "key\trow" line each, in key order) to DUMP_DIR/<schema.table>
// and then DUMP_DIR/done-<n> for the n-th request. SIGTERM or SIGINT stop it gracefully (exit
// 0); anything that goes wrong (a pipeline in ERROR for 10 s among it) exits non-zero with the
// reason on stderr.

#include "contents.hpp"

#include "laredo/engine.hpp"
#include "laredo/snapshot/local_store.hpp"
#include "laredo/sources/postgres/postgres_source.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace pg = laredo::sources::postgres;
using laredo::targets::memory::indexed_target;
using namespace std::chrono_literals;

void write_dump(const std::filesystem::path& dir, const laredo::table_identifier& table,
                const indexed_target& target) {
    const auto file = dir / table.to_string();
    const auto tmp = dir / (table.to_string() + ".tmp");
    {
        std::ofstream out(tmp, std::ios::trunc);
        for (const auto& [key, row] : pg::testing::target_contents(target))
            out << key << '\t' << row << '\n';
        if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    std::filesystem::rename(tmp, file);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 6) {
        std::cerr << "usage: chaos_engine CONNINFO SLOT SNAPSHOT_DIR DUMP_DIR schema.table...\n";
        return 2;
    }
    try {
        const std::filesystem::path dump_dir = argv[4];
        pg::source_options options;
        options.connection = pg::connection_params::from_conninfo(argv[1]);
        options.connection.application_name = "laredo:chaos";
        options.slot_name = argv[2];
        options.mode = pg::slot_mode::stateful;
        options.status_interval = 1s;
        options.health_interval = 2s;
        options.reconnect.initial_backoff = 200ms;
        options.reconnect.max_backoff = 2s;
        options.reconnect.max_attempts = 1000;

        asio::io_context ctx;
        auto source = std::make_shared<pg::postgres_source>(ctx.get_executor(), options);
        laredo::engine_options engine_options;
        engine_options.snapshots =
            std::make_shared<laredo::snapshots::local_store>(std::filesystem::path(argv[3]));
        engine_options.snapshot_interval = 3s;
        engine_options.snapshot_retention = 2;
        engine_options.source_retry.attempts = 1000;
        engine_options.source_retry.initial = 200ms;
        engine_options.source_retry.max = 2s;
        engine_options.shutdown_timeout = 20s;

        std::vector<std::pair<laredo::table_identifier, std::shared_ptr<indexed_target>>> targets;
        auto builder = laredo::engine::builder();
        builder.add_source("pg", source).with_options(engine_options);
        for (int i = 5; i < argc; ++i) {
            auto table = laredo::table_identifier::parse(argv[i]);
            auto target = std::make_shared<indexed_target>();
            builder.add_pipeline("pg", table, target);
            targets.emplace_back(std::move(table), std::move(target));
        }
        auto engine = builder.build(ctx.get_executor());

        std::atomic<int> dumps{0};
        std::atomic<bool> stop{false};
        asio::signal_set signals(ctx, SIGUSR1, SIGTERM, SIGINT);
        std::function<void(const boost::system::error_code&, int)> on_signal =
            [&](const boost::system::error_code& ec, int signo) {
                if (ec) return;
                if (signo == SIGUSR1) {
                    // Written from a thread of its own: reads take the targets' shared locks.
                    std::thread([&, n = ++dumps] {
                        for (const auto& [table, target] : targets)
                            write_dump(dump_dir, table, *target);
                        std::ofstream(dump_dir / ("done-" + std::to_string(n))) << "done\n";
                    }).detach();
                    signals.async_wait(on_signal);
                } else {
                    stop = true;
                }
            };
        signals.async_wait(on_signal);

        std::vector<std::thread> threads;
        for (int i = 0; i < 2; ++i) threads.emplace_back([&] { ctx.run(); });
        engine.async_start(asio::use_future).get();
        while (!stop && !engine.await_ready(200ms)) {
        }
        if (!stop) std::cout << "ready" << std::endl;
        // A pipeline that stays in ERROR will not catch up: say why and end, so the test
        // reports the reason instead of waiting for targets that cannot converge.
        auto failing_since = std::chrono::steady_clock::time_point::max();
        while (!stop) {
            std::this_thread::sleep_for(50ms);
            std::string failed;
            for (const auto& p : engine.pipelines())
                if (p.state == laredo::pipeline_state::error)
                    failed = p.table.to_string() + ": " + p.last_error;
            if (failed.empty()) {
                failing_since = std::chrono::steady_clock::time_point::max();
            } else if (failing_since == std::chrono::steady_clock::time_point::max()) {
                failing_since = std::chrono::steady_clock::now();
            } else if (std::chrono::steady_clock::now() - failing_since > 10s) {
                std::cerr << "chaos_engine: a pipeline stays in ERROR: " << failed << std::endl;
                std::_Exit(3);
            }
        }
        signals.cancel();
        engine.async_stop(asio::use_future).get();
        for (auto& t : threads) t.join();
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "chaos_engine: " << e.what() << std::endl;
        return 1;
    }
}
