// The replication protocol over real WebSockets on loopback: modes and their fallbacks,
// snapshot then live without a gap, filters in every phase, max clients, drain and handoff,
// heartbeat gaps, restart from the local snapshot file.
#include "net_support.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <mutex>
#include <optional>

namespace laredo::fanout_test {
namespace {

using namespace std::chrono_literals;
using replica::sync_mode;
using testing::eventually;
using testing::run_async;
using testing::sleep_for;

template <class T>
awaitable<T> expect_next(raw_client& c) {
    auto m = co_await c.next();
    if (!m) throw std::runtime_error("the server closed: " + c.reason());
    if (!std::holds_alternative<T>(*m))
        throw std::runtime_error("unexpected message: " + c.last_text);
    co_return std::get<T>(*m);
}

// Reads a full snapshot (begin, rows, end) and returns its rows.
awaitable<std::vector<row>> read_snapshot(raw_client& c) {
    co_await expect_next<replica::snapshot_begin>(c);
    std::vector<row> rows;
    for (;;) {
        auto m = co_await c.next();
        if (!m) throw std::runtime_error("closed in a snapshot");
        if (auto* r = std::get_if<replica::snapshot_rows>(&*m)) {
            rows.insert(rows.end(), r->rows.begin(), r->rows.end());
            continue;
        }
        if (std::holds_alternative<replica::snapshot_end>(*m)) co_return rows;
        throw std::runtime_error("unexpected in a snapshot: " + c.last_text);
    }
}

std::vector<row> filtered(const std::vector<row>& rows, const std::string& region) {
    std::vector<row> out;
    for (const auto& r : rows)
        if (r.at("region") == value(region)) out.push_back(r);
    return out;
}

// Remembers why clients left (the observer hears it once the session is over).
class departures : public engine_observer {
  public:
    void on_fanout_client_disconnected(const std::string&, const std::string& client_id,
                                       const std::string& reason) override {
        std::lock_guard lock(mutex_);
        reasons_.emplace_back(client_id, reason);
    }
    void on_fanout_client_backpressure(const std::string&, const std::string& client_id) override {
        std::lock_guard lock(mutex_);
        backpressured_.push_back(client_id);
    }
    // The reason `client_id` left for, empty while it is connected.
    std::string reason(const std::string& client_id) const {
        std::lock_guard lock(mutex_);
        for (const auto& [id, why] : reasons_)
            if (id == client_id) return why;
        return {};
    }
    bool backpressured(const std::string& client_id) const {
        std::lock_guard lock(mutex_);
        return std::find(backpressured_.begin(), backpressured_.end(), client_id) !=
               backpressured_.end();
    }

  private:
    mutable std::mutex mutex_;
    std::vector<std::pair<std::string, std::string>> reasons_;
    std::vector<std::string> backpressured_;
};

// A change that makes a large entry (`bytes` of notes), so queues fill fast.
change_event wide_update(std::int64_t id, std::size_t bytes = 1024) {
    return update(0, account("t", id, value("eu"), value("n"), value(std::string(bytes, 'x'))));
}

std::optional<targets::fanout::client_status> client_named(const fanout_target& t,
                                                           const std::string& id) {
    for (auto& c : t.clients())
        if (c.client_id == id) return c;
    return std::nullopt;
}

TEST(fanout_replication, full_snapshot_then_live_changes_without_a_gap) {
    run_async(2, 30s, [](asio::io_context& ctx) -> awaitable<void> {
        served_table server(ctx);
        co_await server.baseline(300);
        auto client =
            std::make_shared<replica::client>(asio::make_strand(ctx), client_for(server.url()));
        client->start();
        // Changes while the snapshot is taken and sent, and after.
        for (int i = 0; i < 60; ++i) {
            co_await server.upsert(i * 7 % 350, i % 2 ? "eu" : "us", "round" + std::to_string(i));
            if (i % 3 == 0) co_await server.erase(i * 5 % 300 + 1);
            if (i % 10 == 0) co_await sleep_for(1ms);
        }
        co_await client->wait_ready();
        for (int i = 0; i < 40; ++i) co_await server.upsert(400 + i, "eu");
        EXPECT_TRUE(co_await eventually([&] { return client->rows() == server.target->rows(); }));
        EXPECT_EQ(client->status().mode, "FULL_SNAPSHOT");
        EXPECT_EQ(client->status().pos, server.target->journal().head_position);
        const auto clients = server.target->clients();
        EXPECT_EQ(clients.size(), 1u);
        if (!clients.empty()) {
            EXPECT_EQ(clients[0].state, targets::fanout::client_state::live);
        }
        co_await client->stop();
    });
}

TEST(fanout_replication, a_restart_from_the_local_file_resumes_by_position_without_a_full_reload) {
    run_async(1, 30s, [](asio::io_context& ctx) -> awaitable<void> {
        testing::temp_dir dir;
        served_table server(ctx);
        co_await server.baseline(50);
        auto options = client_for(server.url());
        options.local_snapshot = dir.path() / "accounts.replica";
        options.indexes = {{"by_region", {"region"}, false}};
        {
            auto first = std::make_shared<replica::client>(ctx.get_executor(), options);
            first->start();
            co_await first->wait_ready();
            co_await server.upsert(3, "eu");
            EXPECT_TRUE(
                co_await eventually([&] { return first->rows() == server.target->rows(); }));
            co_await first->stop();
        }
        co_await server.upsert(4, "eu");
        co_await server.erase(5);
        auto second = std::make_shared<replica::client>(ctx.get_executor(), options);
        second->start();
        co_await second->wait_ready();
        EXPECT_TRUE(co_await eventually([&] { return second->rows() == server.target->rows(); }));
        EXPECT_EQ(second->status().mode, "DELTA");
        EXPECT_EQ(second->status().full_snapshots, 0u);
        // Secondary indexes are rebuilt from the file.
        EXPECT_EQ(second->lookup_index("by_region", {value("eu")}).size(), 2u);
        co_await second->stop();
    });
}

TEST(fanout_replication, mode_choice_delta_by_sequence_and_from_snapshot_else_full) {
    run_async(1, 30s, [](asio::io_context& ctx) -> awaitable<void> {
        fanout_target_options o;
        o.journal.max_entries = 5;
        served_table server(ctx, o);
        co_await server.baseline(10);
        co_await server.upsert(1, "eu");
        co_await server.upsert(2, "eu");
        const auto journal = server.target->journal();
        const auto snap = server.target->take_snapshot();

        const auto handshake_for = [&](replica::sync_request r) -> awaitable<replica::handshake> {
            auto c = co_await raw_client::connect(server.url());
            co_await c->send(r);
            auto h = co_await expect_next<replica::handshake>(*c);
            c->close();
            co_return h;
        };
        replica::sync_request by_seq;
        by_seq.journal_id = journal.id;
        by_seq.last_sequence = 1;
        auto h = co_await handshake_for(by_seq);
        EXPECT_EQ(h.mode, sync_mode::delta);
        EXPECT_EQ(h.resume_sequence, 1u);
        EXPECT_EQ(h.server_sequence, 2u);

        replica::sync_request ahead = by_seq;
        ahead.last_sequence = 3;  // ahead of the server's head
        EXPECT_EQ((co_await handshake_for(ahead)).mode, sync_mode::full_snapshot);
        replica::sync_request other_epoch = by_seq;
        other_epoch.journal_id = "another-server";
        EXPECT_EQ((co_await handshake_for(other_epoch)).mode, sync_mode::full_snapshot);

        replica::sync_request by_pos;
        by_pos.last_position = position::from_sequence(2);
        h = co_await handshake_for(by_pos);
        EXPECT_EQ(h.mode, sync_mode::delta);
        EXPECT_EQ(h.resume_sequence, 1u);
        replica::sync_request pos_ahead;
        pos_ahead.last_position = position::from_sequence(99);
        EXPECT_EQ((co_await handshake_for(pos_ahead)).mode, sync_mode::full_snapshot);

        replica::sync_request from_snapshot;
        from_snapshot.last_snapshot_id = snap.id;
        h = co_await handshake_for(from_snapshot);
        EXPECT_EQ(h.mode, sync_mode::delta_from_snapshot);
        EXPECT_EQ(h.snapshot_id, snap.id);
        EXPECT_EQ(h.resume_sequence, snap.sequence);

        // The journal moves on past what it can hold: those positions take a full snapshot.
        for (int i = 0; i < 10; ++i) co_await server.upsert(20 + i, "us");
        EXPECT_EQ((co_await handshake_for(by_pos)).mode, sync_mode::full_snapshot);
        EXPECT_EQ((co_await handshake_for(by_seq)).mode, sync_mode::full_snapshot);
        EXPECT_EQ((co_await handshake_for(from_snapshot)).mode, sync_mode::full_snapshot);
    });
}

TEST(fanout_replication,
     filters_apply_in_every_phase_and_crossing_updates_become_delete_or_insert) {
    run_async(1, 30s, [](asio::io_context& ctx) -> awaitable<void> {
        testing::temp_dir dir;
        served_table server(ctx);
        co_await server.baseline(0);
        for (int i = 1; i <= 20; ++i) co_await server.upsert(i, i % 2 ? "eu" : "us");
        // Raw: what the wire says.
        auto raw = co_await raw_client::connect(server.url());
        replica::sync_request r;
        r.filters = {replica::filter_spec::equals("region", "eu")};
        co_await raw->send(r);
        co_await expect_next<replica::handshake>(*raw);
        auto snapshot = co_await read_snapshot(*raw);
        // A snapshot comes in no particular order.
        std::sort(snapshot.begin(), snapshot.end(),
                  [](const row& a, const row& b) { return a.key() < b.key(); });
        EXPECT_EQ(snapshot, filtered(server.target->rows(), "eu"));
        co_await server.upsert(1, "us");             // leaves the filter
        co_await server.upsert(2, "eu");             // enters it
        co_await server.upsert(4, "us");             // stays out
        co_await server.upsert(3, "eu", "renamed");  // stays in
        std::vector<replica::journal_entry> seen;
        while (seen.size() < 3) {
            auto e = co_await expect_next<replica::entries>(*raw);
            seen.insert(seen.end(), e.items.begin(), e.items.end());
        }
        EXPECT_EQ(seen.size(), 3u);
        if (seen.size() == 3) {
            EXPECT_EQ(seen[0].action, change_action::delete_);
            EXPECT_EQ(seen[0].old_row.at("id"), value(1));
            EXPECT_EQ(seen[1].action, change_action::insert);
            EXPECT_EQ(seen[1].new_row.at("id"), value(2));
            EXPECT_EQ(seen[2].action, change_action::update);
        }
        raw->close();

        // The library, across a restart (catch-up) and live.
        auto options = client_for(server.url());
        options.local_snapshot = dir.path() / "eu.replica";
        options.filters = {replica::filter_spec::equals("region", "eu"),
                           replica::filter_spec::prefix("tenant", "t"),
                           replica::filter_spec::in("id", {1, 2, 3, 5, 6, 7, 8, 9, 11, 13})};
        const auto want = [&] {
            std::vector<row> out;
            for (const auto& row : filtered(server.target->rows(), "eu")) {
                const auto id = row.at("id").get<std::int64_t>();
                if (id <= 9 || id == 11 || id == 13) out.push_back(row);
            }
            return out;
        };
        {
            auto c = std::make_shared<replica::client>(ctx.get_executor(), options);
            c->start();
            co_await c->wait_ready();
            EXPECT_TRUE(co_await eventually([&] { return c->rows() == want(); }));
            co_await c->stop();
        }
        co_await server.upsert(5, "us");
        co_await server.upsert(6, "eu");
        co_await server.erase(7);
        auto c = std::make_shared<replica::client>(ctx.get_executor(), options);
        c->start();
        co_await c->wait_ready();
        EXPECT_EQ(c->status().mode, "DELTA");
        EXPECT_TRUE(co_await eventually([&] { return c->rows() == want(); }));
        co_await server.upsert(9, "us");
        co_await server.upsert(8, "eu");
        EXPECT_TRUE(co_await eventually([&] { return c->rows() == want(); }));
        co_await c->stop();
    });
}

TEST(fanout_replication, clients_past_max_clients_are_refused_with_a_reason) {
    run_async(1, 30s, [](asio::io_context& ctx) -> awaitable<void> {
        fanout_target_options o;
        o.clients.max_clients = 1;
        served_table server(ctx, o);
        co_await server.baseline(5);
        const replica::sync_request plain;
        auto first = co_await raw_client::connect(server.url());
        co_await first->send(plain);
        co_await expect_next<replica::handshake>(*first);
        auto second = co_await raw_client::connect(server.url());
        co_await second->send(plain);
        const auto refusal = co_await expect_next<replica::error_message>(*second);
        EXPECT_EQ(refusal.code, "max_clients");
        EXPECT_NE(refusal.message.find("max clients reached"), std::string::npos);
        EXPECT_FALSE(co_await second->next());
        EXPECT_NE(second->reason().find("max clients"), std::string::npos);
        first->close();
        EXPECT_TRUE(co_await eventually([&] { return server.target->clients().empty(); }));
        auto third = co_await raw_client::connect(server.url());
        co_await third->send(plain);
        co_await expect_next<replica::handshake>(*third);
    });
}

TEST(fanout_replication, drain_sends_goaway_and_the_client_moves_to_another_server_without_a_gap) {
    run_async(2, 30s, [](asio::io_context& ctx) -> awaitable<void> {
        served_table a(ctx);
        served_table b(ctx);
        co_await a.baseline(30);
        co_await b.baseline(30);
        // Both servers replicate the same upstream: the same changes at the same positions.
        const auto both = [&](std::int64_t id, std::string region) -> awaitable<void> {
            co_await a.upsert(id, region);
            co_await b.upsert(id, region);
        };
        auto options = client_for(a.url());
        options.servers.push_back(b.url());
        auto client = std::make_shared<replica::client>(asio::make_strand(ctx), options);
        client->start();
        co_await client->wait_ready();
        co_await both(1, "eu");
        a.target->drain("deploy", 2s, {b.url()});
        // Changes go on during the handoff.
        for (int i = 0; i < 40; ++i) {
            co_await both(100 + i, "us");
            co_await sleep_for(2ms);
        }
        EXPECT_TRUE(co_await eventually([&] { return client->status().handoffs == 1; }));
        EXPECT_NE(client->status().server.find(std::to_string(b.listener.port())),
                  std::string::npos);
        for (int i = 0; i < 10; ++i) co_await b.upsert(200 + i, "eu");
        EXPECT_TRUE(co_await eventually([&] { return client->rows() == b.target->rows(); }));
        EXPECT_EQ(client->status().full_snapshots, 1u);  // the first one only
        // A drained server refuses newcomers.
        const replica::sync_request plain;
        auto late = co_await raw_client::connect(a.url());
        co_await late->send(plain);
        EXPECT_EQ((co_await expect_next<replica::error_message>(*late)).code, "draining");
        co_await client->stop();
    });
}

TEST(fanout_replication, a_silent_server_is_detected_by_the_heartbeat_gap_and_left) {
    run_async(1, 30s, [](asio::io_context& ctx) -> awaitable<void> {
        fanout_target_options o;
        o.clients.heartbeat_interval = 60s;  // it will not speak
        served_table server(ctx, o);
        co_await server.baseline(3);
        auto options = client_for(server.url());
        options.heartbeat_timeout = 150ms;
        auto client = std::make_shared<replica::client>(ctx.get_executor(), options);
        client->start();
        co_await client->wait_ready();
        EXPECT_TRUE(co_await eventually([&] { return client->status().connects >= 2; }));
        EXPECT_NE(client->status().last_error.find("no heartbeat"), std::string::npos)
            << client->status().last_error;
        EXPECT_EQ(client->status().full_snapshots, 1u);  // it resumed by position
        co_await client->stop();
    });
}

TEST(fanout_replication, a_slow_client_under_disconnect_is_closed_while_a_fast_one_keeps_up) {
    run_async(2, 60s, [](asio::io_context& ctx) -> awaitable<void> {
        auto seen = std::make_shared<departures>();
        fanout_target_options o;
        o.clients.queue_bytes = 32 * 1024;
        o.clients.entries_per_message = 8;
        o.clients.policy = targets::fanout::slow_client_policy::disconnect;
        o.clients.close_timeout = 300ms;
        o.observer = seen;
        served_table server(ctx, o);
        co_await server.baseline(20);
        auto options = client_for(server.url());
        options.client_id = "fast";
        auto fast = std::make_shared<replica::client>(asio::make_strand(ctx), options);
        fast->start();
        co_await fast->wait_ready();
        // The slow client takes the snapshot, then reads nothing more.
        auto slow = co_await raw_client::connect(server.url(), 4096);
        replica::sync_request r;
        r.client_id = "slow";
        co_await slow->send(r);
        const auto h = co_await expect_next<replica::handshake>(*slow);
        co_await read_snapshot(*slow);
        const auto slow_position = server.target->journal().head_position;
        // Each round waits for the fast client: it is never far behind, the slow one falls
        // further behind with every round.
        for (int round = 0; round < 2000 && seen->reason("slow").empty(); ++round) {
            std::vector<change_event> tx{wide_update(round % 50), wide_update(50 + round % 50)};
            co_await server.apply(std::move(tx));
            const auto head = server.target->journal().head_position;
            CO_ASSERT_TRUE(co_await eventually([&] { return fast->status().pos == head; }));
        }
        EXPECT_NE(seen->reason("slow").find("slow consumer"), std::string::npos)
            << seen->reason("slow");
        EXPECT_TRUE(co_await eventually([&] { return fast->rows() == server.target->rows(); }));
        EXPECT_TRUE(seen->reason("fast").empty()) << seen->reason("fast");
        // The slow client comes back by position: a delta, not a snapshot.
        slow->close();
        auto again = co_await raw_client::connect(server.url());
        replica::sync_request resume;
        resume.client_id = "slow";
        resume.journal_id = h.journal_id;
        resume.last_position = slow_position;
        co_await again->send(resume);
        EXPECT_EQ((co_await expect_next<replica::handshake>(*again)).mode, sync_mode::delta);
        again->close();
        co_await fast->stop();
    });
}

TEST(fanout_replication, slow_down_pins_the_journal_for_a_slow_client_then_disconnects_it) {
    run_async(2, 60s, [](asio::io_context& ctx) -> awaitable<void> {
        auto seen = std::make_shared<departures>();
        fanout_target_options o;
        o.journal.max_entries = 20;
        o.clients.queue_bytes = 64 * 1024;
        o.clients.entries_per_message = 1;
        o.clients.policy = targets::fanout::slow_client_policy::slow_down;
        o.clients.max_lag_entries = 200;
        o.clients.close_timeout = 300ms;
        o.observer = seen;
        served_table server(ctx, o);
        co_await server.baseline(10);
        auto options = client_for(server.url());
        options.client_id = "fast";
        auto fast = std::make_shared<replica::client>(asio::make_strand(ctx), options);
        fast->start();
        co_await fast->wait_ready();
        auto slow = co_await raw_client::connect(server.url(), 4096);
        replica::sync_request r;
        r.client_id = "slow";
        co_await slow->send(r);
        co_await expect_next<replica::handshake>(*slow);
        co_await read_snapshot(*slow);
        const auto start = server.target->journal().head_sequence;
        // It stops reading: the server waits for it, and keeps the journal for it past the
        // journal's own limit.
        std::int64_t next_id = 0;
        // One change, then the fast client has it.
        const auto push = [&]() -> awaitable<bool> {
            std::vector<change_event> tx{wide_update(next_id++ % 40, 32 * 1024)};
            co_await server.apply(std::move(tx));
            const auto head = server.target->journal().head_position;
            co_return co_await eventually([&] { return fast->status().pos == head; });
        };
        // The socket's buffers fill first, then its queue: from there on the server waits for
        // it, and keeps what it was not sent in the journal, past the journal's own limit.
        const auto behind = [&] {
            const auto c = client_named(*server.target, "slow");
            return c ? c->behind : 0;
        };
        for (int i = 0; i < 3000 && behind() < 100; ++i) CO_ASSERT_TRUE(co_await push());
        EXPECT_TRUE(seen->backpressured("slow"));
        const auto journal = server.target->journal();
        const auto waiting = client_named(*server.target, "slow");
        CO_ASSERT_TRUE(waiting.has_value());
        EXPECT_GE(waiting->behind, 100u);
        EXPECT_GE(journal.entries, waiting->behind);
        EXPECT_LE(journal.oldest_sequence, waiting->sequence + 1)
            << "oldest " << journal.oldest_sequence << " head " << journal.head_sequence
            << " client at " << waiting->sequence;
        EXPECT_TRUE(seen->reason("slow").empty());
        // It reads again: every entry arrives, in order, none missing.
        std::uint64_t expect = start + 1;
        bool in_order = true;
        while (expect <= server.target->journal().head_sequence) {
            auto m = co_await slow->next();
            if (!m) break;
            if (const auto* e = std::get_if<replica::entries>(&*m)) {
                for (const auto& item : e->items) in_order = in_order && item.sequence == expect++;
            }
        }
        EXPECT_TRUE(in_order);
        EXPECT_GT(expect, server.target->journal().head_sequence);
        EXPECT_TRUE(co_await eventually([&] {
            const auto c = client_named(*server.target, "slow");
            return c && c->state == targets::fanout::client_state::live;
        }));
        // Past max_lag_entries behind, it is disconnected after all.
        for (int i = 0; i < 5000 && seen->reason("slow").empty(); ++i)
            CO_ASSERT_TRUE(co_await push());
        EXPECT_NE(seen->reason("slow").find("journal entries behind (limit 200)"),
                  std::string::npos)
            << seen->reason("slow");
        EXPECT_TRUE(co_await eventually([&] { return fast->rows() == server.target->rows(); }));
        EXPECT_TRUE(seen->reason("fast").empty()) << seen->reason("fast");
        // With the slow client gone, its pin goes and the journal shrinks to its limit.
        CO_ASSERT_TRUE(co_await push());
        EXPECT_TRUE(co_await eventually([&] { return server.target->journal().entries <= 20u; }));
        slow->close();
        co_await fast->stop();
    });
}

TEST(fanout_replication, broken_and_hostile_clients_get_clear_errors) {
    run_async(1, 30s, [](asio::io_context& ctx) -> awaitable<void> {
        served_table server(ctx);
        co_await server.baseline(5);
        const auto refused = [&](const std::string& text) -> awaitable<replica::error_message> {
            auto c = co_await raw_client::connect(server.url());
            co_await c->send_text(text);
            auto e = co_await expect_next<replica::error_message>(*c);
            EXPECT_FALSE(co_await c->next());  // then the server closes
            co_return e;
        };
        std::string text = "this is not JSON";
        auto e = co_await refused(text);
        EXPECT_EQ(e.code, "invalid_request");
        text = R"({"type":"handshake"})";
        e = co_await refused(text);
        EXPECT_EQ(e.code, "invalid_request");
        EXPECT_NE(e.message.find("sync"), std::string::npos) << e.message;
        text =
            R"({"type":"sync","protocol_version":1,"filters":[{"field":"colour","equals":"red"}]})";
        e = co_await refused(text);
        EXPECT_EQ(e.code, "invalid_request");
        EXPECT_NE(e.message.find("colour"), std::string::npos) << e.message;

        // One that leaves in the middle of a snapshot, one that connects and never upgrades.
        const replica::sync_request plain;
        auto quitter = co_await raw_client::connect(server.url());
        co_await quitter->send(plain);
        co_await expect_next<replica::handshake>(*quitter);
        quitter->close();
        const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"),
                                               server.listener.port());
        asio::ip::tcp::socket mute(ctx);
        co_await mute.async_connect(endpoint, use_awaitable);
        // A plain HTTP request is answered in HTTP, naming what is wrong.
        const auto http_get = [&](const std::string& path) -> awaitable<std::string> {
            asio::ip::tcp::socket s(ctx);
            co_await s.async_connect(endpoint, use_awaitable);
            const auto request = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
            co_await asio::async_write(s, asio::buffer(request), use_awaitable);
            std::string answer;
            [[maybe_unused]] auto [ec, n] = co_await asio::async_read(
                s, asio::dynamic_buffer(answer), asio::as_tuple(use_awaitable));
            co_return answer;
        };
        std::string path = "/v1/replication/app.accounts";
        const auto upgrade = co_await http_get(path);
        EXPECT_NE(upgrade.find("426"), std::string::npos) << upgrade;
        EXPECT_NE(upgrade.find("upgrade_required"), std::string::npos) << upgrade;
        path = "/v1/replication/app.nothing";
        const auto unknown = co_await http_get(path);
        EXPECT_NE(unknown.find("404"), std::string::npos) << unknown;
        EXPECT_NE(unknown.find("unknown_table"), std::string::npos) << unknown;
        // The server is still serving, and forgot the clients that left.
        auto good = co_await raw_client::connect(server.url());
        co_await good->send(plain);
        co_await expect_next<replica::handshake>(*good);
        EXPECT_EQ((co_await read_snapshot(*good)).size(), 5u);
        EXPECT_TRUE(co_await eventually([&] { return server.target->clients().size() == 1; }));
        good->close();
    });
}

TEST(fanout_replication, a_listener_with_a_token_refuses_requests_without_it) {
    run_async(1, 30s, [](asio::io_context& ctx) -> awaitable<void> {
        auto target = std::make_shared<fanout_target>(ctx.get_executor());
        targets::fanout::replication_listener_options lo;
        lo.token = "s3cret";
        replication_listener listener(ctx.get_executor(), lo);
        listener.add(accounts, target);
        listener.start();
        co_await target->on_init(accounts, accounts_schema());
        co_await target->on_baseline_complete(accounts, position::from_sequence(1));
        auto options = client_for(listener.url(accounts));
        options.heartbeat_timeout = 2s;
        {
            auto without = std::make_shared<replica::client>(ctx.get_executor(), options);
            without->start();
            EXPECT_TRUE(co_await eventually([&] {
                return without->status().last_error.find("401") != std::string::npos;
            })) << without->status().last_error;
            EXPECT_FALSE(without->ready());
            co_await without->stop();
        }
        options.token = "s3cret";
        auto with = std::make_shared<replica::client>(ctx.get_executor(), options);
        with->start();
        co_await with->wait_ready();
        co_await with->stop();
        listener.stop();
    });
}

}  // namespace
}  // namespace laredo::fanout_test
