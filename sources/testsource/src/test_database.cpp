#include "test_database.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>

namespace laredo::sources::testsource {

namespace {

// Transaction ids start at 1001 so a test that mixes them up with positions fails.
constexpr std::uint64_t first_transaction_id = 1001;

std::vector<value> key_of(const row& r) {
    // A table without key columns is keyed by the whole row (REPLICA IDENTITY FULL).
    return r.schema()->key_indexes().empty() ? r.values() : r.key();
}

bool same_schema(const schema_ptr& a, const schema_ptr& b) {
    return a == b || (a && b && *a == *b);
}

std::string join(const std::vector<table_identifier>& tables) {
    std::string out;
    for (const auto& t : tables) out += (out.empty() ? "" : ", ") + t.to_string();
    return out;
}

// Numbers unset ordinals and makes the two key flags agree, so init() reports complete
// metadata whichever of them the test filled in.
std::vector<column_definition> normalize(std::vector<column_definition> columns) {
    int last_key = 0;
    for (const auto& c : columns) last_key = std::max(last_key, c.primary_key_ordinal);
    for (std::size_t i = 0; i < columns.size(); ++i) {
        auto& c = columns[i];
        if (c.ordinal_position == 0) c.ordinal_position = static_cast<int>(i) + 1;
        if (c.primary_key && c.primary_key_ordinal == 0) c.primary_key_ordinal = ++last_key;
        c.primary_key = c.primary_key_ordinal > 0;
        if (c.primary_key) c.nullable = false;
    }
    return columns;
}

row convert(const row& r, const schema_ptr& to) {
    std::vector<value> values;
    values.reserve(to->size());
    for (const auto& c : to->columns()) {
        const value* v = r.find(c.name);
        values.push_back(v ? *v : value{});
    }
    return row(to, std::move(values));
}

}  // namespace

void test_database::set_max_history(std::size_t n) {
    std::lock_guard lock(mutex_);
    max_history_ = n;
}

schema_ptr test_database::set_schema(const table_identifier& table,
                                     std::vector<column_definition> columns, bool must_exist) {
    auto schema = row_schema::make(normalize(std::move(columns)));
    std::lock_guard lock(mutex_);
    auto it = tables_.find(table);
    if (it == tables_.end()) {
        if (must_exist) {
            throw error(errc::unknown_table,
                        fmt::format("cannot alter {}: the test source has no such table",
                                    table.to_string()));
        }
        tables_.emplace(table, table_state{schema, {}});
        return schema;
    }
    std::map<std::vector<value>, row> converted;
    for (const auto& [key, r] : it->second.rows) {
        row c = convert(r, schema);
        converted.insert_or_assign(key_of(c), std::move(c));
    }
    it->second = table_state{schema, std::move(converted)};
    return schema;
}

schema_ptr test_database::schema_of(const table_identifier& table) const {
    std::lock_guard lock(mutex_);
    return table_locked(table).schema;
}

void test_database::add_row(const table_identifier& table, row r) {
    std::lock_guard lock(mutex_);
    change_event insert;
    insert.table = table;
    insert.new_values = std::move(r);
    validate_locked(insert);
    apply_locked(insert);
}

position test_database::commit(std::vector<change_event> changes) {
    std::lock_guard lock(mutex_);
    for (const auto& c : changes) validate_locked(c);
    for (const auto& c : changes) apply_locked(c);
    for (auto& c : changes) c.ends_transaction = false;
    append_locked(changes);
    return history_.back().pos;
}

position test_database::emit(std::vector<change_event> events) {
    std::lock_guard lock(mutex_);
    if (events.empty()) return head_locked();
    append_locked(events);
    return history_.back().pos;
}

test_database::snapshot test_database::take_snapshot(
    const std::vector<table_identifier>& tables) const {
    if (auto gone = missing(tables); !gone.empty()) {
        throw error(errc::unknown_table,
                    fmt::format("cannot baseline unknown tables: {}", join(gone)));
    }
    std::lock_guard lock(mutex_);
    snapshot out;
    out.at = head_locked();
    for (const auto& t : tables) {
        const auto& state = table_locked(t);
        std::vector<row> rows;
        rows.reserve(state.rows.size());
        for (const auto& [key, r] : state.rows) rows.push_back(r);
        out.tables.emplace_back(t, std::move(rows));
    }
    return out;
}

table_schemas test_database::schemas(const std::vector<table_identifier>& tables) const {
    if (auto gone = missing(tables); !gone.empty()) {
        throw error(
            errc::unknown_table,
            fmt::format("unknown tables: {} (the test source has no schema for them)", join(gone)));
    }
    std::lock_guard lock(mutex_);
    table_schemas out;
    for (const auto& t : tables) out[t] = table_locked(t).schema->columns();
    return out;
}

std::vector<table_identifier> test_database::missing(
    const std::vector<table_identifier>& tables) const {
    std::lock_guard lock(mutex_);
    std::vector<table_identifier> out;
    for (const auto& t : tables) {
        if (!tables_.contains(t)) out.push_back(t);
    }
    return out;
}

position test_database::head() const {
    std::lock_guard lock(mutex_);
    return head_locked();
}

position test_database::head_locked() const {
    if (!history_.empty()) return history_.back().pos;
    if (!discarded_through_.empty()) return discarded_through_;
    return mode_ == position_mode::sequence ? position::from_sequence(0)
                                            : position::from_pair(0, 0);
}

std::uint64_t test_database::entry_number_at(const position& pos) const {
    std::lock_guard lock(mutex_);
    const position newest = head_locked();
    if (compare(pos, newest) > 0) {
        throw error(errc::invalid_position,
                    fmt::format("position {} is beyond the newest change {} of the test source",
                                pos.debug_string(), newest.debug_string()));
    }
    if (compare(pos, discarded_through_) < 0) {
        throw error(errc::rebaseline_required,
                    fmt::format("the test source no longer has the changes after {}: its history "
                                "was discarded up to {}",
                                pos.debug_string(), discarded_through_.debug_string()));
    }
    const auto it = std::upper_bound(
        history_.begin(), history_.end(), pos,
        [this](const position& p, const change_event& e) { return compare(p, e.pos) < 0; });
    return discarded_ + static_cast<std::uint64_t>(it - history_.begin());
}

std::vector<change_event> test_database::read(std::uint64_t after, std::size_t max) const {
    std::lock_guard lock(mutex_);
    if (after < discarded_) {
        throw error(errc::rebaseline_required,
                    fmt::format("the test source discarded changes it had not delivered yet "
                                "(history now starts after {})",
                                discarded_through_.debug_string()));
    }
    const auto first = static_cast<std::size_t>(after - discarded_);
    const auto n = std::min(max, history_.size() - std::min(first, history_.size()));
    std::vector<change_event> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out.push_back(history_[first + i]);
    return out;
}

bool test_database::can_stream_from(const position& pos) const {
    std::lock_guard lock(mutex_);
    return compare(pos, head_locked()) <= 0 && compare(pos, discarded_through_) >= 0;
}

void test_database::ack(const position& pos, bool persist, const position& forget_through) {
    std::lock_guard lock(mutex_);
    if (persist && (!acked_ || compare(*acked_, pos) < 0)) acked_ = pos;
    if (!forget_through.empty()) forget_locked(forget_through);
}

std::optional<position> test_database::acked() const {
    std::lock_guard lock(mutex_);
    return acked_;
}

void test_database::discard(const position& through) {
    std::lock_guard lock(mutex_);
    const position newest = head_locked();
    if (through.empty()) {
        forget_locked(newest);
        return;
    }
    if (compare(through, newest) > 0) {
        throw error(errc::invalid_argument,
                    fmt::format("cannot discard history up to {}: the newest change is {}",
                                through.debug_string(), newest.debug_string()));
    }
    forget_locked(through);
}

test_database::table_state& test_database::table_locked(const table_identifier& table) {
    const auto it = tables_.find(table);
    if (it == tables_.end()) {
        throw error(errc::unknown_table,
                    fmt::format("the test source has no table {}", table.to_string()));
    }
    return it->second;
}

const test_database::table_state& test_database::table_locked(const table_identifier& table) const {
    return const_cast<test_database*>(this)->table_locked(table);
}

void test_database::validate_locked(const change_event& change) const {
    const auto& schema = table_locked(change.table).schema;
    const auto check = [&](const row& r, const char* what, bool required) {
        if (r.empty()) {
            if (!required) return;
            throw error(errc::invalid_argument,
                        fmt::format("{} of {} needs {}", to_string(change.action),
                                    change.table.to_string(), what));
        }
        if (!same_schema(r.schema(), schema)) {
            throw error(errc::schema_mismatch,
                        fmt::format("{} {} of {} does not have the table's current columns",
                                    to_string(change.action), what, change.table.to_string()));
        }
    };
    switch (change.action) {
        case change_action::insert:
            check(change.new_values, "a new row", true);
            break;
        case change_action::update:
            check(change.new_values, "a new row", true);
            check(change.old_values, "an old row", false);
            break;
        case change_action::delete_:
            check(change.old_values, "an identity row", true);
            break;
        case change_action::truncate:
            break;
    }
}

void test_database::apply_locked(const change_event& change) {
    auto& rows = table_locked(change.table).rows;
    switch (change.action) {
        case change_action::insert:
            rows.insert_or_assign(key_of(change.new_values), change.new_values);
            break;
        case change_action::update: {
            const auto it = rows.find(key_of(change.identity()));
            row merged = change.new_values;
            for (std::size_t i = 0; i < merged.size(); ++i) {
                // Like PostgreSQL's unchanged TOAST: the stored value stays.
                if (merged[i].is_unchanged())
                    merged.set(i, it != rows.end() ? it->second[i] : value{});
            }
            if (it != rows.end()) rows.erase(it);
            rows.insert_or_assign(key_of(merged), std::move(merged));
            break;
        }
        case change_action::delete_:
            rows.erase(key_of(change.old_values));
            break;
        case change_action::truncate:
            rows.clear();
            break;
    }
}

void test_database::append_locked(std::vector<change_event>& events) {
    const auto now = std::chrono::system_clock::now();
    events.back().ends_transaction = true;
    std::uint64_t row_number = 0;
    bool starts_transaction = true;
    for (auto& e : events) {
        if (starts_transaction) {
            ++last_commit_;
            row_number = 0;
        }
        e.pos = mode_ == position_mode::sequence ? position::from_sequence(++last_sequence_)
                                                 : position::from_pair(last_commit_, ++row_number);
        if (e.transaction_id == 0) e.transaction_id = first_transaction_id + last_commit_ - 1;
        if (e.timestamp == std::chrono::system_clock::time_point{}) e.timestamp = now;
        if (!e.commit_timestamp) e.commit_timestamp = now;
        starts_transaction = e.ends_transaction;
        history_.push_back(std::move(e));
    }
    appended_.fetch_add(events.size(), std::memory_order_release);
    while (max_history_ > 0 && history_.size() > max_history_) {
        discarded_through_ = std::move(history_.front().pos);
        history_.pop_front();
        ++discarded_;
    }
}

void test_database::forget_locked(const position& through) {
    while (!history_.empty() && compare(history_.front().pos, through) <= 0) {
        history_.pop_front();
        ++discarded_;
    }
    if (compare(discarded_through_, through) < 0) discarded_through_ = through;
}

}  // namespace laredo::sources::testsource
