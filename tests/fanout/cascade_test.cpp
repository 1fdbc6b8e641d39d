// The cascading source (laredo/sources/fanout): the conformance kit on it
// (`conformance/fanout.<item>`), and a chain of two engines, source -> laredo A (fan-out
// target) -> cascading source -> laredo B (indexed target), over real WebSockets on loopback.
#include "fanout_fixture.hpp"
#include "net_support.hpp"
#include "temp_dir.hpp"

#include "laredo/engine.hpp"
#include "laredo/sources/fanout/fanout_source.hpp"
#include "laredo/sources/testsource/test_source.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <gtest/gtest.h>

#include <map>

namespace laredo::fanout_test {
namespace {

using namespace std::chrono_literals;
using sources::fanout::fanout_source;
using sources::fanout::fanout_source_options;
using sources::testsource::test_source;
using testing::eventually;
using testing::run_async;

[[maybe_unused]] const bool registered = [] {
    testing::register_conformance_tests("fanout",
                                        [] { return std::make_unique<fanout_fixture>(); });
    return true;
}();

// The table as the test made it, in key order.
struct model {
    std::map<std::int64_t, row> rows;
    std::vector<row> all() const {
        std::vector<row> out;
        for (const auto& [id, r] : rows) out.push_back(r);
        return out;
    }
};

TEST(fanout_cascade, a_chain_of_two_engines_ends_equal_to_the_table) {
    run_async(2, 60s, [](asio::io_context& ctx) -> awaitable<void> {
        testing::temp_dir dir;
        model table;
        auto upstream = std::make_shared<test_source>(ctx.get_executor());
        upstream->set_schema(accounts, accounts_schema()->columns());
        for (std::int64_t id = 1; id <= 40; ++id) {
            auto r = account("t", id, value(id % 2 ? "eu" : "us"));
            table.rows[id] = r;
            upstream->add_row(accounts, r);
        }
        // laredo A: the upstream into a fan-out target, served on loopback.
        auto fan = std::make_shared<fanout_target>(ctx.get_executor());
        replication_listener listener(ctx.get_executor());
        listener.add(accounts, fan);
        listener.start();
        auto a = engine::builder()
                     .add_source("upstream", upstream)
                     .add_pipeline("upstream", accounts, fan)
                     .build(ctx.get_executor());
        co_await a.async_start(use_awaitable);
        co_await a.async_await_ready(use_awaitable);

        // laredo B: the cascading source over A's fan-out target, into an indexed target.
        fanout_source_options o;
        o.client = client_for(listener.url(accounts));
        o.resume_file = dir.path() / "b.resume";
        auto cascade = std::make_shared<fanout_source>(ctx.get_executor(), o);
        auto replica = std::make_shared<targets::memory::indexed_target>();
        auto b = engine::builder()
                     .add_source("a", cascade)
                     .add_pipeline("a", accounts, replica)
                     .build(ctx.get_executor());
        co_await b.async_start(use_awaitable);
        co_await b.async_await_ready(use_awaitable);
        EXPECT_EQ(replica->rows(), table.all());

        const auto put = [&](std::int64_t id, std::string region, std::string name) {
            auto r = account("t", id, value(std::move(region)), value(std::move(name)));
            const bool existed = table.rows.contains(id);
            table.rows[id] = r;
            return existed ? upstream->update(accounts, r) : upstream->insert(accounts, r);
        };
        const auto erase = [&](std::int64_t id) {
            table.rows.erase(id);
            return upstream->remove(accounts, account("t", id, value()));
        };
        for (std::int64_t i = 0; i < 30; ++i) {
            put(41 + i, "us", "new");
            put(1 + i, "eu", "updated " + std::to_string(i));
            if (i % 3 == 0) erase(2 + i);
        }
        test_source::transaction tx;
        for (std::int64_t id = 100; id < 110; ++id) {
            auto r = account("t", id, value("ap"));
            table.rows[id] = r;
            tx.insert(accounts, r);
        }
        upstream->commit(std::move(tx));
        EXPECT_TRUE(co_await eventually([&] { return replica->rows() == table.all(); }));
        EXPECT_EQ(fan->rows(), table.all());

        // A truncate travels down the chain too, and so do the rows after it.
        upstream->truncate(accounts);
        table.rows.clear();
        put(7, "eu", "after the truncate");
        put(8, "us", "after the truncate");
        EXPECT_TRUE(co_await eventually([&] { return replica->rows() == table.all(); }));
        // B's positions are the upstream's.
        const auto last = erase(8);
        EXPECT_TRUE(co_await eventually([&] {
            const auto p = replica->confirmed_position();
            return p && cascade->compare_positions(*p, last) == 0;
        }));
        EXPECT_EQ(replica->rows(), table.all());
        co_await b.async_stop(use_awaitable);
        co_await a.async_stop(use_awaitable);
        listener.stop();
    });
}

}  // namespace
}  // namespace laredo::fanout_test
