#include "fanout_state.hpp"

#include "table_layout.hpp"

#include "laredo/error.hpp"
#include "laredo/replica/positions.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace laredo::targets::fanout::detail {

using memory::value_view;
using memory::detail::row_store;
using memory::detail::store_ptr;

namespace {

memory::detail::table_core_options core_options() {
    memory::detail::table_core_options out;
    out.type_name = "fanout";
    return out;
}

position_compare comparator(const fanout_target_options& options) {
    if (options.compare_positions) return options.compare_positions;
    return [](const position& a, const position& b) { return replica::compare_positions(a, b); };
}

journal_limits limits_of(const journal_options& o) {
    return {o.max_entries, o.max_bytes, o.max_age};
}

// The columns of `r`, those it marks unchanged taken from `stored` (the TOAST merge; with no
// stored row they keep the marker).
memory::detail::row_views merged(const row& r, packed_view stored) {
    memory::detail::row_views out;
    memory::packed_cursor old(stored);
    for (const auto& v : r.values()) {
        const value_view kept = old.next();
        out.push_back(v.is_unchanged() && !stored.empty() ? kept : value_view::of(v));
    }
    return out;
}

std::optional<time_point> commit_time_of(const change_event& c) {
    if (c.commit_timestamp) return c.commit_timestamp;
    if (c.timestamp != time_point{}) return c.timestamp;
    return std::nullopt;
}

}  // namespace

fanout_state::fanout_state(fanout_target_options options)
    : options_(std::move(options)),
      compare_(comparator(options_)),
      core_(core_options(), *this),
      journal_(limits_of(options_.journal), compare_),
      clients_(options_.clients.max_clients) {
    if (options_.clients.entries_per_message == 0 ||
        options_.clients.snapshot_rows_per_message == 0) {
        throw error(errc::invalid_config,
                    "fanout: entries_per_message and snapshot_rows_per_message must be at least 1");
    }
    if (options_.clients.queue_bytes == 0) {
        throw error(errc::invalid_config, "fanout: queue_bytes must be at least 1");
    }
    if (options_.clients.heartbeat_interval.count() <= 0) {
        throw error(errc::invalid_config, "fanout: heartbeat_interval must be positive");
    }
    journal_.on_pruned = [this](std::uint64_t n) {
        if (auto* o = observer()) o->on_fanout_journal_pruned(options_.pipeline_id, n);
    };
}

// --- layout ---

store_ptr fanout_state::make_store(const table_identifier& table, const row_schema& schema) const {
    auto key = memory::detail::resolve_key(schema, options_.key_columns, table, "fanout");
    return std::make_unique<row_store>(std::move(key), std::vector<memory::detail::index_layout>{});
}

// --- lifecycle ---

void fanout_state::init(const table_identifier& table, schema_ptr schema) {
    if (!schema) throw error(errc::invalid_argument, "fanout: on_init needs a schema");
    auto fresh = make_store(table, *schema);
    std::unique_lock epoch(epoch_mutex_);
    ready_ = false;
    closed_ = false;
    core_.start(table, std::move(schema), std::move(fresh), false);
    pending_.clear();
    truncates_.clear();
    swapped_ = false;
}

void fanout_state::new_epoch_locked() {
    announce();  // what the old epoch applied goes out first
    swapped_ = false;
    position pos;
    std::uint64_t seq = 0;
    {
        std::lock_guard lock(position_mutex_);
        pos = table_position_;
        seq = sequence_;
    }
    journal_.reset(seq, pos);
    ready_ = true;
}

void fanout_state::baseline_rows(const table_identifier& table, std::span<const row> rows) {
    core_.baseline_rows(table, rows);
}

void fanout_state::baseline_complete(const table_identifier& table, const position& pos) {
    std::unique_lock epoch(epoch_mutex_);
    core_.baseline_complete(table, pos);
    if (rebuilding()) return;  // an explicit rebuild swaps at commit_rebuild
    {
        std::lock_guard lock(position_mutex_);
        table_position_ = pos;
    }
    new_epoch_locked();
    epoch.unlock();
    prune_snapshots();
}

void fanout_state::changes(const table_identifier& table, std::span<const change_event> changes) {
    // table_core empties the store itself on a truncate and only tells record_truncate():
    // what it needs of the change waits here, in order.
    if (!rebuilding()) {
        for (const auto& c : changes) {
            if (c.action == change_action::truncate) {
                truncates_.push_back({c.pos, commit_time_of(c), c.ends_transaction});
            }
        }
    }
    try {
        core_.changes(table, changes);
    } catch (...) {
        truncates_.clear();  // what the batcher held was dropped with them
        throw;
    }
}

void fanout_state::begin_rebuild(const table_identifier& table) {
    truncates_.clear();
    core_.begin_rebuild(table);
}

void fanout_state::commit_rebuild(const table_identifier& table) {
    std::unique_lock epoch(epoch_mutex_);
    core_.commit_rebuild(table);
    {
        std::lock_guard lock(position_mutex_);
        if (auto p = core_.confirmed_position()) table_position_ = *p;
    }
    new_epoch_locked();
    epoch.unlock();
    prune_snapshots();
}

void fanout_state::restore(const table_snapshot_info& info, std::vector<row> rows,
                           const position& pos) {
    std::unique_lock epoch(epoch_mutex_);
    truncates_.clear();
    core_.restore(info, std::move(rows), pos);
    {
        std::lock_guard lock(position_mutex_);
        table_position_ = pos;
    }
    new_epoch_locked();
    epoch.unlock();
    prune_snapshots();
}

void fanout_state::position_reached(const table_identifier& table, const position& pos) {
    core_.position_reached(table, pos);
    if (pos.empty() || rebuilding() || !ready_ || !core_.is_durable()) return;
    {
        std::lock_guard lock(position_mutex_);
        if (table_position_.empty() || compare_(pos, table_position_) > 0) table_position_ = pos;
    }
    journal_.reach(pos);
}

void fanout_state::change_schema(const table_identifier& table, const row_schema& new_schema) {
    core_.check_table(table);
    auto next = std::make_shared<const row_schema>(new_schema);
    const auto convert = [&](const memory::detail::table_store* from) -> store_ptr {
        if (!from) return nullptr;
        const auto& old_schema = *core_.schema();
        auto to = make_store(table, new_schema);
        auto& rows = static_cast<row_store&>(*to);
        std::vector<std::optional<std::size_t>> source(new_schema.size());
        for (std::size_t j = 0; j < new_schema.size(); ++j) {
            source[j] = old_schema.index_of(new_schema.column(j).name);
        }
        std::vector<value_view> values(new_schema.size());
        rows_of(from)->for_each([&](packed_view r) {
            for (std::size_t j = 0; j < values.size(); ++j) {
                values[j] = source[j] ? r[*source[j]] : value_view();
            }
            rows.put(values);
        });
        return to;
    };
    auto live = convert(core_.live());
    auto shadow = rebuilding() ? convert(core_.writing()) : nullptr;
    std::unique_lock epoch(epoch_mutex_);
    core_.repack(std::move(next), std::move(live), std::move(shadow));
    if (ready_) new_epoch_locked();
}

void fanout_state::close() {
    ready_ = false;
    closed_ = true;
    journal_.notify_all();
}

// --- writes under the table's lock ---

void fanout_state::put(memory::detail::table_store& s, const row& r, bool /*record*/) {
    // Baseline and restored rows: the journal starts after them (a new epoch).
    auto& store = static_cast<row_store&>(s);
    packed_view stored;
    if (!r.is_complete()) {
        stored = store.find(memory::detail::key_of(r, *core_.schema(), store.key_columns()));
    }
    store.put(merged(r, stored));
}

void fanout_state::apply(memory::detail::table_store& s, const change_event& c, bool record) {
    auto& store = static_cast<row_store&>(s);
    const auto& schema = *core_.schema();
    switch (c.action) {
        case change_action::insert: {
            const auto key = memory::detail::key_of(c.new_values, schema, store.key_columns());
            const packed_view stored = store.find(key);
            auto result = store.put(merged(c.new_values, stored));
            if (record) {
                add_entry(result.replaced ? change_action::update : change_action::insert, &c,
                          result.replaced.view(), result.stored);
            }
            return;
        }
        case change_action::update: {
            const auto key = memory::detail::key_of(c.identity(), schema, store.key_columns());
            const packed_view old = store.find(key);
            auto result = store.put(merged(c.new_values, old), old);
            // When the new key was another row's, that row is replaced: sources with a real
            // key never do this, and clients replace it the same way (the upsert at the new
            // key), so one UPDATE from the old key says it all.
            const auto& before = result.removed ? result.removed : result.replaced;
            if (record) {
                add_entry(before ? change_action::update : change_action::insert, &c, before.view(),
                          result.stored);
            }
            return;
        }
        case change_action::delete_: {
            const auto key = memory::detail::key_of(c.identity(), schema, store.key_columns());
            const auto gone = store.erase(key);
            if (gone && record) add_entry(change_action::delete_, &c, gone.view(), {});
            return;
        }
        case change_action::truncate:
            return;  // table_core empties the store and calls record_truncate()
    }
}

void fanout_state::add_entry(change_action action, const change_event* c, packed_view old_row,
                             packed_view new_row) {
    auto e = std::make_shared<journal_entry>();
    e->action = action;
    e->old_row = packed_copy(old_row);
    e->new_row = packed_copy(new_row);
    e->schema = core_.schema();
    e->appended_at = std::chrono::system_clock::now();
    if (c) {
        e->pos = c->pos;
        e->commit_time = commit_time_of(*c);
        e->end_of_transaction = c->ends_transaction;
        const auto& values = c->new_values.values();
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (values[i].is_unchanged()) e->unchanged.push_back(static_cast<std::uint32_t>(i));
        }
    } else {
        const auto t = std::move(truncates_.front());
        truncates_.pop_front();
        e->pos = t.pos;
        e->commit_time = t.commit_time;
        e->end_of_transaction = t.end_of_transaction;
    }
    {
        std::lock_guard lock(position_mutex_);
        e->sequence = ++sequence_;
        if (!e->pos.empty()) table_position_ = e->pos;
    }
    pending_.push_back(std::move(e));
}

void fanout_state::record_truncate() {
    if (truncates_.empty()) {
        throw error(errc::target_failed, "fanout: a truncate arrived that was never announced");
    }
    add_entry(change_action::truncate, nullptr, {}, {});
}

void fanout_state::record_difference(const memory::detail::table_store&,
                                     const memory::detail::table_store&) {
    // Clients do not get the difference: the journal starts a new epoch and every client
    // takes the new rows as a snapshot (their listeners see the difference there).
    swapped_ = true;
}

void fanout_state::announce() {
    if (pending_.empty()) return;
    journal_.append(std::exchange(pending_, {}));
}

// --- reads ---

table_identifier fanout_state::table() const {
    auto lock = core_.read_lock();
    return core_.table();
}

schema_ptr fanout_state::schema() const {
    auto lock = core_.read_lock();
    return core_.schema();
}

std::size_t fanout_state::row_count() const {
    auto lock = core_.read_lock();
    return core_.live() ? core_.live()->size() : 0;
}

std::optional<row> fanout_state::get(const std::vector<value>& key) const {
    auto lock = core_.read_lock();
    const auto* store = rows_of(core_.live());
    if (!store) return std::nullopt;
    if (key.size() != store->key_columns().size()) {
        throw error(errc::invalid_argument,
                    fmt::format("fanout: the key has {} columns, {} values given",
                                store->key_columns().size(), key.size()));
    }
    const auto views = memory::detail::views_of(key);
    const auto found = store->find(views);
    if (found.empty()) return std::nullopt;
    return found.to_row(core_.schema());
}

std::vector<row> fanout_state::rows() const {
    auto lock = core_.read_lock();
    std::vector<row> out;
    const auto* store = rows_of(core_.live());
    if (!store) return out;
    for (const auto r : store->in_key_order()) out.push_back(r.to_row(core_.schema()));
    return out;
}

std::uint64_t fanout_state::sequence() const {
    std::lock_guard lock(position_mutex_);
    return sequence_;
}

snapshot_ptr fanout_state::take_snapshot(bool keep) {
    if (!ready_) {
        throw error(errc::unsupported,
                    "fanout: the table is not ready (its baseline has not ended)");
    }
    auto snap = std::make_shared<table_snapshot>();
    {
        std::shared_lock epoch(epoch_mutex_);
        auto lock = core_.read_lock();
        const auto* store = rows_of(core_.live());
        snap->offsets.reserve(store->size());
        store->for_each([&](packed_view r) {
            const auto size = r.size_bytes();
            snap->offsets.push_back(snap->bytes.size());
            snap->bytes.insert(snap->bytes.end(), r.data(), r.data() + size);
        });
        snap->schema = core_.schema();
        snap->journal_id = journal_.current().id;
        std::lock_guard positions(position_mutex_);
        snap->sequence = sequence_;
        snap->pos = table_position_;
    }
    snap->created_at = std::chrono::system_clock::now();
    snap->id = fmt::format(
        "fanout-{}-{}", snap->sequence,
        std::chrono::duration_cast<std::chrono::milliseconds>(snap->created_at.time_since_epoch())
            .count());
    if (!keep) return snap;
    {
        std::lock_guard lock(snapshots_mutex_);
        // Nothing changed since the newest: keep that one (its id is what clients know).
        if (!snapshots_.empty() && snapshots_.front()->journal_id == snap->journal_id &&
            snapshots_.front()->sequence == snap->sequence) {
            return snapshots_.front();
        }
        if (!snapshots_.empty() && snapshots_.front()->id == snap->id) snap->id += "-2";
        snapshots_.push_front(snap);
    }
    if (auto* o = observer()) {
        o->on_fanout_snapshot_created(options_.pipeline_id, snap->id, snap->size());
    }
    prune_snapshots();
    return snap;
}

std::vector<snapshot_ptr> fanout_state::snapshots() const {
    std::lock_guard lock(snapshots_mutex_);
    return {snapshots_.begin(), snapshots_.end()};
}

snapshot_ptr fanout_state::find_snapshot(const std::string& id) const {
    std::lock_guard lock(snapshots_mutex_);
    for (const auto& s : snapshots_) {
        if (s->id == id) return s;
    }
    return nullptr;
}

void fanout_state::prune_snapshots() {
    const auto epoch = journal_.current().id;
    const auto now = std::chrono::system_clock::now();
    const auto& o = options_.snapshots;
    std::deque<snapshot_ptr> dropped;
    std::lock_guard lock(snapshots_mutex_);
    std::deque<snapshot_ptr> kept;
    for (auto& s : snapshots_) {
        const bool stale = s->journal_id != epoch ||
                           (o.keep_count > 0 && kept.size() >= o.keep_count) ||
                           (o.max_age.count() > 0 && now - s->created_at > o.max_age);
        (stale ? dropped : kept).push_back(std::move(s));
    }
    snapshots_.swap(kept);
}

// --- drain ---

void fanout_state::drain(std::string reason, time_point deadline,
                         std::vector<std::string> reconnect_to) {
    {
        std::lock_guard lock(drain_mutex_);
        // Idempotent: a second drain while draining keeps the first deadline unless it is
        // sooner.
        if (drain_.draining && drain_.deadline <= deadline) return;
        drain_.draining = true;
        drain_.reason = std::move(reason);
        drain_.deadline = deadline;
        drain_.reconnect_to = std::move(reconnect_to);
        ++drain_.generation;
    }
    journal_.notify_all();
}

void fanout_state::undrain() {
    {
        std::lock_guard lock(drain_mutex_);
        if (!drain_.draining) return;
        drain_ = drain_state{false, {}, {}, {}, drain_.generation + 1};
    }
    journal_.notify_all();
}

drain_state fanout_state::draining() const {
    std::lock_guard lock(drain_mutex_);
    return drain_;
}

}  // namespace laredo::targets::fanout::detail
