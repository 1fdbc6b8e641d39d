#include "replica_process.hpp"

#include "laredo/replica/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace laredo::bench {

namespace {

using clients_t = std::vector<std::shared_ptr<replica::client>>;

// Polls (the clients' reads are safe from any thread) until `done` holds for every client.
template <class Predicate>
void wait_for_all(const clients_t& clients, Predicate done) {
    while (!std::all_of(clients.begin(), clients.end(), [&](const auto& c) { return done(*c); }))
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

}  // namespace

int run_replica_process(line_pipe& from_server, line_pipe& to_server, std::size_t count) {
    const auto url = from_server.read_line();
    const auto rss_before = rss_bytes();

    boost::asio::io_context ctx(1);
    auto work = boost::asio::make_work_guard(ctx);
    std::thread io([&] { ctx.run(); });

    clients_t clients;
    std::vector<boost::asio::strand<boost::asio::io_context::executor_type>> strands;
    for (std::size_t i = 0; i < count; ++i) {
        replica::client_options o;
        o.servers = {url};
        o.client_id = fmt::format("bench-{}", i);
        // A loaded machine must not make a busy client look silent.
        o.heartbeat_timeout = std::chrono::minutes(5);
        strands.push_back(boost::asio::make_strand(ctx));
        clients.push_back(std::make_shared<replica::client>(strands.back(), o));
        clients.back()->start();
    }
    wait_for_all(clients, [](const replica::client& c) { return c.ready(); });
    to_server.write_line(fmt::format("ready {} {}", rss_before, rss_bytes()));

    for (;;) {
        const auto command = from_server.read_line();
        if (command == "quit") break;
        const auto sequence = std::stoull(command.substr(command.find(' ') + 1));
        const auto cpu_before = cpu_seconds();
        wait_for_all(clients, [&](const replica::client& c) {
            const auto pos = c.status().pos;
            return !pos.empty() && pos.sequence() >= sequence;
        });
        to_server.write_line(fmt::format("done {} {}", rss_bytes(), cpu_seconds() - cpu_before));
    }

    for (std::size_t i = 0; i < count; ++i)
        boost::asio::co_spawn(strands[i], clients[i]->stop(), boost::asio::use_future).get();
    clients.clear();
    work.reset();
    io.join();
    return 0;
}

}  // namespace laredo::bench
