#pragma once

// What the engine benchmarks share: the events they stream (the bench row shape, inserts
// then updates) and a target that applies nothing, whose rate is the engine's own cost.

#include "bench_rows.hpp"

#include "laredo/change_event.hpp"
#include "laredo/sync_target.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace laredo::bench {

// Applies nothing: isolates what the engine itself costs (source, buffers, strands, ACK).
class counting_target final : public sync_target {
  public:
    using awaitable = boost::asio::awaitable<void>;

    std::string type_name() const override { return "bench.counting"; }
    awaitable on_init(const table_identifier&, schema_ptr) override { co_return; }
    awaitable on_baseline_rows(const table_identifier&, std::span<const row>) override {
        co_return;
    }
    awaitable on_baseline_complete(const table_identifier&, const position&) override { co_return; }
    awaitable on_changes(const table_identifier&, std::span<const change_event> changes) override {
        count_ += changes.size();
        co_return;
    }
    awaitable on_insert(const table_identifier&, const change_event&) override { co_return; }
    awaitable on_update(const table_identifier&, const change_event&) override { co_return; }
    awaitable on_delete(const table_identifier&, const change_event&) override { co_return; }
    awaitable on_truncate(const table_identifier&, const change_event&) override { co_return; }

  private:
    std::size_t count_ = 0;
};

// `count` changes of bench_table over `keys` rows: the first pass over the keys inserts,
// later passes update.
inline std::vector<change_event> make_events(const schema_ptr& schema, std::size_t count,
                                             std::size_t keys) {
    std::vector<change_event> events;
    events.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        change_event e;
        e.table = bench_table;
        e.action = i < keys ? change_action::insert : change_action::update;
        const auto id = static_cast<std::int64_t>(i % keys);
        auto values = bench_values(id, static_cast<std::int64_t>(i / keys));
        e.new_values = row(schema, std::move(values));
        events.push_back(std::move(e));
    }
    return events;
}

}  // namespace laredo::bench
