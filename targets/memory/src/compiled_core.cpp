#include "laredo/targets/memory/detail/compiled_core.hpp"

#include "table_layout.hpp"
#include "transaction_batcher.hpp"

#include "laredo/error.hpp"
#include "laredo/targets/memory/packed_row.hpp"

#include <fmt/format.h>

#include <map>

namespace laredo::targets::memory::detail {

namespace {

std::vector<value> values_of(const row& r, const row_schema& schema,
                             const std::vector<std::size_t>& columns) {
    std::vector<value> out;
    out.reserve(columns.size());
    for (const auto& v : key_of(r, schema, columns)) out.push_back(v.to_value());
    return out;
}

std::string describe(const std::vector<value>& key) {
    std::string out = "(";
    for (std::size_t i = 0; i < key.size(); ++i) {
        if (i) out += ", ";
        out += key[i].to_string();
    }
    return out + ")";
}

}  // namespace

// Entries are keyed by the row's identity (the table's key, else the key fields) so that
// updates and deletes find them from change.identity(); by_key indexes them by the key
// fields when those differ.
struct compiled_core::state {
    struct entry {
        packed_row packed;
        erased_object object;
        std::vector<value> key;
    };
    std::map<std::vector<value>, entry> by_identity;
    std::map<std::vector<value>, std::vector<value>> by_key;
};

compiled_core::compiled_core(compiled_core_options options)
    : options_(std::move(options)),
      listeners_(std::make_shared<listener_registry<const void*, const void*>>()) {
    if (!options_.compile) throw error(errc::invalid_config, "memory.compiled needs a compiler");
    if (options_.max_atomic_transaction_rows == 0) {
        throw error(errc::invalid_config,
                    "memory.compiled: max_atomic_transaction_rows must be at least 1");
    }
    batcher_ = std::make_unique<transaction_batcher>(options_.max_atomic_transaction_rows);
    live_ = make_state();
}

compiled_core::~compiled_core() = default;

std::unique_ptr<compiled_core::state> compiled_core::make_state() const {
    return std::make_unique<state>();
}

void compiled_core::init(const table_identifier& table, schema_ptr schema) {
    if (!schema) throw error(errc::invalid_argument, "memory.compiled: on_init needs a schema");
    table_ = table;
    key_columns_ = resolve_key(*schema, options_.key_fields, table, "memory.compiled");
    identity_columns_ = schema->key_indexes().empty() ? key_columns_ : schema->key_indexes();
    separate_keys_ = identity_columns_ != key_columns_;
    // Not meant to be handed to a new engine: a second init starts from nothing.
    std::unique_ptr<state> old_live;
    std::unique_ptr<state> old_shadow;
    {
        std::unique_lock lock(mutex_);
        old_live = std::exchange(live_, make_state());
        old_shadow = std::move(shadow_);
        shadow_.reset();
        schema_ = std::move(schema);
    }
    accepted_schema_.reset();
    batcher_->reset();
    mid_transaction_ = false;
    holding_ = false;
    std::lock_guard lock(status_mutex_);
    applied_.reset();
    rebuild_applied_.reset();
    restored_.reset();
    initialized_ = true;
}

void compiled_core::check_table(const table_identifier& table) const {
    if (!initialized_) {
        throw error(errc::invalid_argument,
                    fmt::format("memory.compiled: {} was used before on_init", table.to_string()));
    }
    if (table != table_) {
        throw error(errc::invalid_argument, fmt::format("memory.compiled serves {} only, not {}",
                                                        table_.to_string(), table.to_string()));
    }
}

void compiled_core::check_row(const row& r) {
    if (r.schema() == schema_ || (r.schema() && r.schema() == accepted_schema_)) return;
    check_row_schema(r, schema_, table_);
    accepted_schema_ = r.schema();
}

compiled_core::state& compiled_core::write_state() noexcept { return shadow_ ? *shadow_ : *live_; }

void compiled_core::reject(const row& r, const std::string& why) {
    ++rejected_;
    std::lock_guard lock(status_mutex_);
    last_error_ = fmt::format("memory.compiled ({}): the compiler rejected the row {}: {}",
                              table_.to_string(), r.debug_string(), why);
}

void compiled_core::remove(state& s, const std::vector<value>& identity, std::vector<note>* notes) {
    const auto it = s.by_identity.find(identity);
    if (it == s.by_identity.end()) return;
    if (separate_keys_) s.by_key.erase(it->second.key);
    if (notes) notes->push_back({it->second.object, nullptr});
    s.by_identity.erase(it);
}

void compiled_core::put(state& s, const row& r, const std::vector<value>* previous,
                        std::vector<note>* notes) {
    auto identity = values_of(r, *schema_, identity_columns_);
    auto previous_it = previous ? s.by_identity.find(*previous) : s.by_identity.end();
    if (previous_it != s.by_identity.end() && previous_it->first == identity) {
        previous_it = s.by_identity.end();  // same row: handled as the entry with r's identity
    }

    if (options_.filter && !options_.filter(r)) {
        // The new version is filtered out: whatever it replaces is gone.
        if (previous_it != s.by_identity.end()) remove(s, previous_it->first, notes);
        remove(s, identity, notes);
        return;
    }
    erased_object object;
    try {
        object = options_.compile(r);
    } catch (const std::exception& e) {
        reject(r, e.what());
        return;
    } catch (...) {
        reject(r, "an exception that is not a std::exception");
        return;
    }

    auto key = separate_keys_ ? values_of(r, *schema_, key_columns_) : std::vector<value>{};
    if (separate_keys_) {
        const auto owner = s.by_key.find(key);
        if (owner != s.by_key.end() && owner->second != identity &&
            (!previous || owner->second != *previous)) {
            throw error(errc::target_failed,
                        fmt::format("memory.compiled ({}): key {} already belongs to the row {}; "
                                    "the row {} cannot take it",
                                    table_.to_string(), describe(key), describe(owner->second),
                                    describe(identity)));
        }
    }

    erased_object replaced;
    if (previous_it != s.by_identity.end()) {
        replaced = previous_it->second.object;
        if (separate_keys_) s.by_key.erase(previous_it->second.key);
        s.by_identity.erase(previous_it);
    }
    state::entry fresh{packed_row::encode(r.values()), object, key};
    const auto same = s.by_identity.find(identity);
    if (same != s.by_identity.end()) {
        if (replaced) {
            // The key moved onto an existing row: that row is gone.
            if (notes) notes->push_back({same->second.object, nullptr});
        } else {
            replaced = same->second.object;
        }
        if (separate_keys_) s.by_key.erase(same->second.key);
        same->second = std::move(fresh);
    } else {
        s.by_identity.emplace(identity, std::move(fresh));
    }
    if (separate_keys_) s.by_key.insert_or_assign(std::move(key), std::move(identity));
    if (notes) notes->push_back({std::move(replaced), std::move(object)});
}

void compiled_core::apply_change(state& s, const change_event& c, std::vector<note>* notes) {
    switch (c.action) {
        case change_action::insert:
        case change_action::update: {
            check_row(c.new_values);
            const bool is_update = c.action == change_action::update;
            const auto previous =
                values_of(is_update ? c.identity() : c.new_values, *schema_, identity_columns_);
            const row* merged = &c.new_values;
            row filled;
            if (!c.new_values.is_complete()) {
                // Unchanged (TOAST) columns come from the stored version, when there is one.
                const auto it = s.by_identity.find(previous);
                if (it != s.by_identity.end()) {
                    auto values = c.new_values.values();
                    const packed_view stored = it->second.packed.view();
                    for (std::size_t i = 0; i < values.size(); ++i) {
                        if (values[i].is_unchanged()) values[i] = stored[i].to_value();
                    }
                    filled = row(schema_, std::move(values));
                    merged = &filled;
                }
            }
            put(s, *merged, is_update ? &previous : nullptr, notes);
            return;
        }
        case change_action::delete_:
            remove(s, values_of(c.identity(), *schema_, identity_columns_), notes);
            return;
        case change_action::truncate: {
            auto emptied = make_state();
            std::swap(*emptied, s);
            // Freed once the lock is released.
            garbage_.push_back(std::move(emptied));
            if (notes) notes->push_back({nullptr, nullptr});
            return;
        }
    }
}

void compiled_core::changes(const table_identifier& table, std::span<const change_event> changes) {
    check_table(table);
    std::vector<note> notes;
    const bool notify_wanted = !listeners_->empty();
    const auto apply = [&](std::span<const change_event* const> group) {
        {
            std::unique_lock lock(mutex_);
            std::vector<note>* sink = notify_wanted && !shadow_ ? &notes : nullptr;
            for (const auto* c : group) apply_change(write_state(), *c, sink);
        }
        if (group.back()->ends_transaction) {
            std::lock_guard lock(status_mutex_);
            (shadow_ ? rebuild_applied_ : applied_) = group.back()->pos;
        }
    };
    std::exception_ptr failure;
    try {
        batcher_->feed(changes, apply);
    } catch (...) {
        failure = std::current_exception();
    }
    mid_transaction_ = batcher_->mid_transaction();
    holding_ = batcher_->holding();
    garbage_.clear();
    if (failure) {
        try {
            notify(notes);
        } catch (...) {
        }
        std::rethrow_exception(failure);
    }
    notify(notes);
}

void compiled_core::baseline_rows(const table_identifier& table, std::span<const row> rows) {
    check_table(table);
    std::vector<note> notes;
    const bool notify_wanted = !listeners_->empty();
    std::exception_ptr failure;
    {
        std::unique_lock lock(mutex_);
        std::vector<note>* sink = notify_wanted && !shadow_ ? &notes : nullptr;
        try {
            for (const auto& r : rows) {
                check_row(r);
                put(write_state(), r, nullptr, sink);
            }
        } catch (...) {
            failure = std::current_exception();
        }
    }
    if (failure) {
        try {
            notify(notes);
        } catch (...) {
        }
        std::rethrow_exception(failure);
    }
    notify(notes);
}

void compiled_core::baseline_complete(const table_identifier& table, const position& pos) {
    check_table(table);
    std::lock_guard lock(status_mutex_);
    (shadow_ ? rebuild_applied_ : applied_) = pos;
}

void compiled_core::begin_rebuild(const table_identifier& table) {
    check_table(table);
    batcher_->reset();
    mid_transaction_ = false;
    holding_ = false;
    std::unique_ptr<state> abandoned;
    {
        std::unique_lock lock(mutex_);
        abandoned = std::exchange(shadow_, make_state());
    }
    std::lock_guard lock(status_mutex_);
    rebuild_applied_.reset();
}

void compiled_core::commit_rebuild(const table_identifier& table) {
    check_table(table);
    if (!shadow_) return;
    std::vector<note> notes;
    if (!listeners_->empty()) notes = diff(*live_, *shadow_);
    std::unique_ptr<state> old;
    {
        std::unique_lock lock(mutex_);
        old = std::exchange(live_, std::move(shadow_));
        shadow_.reset();
    }
    {
        std::lock_guard lock(status_mutex_);
        applied_ = std::exchange(rebuild_applied_, std::nullopt);
    }
    old.reset();
    notify(notes);
}

std::vector<compiled_core::note> compiled_core::diff(const state& before,
                                                     const state& after) const {
    std::vector<note> notes;
    auto a = before.by_identity.begin();
    auto b = after.by_identity.begin();
    while (a != before.by_identity.end() || b != after.by_identity.end()) {
        const auto order = a == before.by_identity.end()  ? std::strong_ordering::greater
                           : b == after.by_identity.end() ? std::strong_ordering::less
                                                          : a->first <=> b->first;
        if (order < 0) {
            notes.push_back({a->second.object, nullptr});
            ++a;
        } else if (order > 0) {
            notes.push_back({nullptr, b->second.object});
            ++b;
        } else {
            if (!(a->second.packed.view() == b->second.packed.view())) {
                notes.push_back({a->second.object, b->second.object});
            }
            ++a;
            ++b;
        }
    }
    return notes;
}

void compiled_core::restore(const table_snapshot_info& info, std::vector<row> rows,
                            const position& pos) {
    check_table(info.table);
    auto fresh = make_state();
    for (const auto& r : rows) {
        check_row(r);
        put(*fresh, r, nullptr, nullptr);  // filtered and compiled again
    }
    rows.clear();
    std::unique_ptr<state> old_live;
    std::unique_ptr<state> old_shadow;
    {
        std::unique_lock lock(mutex_);
        old_live = std::exchange(live_, std::move(fresh));
        old_shadow = std::move(shadow_);
        shadow_.reset();
    }
    batcher_->reset();
    mid_transaction_ = false;
    holding_ = false;
    std::lock_guard lock(status_mutex_);
    applied_ = pos;
    restored_ = pos;
    rebuild_applied_.reset();
}

std::vector<row> compiled_core::export_rows(const table_identifier& table) const {
    check_table(table);
    std::shared_lock lock(mutex_);
    std::vector<row> out;
    out.reserve(live_->by_identity.size());
    for (const auto& [identity, e] : live_->by_identity) out.push_back(e.packed.to_row(schema_));
    return out;
}

std::optional<row> compiled_core::find(const row& identity) const {
    std::shared_lock lock(mutex_);
    if (!schema_) return std::nullopt;
    const state& s = shadow_ ? *shadow_ : *live_;
    const auto it = s.by_identity.find(values_of(identity, *schema_, identity_columns_));
    if (it == s.by_identity.end()) return std::nullopt;
    return it->second.packed.to_row(schema_);
}

std::optional<position> compiled_core::confirmed_position() const {
    std::lock_guard lock(status_mutex_);
    return applied_;
}

std::optional<position> compiled_core::persisted_position() const {
    std::lock_guard lock(status_mutex_);
    return restored_;
}

erased_object compiled_core::get(const std::vector<value>& key) const {
    std::shared_lock lock(mutex_);
    if (!schema_) return nullptr;
    if (key.size() != key_columns_.size()) {
        throw error(errc::invalid_argument,
                    fmt::format("memory.compiled: the key has {} fields but {} values were given",
                                key_columns_.size(), key.size()));
    }
    const std::vector<value>* identity = &key;
    if (separate_keys_) {
        const auto k = live_->by_key.find(key);
        if (k == live_->by_key.end()) return nullptr;
        identity = &k->second;
    }
    const auto it = live_->by_identity.find(*identity);
    return it == live_->by_identity.end() ? nullptr : it->second.object;
}

std::size_t compiled_core::count() const {
    std::shared_lock lock(mutex_);
    return live_->by_identity.size();
}

void compiled_core::for_each(const std::function<void(const erased_object&)>& fn) const {
    std::shared_lock lock(mutex_);
    if (separate_keys_) {
        for (const auto& [key, identity] : live_->by_key) {
            fn(live_->by_identity.at(identity).object);
        }
        return;
    }
    for (const auto& [identity, e] : live_->by_identity) fn(e.object);
}

std::vector<erased_object> compiled_core::objects() const {
    std::vector<erased_object> out;
    for_each([&](const erased_object& o) { out.push_back(o); });
    return out;
}

std::optional<std::string> compiled_core::last_error() const {
    std::lock_guard lock(status_mutex_);
    return last_error_;
}

schema_ptr compiled_core::schema() const {
    std::shared_lock lock(mutex_);
    return schema_;
}

subscription compiled_core::listen(std::function<void(const void*, const void*)> fn) {
    return listeners_->add(std::move(fn));
}

void compiled_core::notify(const std::vector<note>& notes) {
    try {
        listeners_->dispatch(notes, [](const auto& fn, const note& n) {
            fn(n.old_object.get(), n.new_object.get());
        });
    } catch (const std::exception& e) {
        throw error(errc::target_failed,
                    fmt::format("a change listener of memory.compiled ({}) failed: {}",
                                table_.to_string(), e.what()));
    } catch (...) {
        throw error(
            errc::target_failed,
            fmt::format("a change listener of memory.compiled ({}) failed", table_.to_string()));
    }
}

}  // namespace laredo::targets::memory::detail
