#include "laredo/targets/memory/detail/compiled_core.hpp"

#include "table_core.hpp"
#include "table_layout.hpp"

#include "laredo/error.hpp"
#include "laredo/targets/memory/packed_row.hpp"

#include <fmt/format.h>

#include <atomic>
#include <map>
#include <mutex>

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

// Entries are keyed by the row's identity (the table's key, else the key fields) so that
// updates and deletes find them from change.identity(); by_key indexes them by the key
// fields when those differ.
struct state final : table_store {
    struct entry {
        packed_row packed;
        erased_object object;
        std::vector<value> key;
    };
    std::map<std::vector<value>, entry> by_identity;
    std::map<std::vector<value>, std::vector<value>> by_key;

    store_ptr make_empty() const override { return std::make_unique<state>(); }
    std::size_t size() const noexcept override { return by_identity.size(); }
};

const state* state_of(const table_store* s) noexcept { return static_cast<const state*>(s); }

table_core_options core_options(const compiled_core_options& options) {
    if (!options.compile) throw error(errc::invalid_config, "memory.compiled needs a compiler");
    table_core_options out;
    out.type_name = "memory.compiled";
    out.max_atomic_transaction_rows = options.max_atomic_transaction_rows;
    return out;
}

}  // namespace

class compiled_core::impl final : public table_writer {
  public:
    explicit impl(compiled_core_options options)
        : options_(std::move(options)),
          listeners_(std::make_shared<listener_registry<const void*, const void*>>()),
          core_(core_options(options_), *this) {}

    void init(const table_identifier& table, schema_ptr schema);

    // --- table_writer ---
    void apply(table_store& store, const change_event& c, bool record) override;
    void put(table_store& store, const row& r, bool record) override {
        put(static_cast<state&>(store), r, nullptr, record);
    }
    void record_truncate() override { notes_.push_back({nullptr, nullptr}); }
    void record_difference(const table_store& before, const table_store& after) override;
    bool has_listeners() const noexcept override { return !listeners_->empty(); }
    void announce() override {
        const auto call = [](const auto& fn, const note& n) {
            fn(n.old_object.get(), n.new_object.get());
        };
        announce_to(*listeners_, notes_, call, "memory.compiled", core_.table());
    }

    const state* live() const noexcept { return state_of(core_.live()); }
    const schema_ptr& schema() const noexcept { return core_.schema(); }

    const compiled_core_options options_;
    std::vector<std::size_t> identity_columns_;
    std::vector<std::size_t> key_columns_;
    bool separate_keys_ = false;  // key fields differ from the identity columns
    std::shared_ptr<listener_registry<const void*, const void*>> listeners_;
    table_core core_;

    mutable std::mutex error_mutex_;
    std::optional<std::string> last_error_;
    std::atomic<std::uint64_t> rejected_{0};

  private:
    struct note {
        erased_object old_object;
        erased_object new_object;
    };

    // Stores `r` (merged, complete as far as known) in `s`, replacing the entry with
    // identity `previous` (an update that may change the key) or the one with r's identity.
    void put(state& s, const row& r, const std::vector<value>* previous, bool record);
    void remove(state& s, const std::vector<value>& identity, bool record);
    void reject(const row& r, const std::string& why);

    std::vector<note> notes_;  // recorded, not yet announced (strand only)
};

compiled_core::compiled_core(compiled_core_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

compiled_core::~compiled_core() = default;

void compiled_core::impl::init(const table_identifier& table, schema_ptr schema) {
    if (!schema) throw error(errc::invalid_argument, "memory.compiled: on_init needs a schema");
    key_columns_ = resolve_key(*schema, options_.key_fields, table, "memory.compiled");
    identity_columns_ = schema->key_indexes().empty() ? key_columns_ : schema->key_indexes();
    separate_keys_ = identity_columns_ != key_columns_;
    // Not meant to be handed to a new engine: a second init starts from nothing.
    core_.start(table, std::move(schema), std::make_unique<state>(), false);
}

void compiled_core::init(const table_identifier& table, schema_ptr schema) {
    impl_->init(table, std::move(schema));
}

void compiled_core::impl::reject(const row& r, const std::string& why) {
    ++rejected_;
    std::lock_guard lock(error_mutex_);
    last_error_ = fmt::format("memory.compiled ({}): the compiler rejected the row {}: {}",
                              core_.table().to_string(), r.debug_string(), why);
}

void compiled_core::impl::remove(state& s, const std::vector<value>& identity, bool record) {
    const auto it = s.by_identity.find(identity);
    if (it == s.by_identity.end()) return;
    if (separate_keys_) s.by_key.erase(it->second.key);
    if (record) notes_.push_back({it->second.object, nullptr});
    s.by_identity.erase(it);
}

void compiled_core::impl::put(state& s, const row& r, const std::vector<value>* previous,
                              bool record) {
    auto identity = values_of(r, *schema(), identity_columns_);
    auto previous_it = previous ? s.by_identity.find(*previous) : s.by_identity.end();
    if (previous_it != s.by_identity.end() && previous_it->first == identity) {
        previous_it = s.by_identity.end();  // same row: handled as the entry with r's identity
    }

    if (options_.filter && !options_.filter(r)) {
        // The new version is filtered out: whatever it replaces is gone.
        if (previous_it != s.by_identity.end()) remove(s, previous_it->first, record);
        remove(s, identity, record);
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

    auto key = separate_keys_ ? values_of(r, *schema(), key_columns_) : std::vector<value>{};
    if (separate_keys_) {
        const auto owner = s.by_key.find(key);
        if (owner != s.by_key.end() && owner->second != identity &&
            (!previous || owner->second != *previous)) {
            throw error(errc::target_failed,
                        fmt::format("memory.compiled ({}): key {} already belongs to the row {}; "
                                    "the row {} cannot take it",
                                    core_.table().to_string(), describe(key),
                                    describe(owner->second), describe(identity)));
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
            if (record) notes_.push_back({same->second.object, nullptr});
        } else {
            replaced = same->second.object;
        }
        if (separate_keys_) s.by_key.erase(same->second.key);
        same->second = std::move(fresh);
    } else {
        s.by_identity.emplace(identity, std::move(fresh));
    }
    if (separate_keys_) s.by_key.insert_or_assign(std::move(key), std::move(identity));
    if (record) notes_.push_back({std::move(replaced), std::move(object)});
}

void compiled_core::impl::apply(table_store& store, const change_event& c, bool record) {
    auto& s = static_cast<state&>(store);
    switch (c.action) {
        case change_action::insert:
        case change_action::update: {
            const bool is_update = c.action == change_action::update;
            const auto previous =
                values_of(is_update ? c.identity() : c.new_values, *schema(), identity_columns_);
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
                    filled = row(schema(), std::move(values));
                    merged = &filled;
                }
            }
            put(s, *merged, is_update ? &previous : nullptr, record);
            return;
        }
        case change_action::delete_:
            remove(s, values_of(c.identity(), *schema(), identity_columns_), record);
            return;
        case change_action::truncate:
            return;  // table_core empties the store
    }
}

void compiled_core::impl::record_difference(const table_store& before_store,
                                            const table_store& after_store) {
    const state& before = *state_of(&before_store);
    const state& after = *state_of(&after_store);
    auto a = before.by_identity.begin();
    auto b = after.by_identity.begin();
    while (a != before.by_identity.end() || b != after.by_identity.end()) {
        const auto order = a == before.by_identity.end()  ? std::strong_ordering::greater
                           : b == after.by_identity.end() ? std::strong_ordering::less
                                                          : a->first <=> b->first;
        if (order < 0) {
            notes_.push_back({a->second.object, nullptr});
            ++a;
        } else if (order > 0) {
            notes_.push_back({nullptr, b->second.object});
            ++b;
        } else {
            if (!(a->second.packed.view() == b->second.packed.view())) {
                notes_.push_back({a->second.object, b->second.object});
            }
            ++a;
            ++b;
        }
    }
}

// --- the writes table_core drives ---

void compiled_core::baseline_rows(const table_identifier& table, std::span<const row> rows) {
    impl_->core_.baseline_rows(table, rows);
}

void compiled_core::baseline_complete(const table_identifier& table, const position& pos) {
    impl_->core_.baseline_complete(table, pos);
}

void compiled_core::changes(const table_identifier& table, std::span<const change_event> changes) {
    impl_->core_.changes(table, changes);
}

void compiled_core::begin_rebuild(const table_identifier& table) {
    impl_->core_.begin_rebuild(table);
}

void compiled_core::commit_rebuild(const table_identifier& table) {
    impl_->core_.commit_rebuild(table);
}

void compiled_core::restore(const table_snapshot_info& info, std::vector<row> rows,
                            const position& pos) {
    // Rows are filtered and compiled again.
    impl_->core_.restore(info, std::move(rows), pos);
}

// --- state and reads ---

bool compiled_core::is_durable() const noexcept { return impl_->core_.is_durable(); }

bool compiled_core::is_mid_transaction() const noexcept {
    return impl_->core_.is_mid_transaction();
}

std::optional<position> compiled_core::confirmed_position() const {
    return impl_->core_.confirmed_position();
}

std::optional<position> compiled_core::persisted_position() const {
    return impl_->core_.persisted_position();
}

std::uint64_t compiled_core::rejected_count() const noexcept { return impl_->rejected_.load(); }

std::vector<row> compiled_core::export_rows(const table_identifier& table) const {
    impl_->core_.check_table(table);
    const auto lock = impl_->core_.read_lock();
    const state& live = *impl_->live();
    std::vector<row> out;
    out.reserve(live.by_identity.size());
    for (const auto& [identity, e] : live.by_identity) {
        out.push_back(e.packed.to_row(impl_->schema()));
    }
    return out;
}

std::optional<row> compiled_core::find(const row& identity) const {
    const auto lock = impl_->core_.read_lock();
    const schema_ptr& schema = impl_->schema();
    if (!schema) return std::nullopt;
    const state& s = *state_of(impl_->core_.writing());
    const auto it = s.by_identity.find(values_of(identity, *schema, impl_->identity_columns_));
    if (it == s.by_identity.end()) return std::nullopt;
    return it->second.packed.to_row(schema);
}

erased_object compiled_core::get(const std::vector<value>& key) const {
    const auto lock = impl_->core_.read_lock();
    if (!impl_->schema()) return nullptr;
    const auto& key_columns = impl_->key_columns_;
    if (key.size() != key_columns.size()) {
        throw error(errc::invalid_argument,
                    fmt::format("memory.compiled: the key has {} fields but {} values were given",
                                key_columns.size(), key.size()));
    }
    const state& live = *impl_->live();
    const std::vector<value>* identity = &key;
    if (impl_->separate_keys_) {
        const auto k = live.by_key.find(key);
        if (k == live.by_key.end()) return nullptr;
        identity = &k->second;
    }
    const auto it = live.by_identity.find(*identity);
    return it == live.by_identity.end() ? nullptr : it->second.object;
}

std::size_t compiled_core::count() const {
    const auto lock = impl_->core_.read_lock();
    const state* live = impl_->live();
    return live ? live->by_identity.size() : 0;
}

void compiled_core::for_each(const std::function<void(const erased_object&)>& fn) const {
    const auto lock = impl_->core_.read_lock();
    const state* live = impl_->live();
    if (!live) return;
    if (impl_->separate_keys_) {
        for (const auto& [key, identity] : live->by_key) fn(live->by_identity.at(identity).object);
        return;
    }
    for (const auto& [identity, e] : live->by_identity) fn(e.object);
}

std::vector<erased_object> compiled_core::objects() const {
    std::vector<erased_object> out;
    for_each([&](const erased_object& o) { out.push_back(o); });
    return out;
}

std::optional<std::string> compiled_core::last_error() const {
    std::lock_guard lock(impl_->error_mutex_);
    return impl_->last_error_;
}

schema_ptr compiled_core::schema() const {
    const auto lock = impl_->core_.read_lock();
    return impl_->schema();
}

subscription compiled_core::listen(std::function<void(const void*, const void*)> fn) {
    return impl_->listeners_->add(std::move(fn));
}

}  // namespace laredo::targets::memory::detail
