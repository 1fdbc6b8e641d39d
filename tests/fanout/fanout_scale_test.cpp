// Scale, bounded: 200 replica clients on one table, served by one replication listener on
// loopback, while an engine (test source -> fan-out target) applies a stream of inserts,
// updates and deletes in transactions for a few seconds. Every client must end with the table.
//
// The stream aims at 5 000 changes/s but is paced by the slowest client: the producer holds
// back while any client is more than max_lag changes behind, so a slow build (the suite runs
// under AddressSanitizer) or a busy machine lowers the rate instead of the client count or
// the checks. The rate reached is printed; no assertion is made on it (speed is bench/fanout's).
#include "net_support.hpp"

#include "laredo/engine.hpp"
#include "laredo/sources/testsource/test_source.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>

namespace laredo::fanout_test {
namespace {

using namespace std::chrono_literals;
using sources::testsource::test_source;
using testing::run_async;
using testing::sleep_for;

constexpr std::size_t client_count = 200;
constexpr std::size_t baseline_rows = 200;
constexpr double target_rate = 5'000;  // changes per second
constexpr std::size_t changes_per_transaction = 10;
constexpr auto stream_duration = 3s;
// The producer holds back while the slowest client is more than this many changes behind
// (a twentieth of a second at the aim): what is left to deliver at the end stays small.
constexpr std::uint64_t max_lag = 250;
// How often changes are made and the clients' positions looked at (200 status reads).
constexpr auto tick = 20ms;

// Each client holds two sockets' worth of descriptors in this process (its own and the
// server's end): raise the soft limit to the hard one when the default is too small.
void ensure_descriptors(rlim_t needed) {
    rlimit limit{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
    if (limit.rlim_cur >= needed) return;
    limit.rlim_cur = std::min(needed, limit.rlim_max);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
    ASSERT_GE(limit.rlim_cur, needed) << "the hard limit of open files is too low";
}

// The table as the test made it, in key order, and the changes that keep it moving.
class table_model {
  public:
    explicit table_model(test_source& source) : source_(source) {}

    void add_baseline(std::size_t rows) {
        for (std::size_t i = 0; i < rows; ++i) {
            const auto id = next_id_++;
            auto r = make(id);
            source_.add_row(accounts, r);
            put(id, std::move(r));
        }
    }

    // One transaction of `count` random inserts, updates and deletes; returns its position.
    position commit_random(std::size_t count) {
        test_source::transaction tx;
        for (std::size_t i = 0; i < count; ++i) {
            const auto dice = std::uniform_int_distribution<int>(0, 9)(random_);
            // Inserts and deletes balance, so the table stays near its baseline size.
            if (live_.empty() || dice < 3) {
                const auto id = next_id_++;
                auto r = make(id);
                tx.insert(accounts, r);
                put(id, std::move(r));
            } else if (dice < 7) {
                const auto id = pick();
                auto r = make(id);
                tx.update(accounts, r);
                rows_[id] = std::move(r);
            } else {
                const auto id = pick();
                tx.remove(accounts, account("t", id, value()));
                erase(id);
            }
        }
        return source_.commit(std::move(tx));
    }

    std::vector<row> all() const {
        std::vector<row> out;
        out.reserve(rows_.size());
        for (const auto& [id, r] : rows_) out.push_back(r);
        return out;
    }

  private:
    row make(std::int64_t id) {
        ++version_;
        return account("t", id, value(version_ % 3 ? "eu" : "us"),
                       value("v" + std::to_string(version_)),
                       version_ % 5 ? value() : value(std::string(64, 'n')));
    }
    std::int64_t pick() {
        return live_[std::uniform_int_distribution<std::size_t>(0, live_.size() - 1)(random_)];
    }
    void put(std::int64_t id, row r) {
        rows_[id] = std::move(r);
        live_.push_back(id);
    }
    void erase(std::int64_t id) {
        rows_.erase(id);
        const auto it = std::find(live_.begin(), live_.end(), id);
        *it = live_.back();
        live_.pop_back();
    }

    test_source& source_;
    std::map<std::int64_t, row> rows_;
    std::vector<std::int64_t> live_;
    std::int64_t next_id_ = 1;
    std::uint64_t version_ = 0;
    std::mt19937_64 random_{21};
};

using replicas = std::vector<std::shared_ptr<replica::client>>;

// How many changes the slowest client is behind `head` (every client has applied at least
// its snapshot, so each has a sequence position).
std::uint64_t slowest_lag(const replicas& clients, std::uint64_t head) {
    std::uint64_t lag = 0;
    for (const auto& c : clients) {
        const auto pos = c->status().pos;
        const auto at = pos.empty() ? 0 : pos.sequence();
        lag = std::max(lag, head > at ? head - at : 0);
    }
    return lag;
}

TEST(fanout_scale, two_hundred_clients_under_a_stream_of_changes_end_equal_to_the_table) {
    ensure_descriptors(4 * client_count + 256);
    run_async(2, 240s, [](asio::io_context& ctx) -> awaitable<void> {
        auto upstream = std::make_shared<test_source>(ctx.get_executor());
        upstream->set_schema(accounts, accounts_schema()->columns());
        table_model table(*upstream);
        table.add_baseline(baseline_rows);

        auto fan = std::make_shared<fanout_target>(ctx.get_executor());
        replication_listener listener(ctx.get_executor());
        listener.add(accounts, fan);
        listener.start();
        auto engine = engine::builder()
                          .add_source("upstream", upstream)
                          .add_pipeline("upstream", accounts, fan)
                          .build(ctx.get_executor());
        co_await engine.async_start(use_awaitable);
        co_await engine.async_await_ready(use_awaitable);

        const auto connecting = std::chrono::steady_clock::now();
        replicas clients;
        for (std::size_t i = 0; i < client_count; ++i) {
            auto o = client_for(listener.url(accounts));
            o.client_id = "replica-" + std::to_string(i);
            clients.push_back(std::make_shared<replica::client>(asio::make_strand(ctx), o));
            clients.back()->start();
        }
        for (auto& c : clients) co_await c->wait_ready();
        CO_ASSERT_TRUE(fan->clients().size() == client_count);
        const std::chrono::duration<double> connected =
            std::chrono::steady_clock::now() - connecting;

        // The stream: every tick, the changes due at the target rate for the time since the
        // last one, unless the slowest client is more than max_lag changes behind (then nothing
        // is due for that tick: the rate drops instead of bursting afterwards).
        const auto started = std::chrono::steady_clock::now();
        auto last_tick = started;
        double due = 0;
        std::size_t sent = 0;
        std::size_t held_back = 0;
        std::size_t ticks = 0;
        std::uint64_t head = upstream->head().sequence();
        for (auto now = started; now - started < stream_duration;
             now = std::chrono::steady_clock::now()) {
            const std::chrono::duration<double> since = now - last_tick;
            last_tick = now;
            ++ticks;
            if (slowest_lag(clients, head) > max_lag) {
                ++held_back;
            } else {
                // A tick that comes late (a busy io_context) earns at most two ticks' worth of
                // changes, so no single burst goes far past the lag bound.
                due +=
                    std::min(since, std::chrono::duration<double>(2 * tick)).count() * target_rate;
                while (due >= 1) {
                    const auto n = std::min(static_cast<std::size_t>(due), changes_per_transaction);
                    head = table.commit_random(n).sequence();
                    sent += n;
                    due -= static_cast<double>(n);
                }
            }
            co_await sleep_for(tick);
        }
        const std::chrono::duration<double> streamed = std::chrono::steady_clock::now() - started;
        const auto expected = table.all();
        const auto last = position::from_sequence(head);

        // Convergence: every client reaches the last position, then holds the table.
        const auto converging = std::chrono::steady_clock::now();
        bool caught_up = false;
        while (!caught_up && std::chrono::steady_clock::now() - converging < 120s) {
            caught_up = std::all_of(clients.begin(), clients.end(),
                                    [&](const auto& c) { return c->status().pos == last; });
            if (!caught_up) co_await sleep_for(tick);
        }
        const std::chrono::duration<double> converged =
            std::chrono::steady_clock::now() - converging;
        const auto delivered =
            static_cast<double>(sent * client_count) / (streamed.count() + converged.count());
        std::printf(
            "fan-out scale: %zu clients connected and loaded in %.1f s; %zu changes in %.1f s = "
            "%.0f changes/s (aim %.0f; held back %zu of %zu ticks); every client had them all "
            "%.1f s after the last: %.0f entries/s delivered in all\n",
            client_count, connected.count(), sent, streamed.count(),
            static_cast<double>(sent) / streamed.count(), target_rate, held_back, ticks,
            converged.count(), delivered);
        std::fflush(stdout);
        EXPECT_TRUE(caught_up) << "not every client reached the last position";
        EXPECT_GT(sent, 0u);

        EXPECT_EQ(fan->rows(), expected);
        std::size_t equal = 0;
        for (const auto& c : clients) {
            if (c->rows() == expected) ++equal;
        }
        EXPECT_EQ(equal, client_count) << "clients whose rows differ from the table";

        for (auto& c : clients) co_await c->stop();
        co_await engine.async_stop(use_awaitable);
        listener.stop();
    });
}

}  // namespace
}  // namespace laredo::fanout_test
