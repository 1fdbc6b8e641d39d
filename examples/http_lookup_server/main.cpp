// laredo-http-lookup DIR [PORT]: the CSV example source reading DIR (one `schema.table.csv`
// per table), an indexed memory target per table, and the HTTP lookup server in front of
// them. Stops gracefully (server first, then the engine's drain) on SIGINT or SIGTERM.

#include "csv_source.hpp"
#include "lookup_server.hpp"

#include "laredo/engine.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <charconv>
#include <csignal>
#include <filesystem>
#include <string>

namespace {

using namespace laredo;
namespace fs = std::filesystem;

// The tables of DIR: every `schema.table.csv` file.
std::vector<table_identifier> find_tables(const fs::path& dir) {
    std::vector<table_identifier> tables;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (!entry.is_regular_file() || entry.path().extension() != ".csv") continue;
        try {
            tables.push_back(table_identifier::parse(entry.path().stem().string()));
        } catch (const error&) {
            fmt::print(stderr, "skipping {}: not named schema.table.csv\n", entry.path().string());
        }
    }
    return tables;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        fmt::print(stderr, "usage: {} DIR [PORT]\n", argv[0]);
        return 2;
    }
    const fs::path dir = argv[1];
    std::uint16_t port = 8080;
    if (argc == 3) {
        const std::string_view text = argv[2];
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
        if (ec != std::errc{} || end != text.data() + text.size()) {
            fmt::print(stderr, "bad port '{}'\n", text);
            return 2;
        }
    }

    try {
        const auto tables = find_tables(dir);
        if (tables.empty()) {
            fmt::print(stderr, "no schema.table.csv files in {}\n", dir.string());
            return 1;
        }
        boost::asio::io_context ctx;
        auto source = std::make_shared<examples::csv_source>(ctx.get_executor(), dir);
        engine::builder b;
        b.add_source("csv", source);
        for (const auto& t : tables)
            b.add_pipeline("csv", t, std::make_shared<targets::memory::indexed_target>());
        auto eng = b.build(ctx.get_executor());

        examples::lookup_server_options options;
        options.listen.port(port);
        examples::lookup_server server(ctx.get_executor(), eng, options);
        server.start();

        int exit_code = 0;
        boost::asio::signal_set signals(ctx, SIGINT, SIGTERM);
        auto run = [&]() -> boost::asio::awaitable<void> {
            co_await eng.async_start(boost::asio::use_awaitable);
            fmt::print("serving {} table(s) from {} at http://127.0.0.1:{}/v1/tables\n",
                       tables.size(), dir.string(), server.local_port());
            std::fflush(stdout);
            co_await signals.async_wait(boost::asio::use_awaitable);
            fmt::print("stopping\n");
            server.stop();
            co_await eng.async_stop(boost::asio::use_awaitable);
        };
        auto done = [&](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                fmt::print(stderr, "laredo-http-lookup failed: {}\n", ex.what());
            }
            exit_code = 1;
            server.stop();
            signals.cancel();
        };
        boost::asio::co_spawn(ctx, run(), done);
        ctx.run();
        return exit_code;
    } catch (const std::exception& e) {
        fmt::print(stderr, "laredo-http-lookup: {}\n", e.what());
        return 1;
    }
}
