// The fan-out target's sync_target surface, reads, snapshots (and their scheduler), drain.
#include "laredo/targets/fanout/fanout_target.hpp"

#include "fanout_state.hpp"
#include "table_layout.hpp"

#include "laredo/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace laredo::targets::fanout {

namespace asio = boost::asio;
using asio::awaitable;

std::string_view to_string(client_state s) noexcept {
    switch (s) {
        case client_state::handshaking:
            return "handshaking";
        case client_state::snapshot:
            return "snapshot";
        case client_state::catching_up:
            return "catching_up";
        case client_state::live:
            return "live";
        case client_state::draining:
            return "draining";
    }
    return "handshaking";
}

std::shared_ptr<detail::fanout_state> state_of(const fanout_target& t) { return t.state_; }

// Takes snapshots every snapshot_options::interval on a strand of the target's executor
// (and prunes the journal by age then), from the first on_init until on_close.
struct fanout_target::scheduler : std::enable_shared_from_this<scheduler> {
    explicit scheduler(asio::any_io_executor executor)
        : strand(asio::make_strand(executor)), timer(strand) {}

    asio::strand<asio::any_io_executor> strand;
    asio::steady_timer timer;
    bool running = false;
    bool stopped = false;

    void start(std::weak_ptr<detail::fanout_state> state, std::chrono::milliseconds interval) {
        if (interval.count() <= 0) return;
        auto self = shared_from_this();
        asio::dispatch(strand, [self, state = std::move(state), interval] {
            self->stopped = false;
            if (self->running) return;
            self->running = true;
            asio::co_spawn(self->strand, self->run(state, interval), asio::detached);
        });
    }

    void stop() {
        auto self = shared_from_this();
        asio::dispatch(strand, [self] {
            self->stopped = true;
            self->timer.cancel();
        });
    }

    awaitable<void> run(std::weak_ptr<detail::fanout_state> weak,
                        std::chrono::milliseconds interval) {
        auto keep = shared_from_this();
        while (!stopped) {
            timer.expires_after(interval);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (stopped) break;
            const auto state = weak.lock();
            if (!state) break;
            state->log().prune_now();
            if (!state->ready()) continue;
            try {
                state->take_snapshot(true);
            } catch (const std::exception&) {
                // The table stopped being ready meanwhile: the next round tries again.
            }
        }
        running = false;
    }
};

fanout_target::fanout_target(asio::any_io_executor executor, fanout_target_options options)
    : state_(std::make_shared<detail::fanout_state>(std::move(options))),
      scheduler_(std::make_shared<scheduler>(std::move(executor))) {}

fanout_target::~fanout_target() { scheduler_->stop(); }

// --- writes: the pipeline's strand; the state does the work synchronously ---

awaitable<void> fanout_target::on_init(const table_identifier& table, schema_ptr schema) {
    state_->init(table, std::move(schema));
    scheduler_->start(state_, state_->options().snapshots.interval);
    co_return;
}

awaitable<void> fanout_target::on_baseline_rows(const table_identifier& table,
                                                std::span<const row> rows) {
    state_->baseline_rows(table, rows);
    co_return;
}

awaitable<void> fanout_target::on_baseline_complete(const table_identifier& table,
                                                    const position& pos) {
    state_->baseline_complete(table, pos);
    co_return;
}

awaitable<void> fanout_target::on_changes(const table_identifier& table,
                                          std::span<const change_event> changes) {
    state_->changes(table, changes);
    co_return;
}

awaitable<void> fanout_target::on_insert(const table_identifier& table, const change_event& c) {
    co_await on_changes(table, std::span<const change_event>(&c, 1));
}

awaitable<void> fanout_target::on_update(const table_identifier& table, const change_event& c) {
    co_await on_changes(table, std::span<const change_event>(&c, 1));
}

awaitable<void> fanout_target::on_delete(const table_identifier& table, const change_event& c) {
    co_await on_changes(table, std::span<const change_event>(&c, 1));
}

awaitable<void> fanout_target::on_truncate(const table_identifier& table, const change_event& c) {
    co_await on_changes(table, std::span<const change_event>(&c, 1));
}

bool fanout_target::is_durable() const { return state_->is_durable(); }

std::optional<position> fanout_target::confirmed_position() const {
    return state_->confirmed_position();
}

std::optional<position> fanout_target::persisted_position() const {
    return state_->persisted_position();
}

void fanout_target::on_position_reached(const table_identifier& table, const position& pos) {
    state_->position_reached(table, pos);
}

awaitable<schema_change_response> fanout_target::on_schema_change(const table_identifier& table,
                                                                  const row_schema& old_schema,
                                                                  const row_schema& new_schema) {
    state_->change_schema(table, new_schema);
    // An added column with a default gives every existing row the default without a change
    // for any of them: only a new copy of the table has it.
    if (!memory::detail::only_adds_columns(old_schema, new_schema)) {
        co_return schema_change_response{
            schema_change_action::rebaseline,
            fmt::format("columns of {} changed beyond additions: re-baseline", table.to_string())};
    }
    if (const auto with_defaults =
            memory::detail::added_columns_with_defaults(old_schema, new_schema);
        !with_defaults.empty()) {
        co_return schema_change_response{
            schema_change_action::rebaseline,
            fmt::format("columns added to {} with a default, which stored rows lack: {}; "
                        "re-baseline",
                        table.to_string(), with_defaults)};
    }
    co_return schema_change_response{
        schema_change_action::continue_,
        fmt::format("columns added to {}: {}", table.to_string(),
                    memory::detail::added_column_names(old_schema, new_schema))};
}

awaitable<void> fanout_target::begin_rebuild(const table_identifier& table) {
    state_->begin_rebuild(table);
    co_return;
}

awaitable<void> fanout_target::commit_rebuild(const table_identifier& table) {
    state_->commit_rebuild(table);
    co_return;
}

std::optional<row> fanout_target::find(const row& identity) const {
    const auto s = state_->schema();
    if (!s || identity.empty()) return std::nullopt;
    std::vector<value> key;
    for (const auto i : s->key_indexes()) {
        const auto* v = identity.find(s->column(i).name);
        if (!v) return std::nullopt;
        key.push_back(*v);
    }
    if (key.empty()) return std::nullopt;
    return state_->get(key);
}

void fanout_target::for_each_row(const table_identifier&,
                                 const std::function<void(const row&)>& fn) const {
    for (const auto& r : state_->rows()) fn(r);
}

awaitable<std::vector<row>> fanout_target::export_snapshot(const table_identifier&) {
    co_return state_->rows();
}

awaitable<void> fanout_target::restore_snapshot(const table_snapshot_info& info,
                                                std::vector<row> rows, const position& pos) {
    state_->restore(info, std::move(rows), pos);
    co_return;
}

awaitable<void> fanout_target::on_close(const table_identifier&) {
    scheduler_->stop();
    state_->close();
    co_return;
}

// --- reads ---

bool fanout_target::ready() const noexcept { return state_->ready(); }
std::size_t fanout_target::count() const { return state_->row_count(); }
std::optional<row> fanout_target::get(const std::vector<value>& key) const {
    return state_->get(key);
}
std::vector<row> fanout_target::rows() const { return state_->rows(); }
schema_ptr fanout_target::schema() const { return state_->schema(); }
table_identifier fanout_target::table() const { return state_->table(); }

journal_status fanout_target::journal() const {
    const auto s = state_->log().current();
    journal_status out;
    out.id = s.id;
    out.head_sequence = s.head_sequence;
    out.oldest_sequence = s.oldest_sequence;
    out.entries = s.entries;
    out.bytes = s.bytes;
    out.pins = s.pins;
    out.pruned_total = s.pruned_total;
    out.base_position = s.base_position;
    out.head_position = s.head_position;
    return out;
}

std::size_t fanout_target::prune_journal() { return state_->log().prune_now(); }

namespace {

snapshot_info info_of(const detail::table_snapshot& s) {
    return {s.id, s.sequence, s.pos, s.size(), s.byte_size(), s.created_at};
}

}  // namespace

snapshot_info fanout_target::take_snapshot() { return info_of(*state_->take_snapshot(true)); }

std::vector<snapshot_info> fanout_target::snapshots() const {
    std::vector<snapshot_info> out;
    for (const auto& s : state_->snapshots()) out.push_back(info_of(*s));
    return out;
}

// --- drain and clients ---

void fanout_target::drain(std::string reason, std::chrono::milliseconds within,
                          std::vector<std::string> reconnect_to) {
    state_->drain(std::move(reason), std::chrono::system_clock::now() + within,
                  std::move(reconnect_to));
}

void fanout_target::undrain() { state_->undrain(); }

drain_info fanout_target::draining() const {
    const auto d = state_->draining();
    return {d.draining, d.reason, d.deadline, d.reconnect_to};
}

std::vector<client_status> fanout_target::clients() const {
    return state_->clients().list(state_->log().current().head_sequence);
}

}  // namespace laredo::targets::fanout
