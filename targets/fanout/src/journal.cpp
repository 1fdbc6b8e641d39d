#include "journal.hpp"

#include "laredo/replica/messages.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <random>

namespace laredo::targets::fanout::detail {

packed_copy::packed_copy(packed_view v) {
    if (v.empty()) return;
    size_ = v.size_bytes();
    bytes_ = std::make_unique<std::byte[]>(size_);
    std::memcpy(bytes_.get(), v.data(), size_);
}

std::size_t journal_entry::bytes() const noexcept {
    return sizeof(journal_entry) + old_row.size() + new_row.size() +
           unchanged.size() * sizeof(std::uint32_t);
}

const std::string& journal_entry::wire() const {
    std::call_once(encoded_, [this] {
        replica::journal_entry e;
        e.sequence = sequence;
        e.pos = pos;
        e.commit_time = commit_time;
        e.action = action;
        if (!old_row.empty()) e.old_row = old_row.view().to_row(schema);
        if (!new_row.empty()) e.new_row = new_row.view().to_row(schema);
        for (const auto c : unchanged) e.unchanged.push_back(schema->column(c).name);
        e.end_of_transaction = end_of_transaction;
        wire_ = replica::encode_entry(e);
    });
    return wire_;
}

journal::journal(journal_limits limits, position_compare compare)
    : limits_(limits), compare_(std::move(compare)) {}

std::string journal::reset(std::uint64_t base_sequence, const position& base_pos) {
    std::deque<entry_ptr> dropped;
    std::string id;
    {
        std::lock_guard lock(mutex_);
        // Unique across processes (a restarted server starts over): random bits and a counter.
        static thread_local std::mt19937_64 random{std::random_device{}()};
        id_ = fmt::format("{:016x}-{}", random(), ++epoch_counter_);
        dropped.swap(entries_);
        bytes_ = 0;
        head_sequence_ = base_sequence;
        pruned_through_ = base_sequence;
        base_position_ = base_pos;
        head_position_ = base_pos;
        boundary_sequence_ = base_sequence;
        boundary_position_ = base_pos;
        id = id_;
    }
    dropped.clear();
    notify();
    return id;
}

void journal::append(std::vector<entry_ptr> entries) {
    if (entries.empty()) return;
    std::size_t pruned = 0;
    {
        std::lock_guard lock(mutex_);
        for (auto& e : entries) {
            bytes_ += e->bytes();
            head_sequence_ = e->sequence;
            if (!e->pos.empty()) head_position_ = e->pos;
            if (e->end_of_transaction) {
                boundary_sequence_ = e->sequence;
                boundary_position_ = head_position_;
            }
            entries_.push_back(std::move(e));
        }
        pruned = prune_locked(std::chrono::system_clock::now());
    }
    if (pruned && on_pruned) on_pruned(pruned);
    notify();
}

void journal::reach(const position& pos) {
    {
        std::lock_guard lock(mutex_);
        if (pos.empty() || (!head_position_.empty() && compare_(pos, head_position_) <= 0)) return;
        // Only between transactions: the last entry appended ended one.
        if (boundary_sequence_ != head_sequence_) return;
        head_position_ = pos;
        boundary_position_ = pos;
    }
    notify();
}

std::size_t journal::prune_now() {
    std::size_t pruned = 0;
    {
        std::lock_guard lock(mutex_);
        pruned = prune_locked(std::chrono::system_clock::now());
    }
    if (pruned && on_pruned) on_pruned(pruned);
    return pruned;
}

std::size_t journal::prune_locked(time_point now) {
    // A pinned sequence keeps every entry after it, whatever the limits.
    const std::uint64_t keep_after =
        pinned_.empty() ? head_sequence_ : std::min(head_sequence_, *pinned_.begin());
    std::size_t pruned = 0;
    while (!entries_.empty()) {
        const auto& oldest = entries_.front();
        if (oldest->sequence > keep_after) break;
        const bool over =
            entries_.size() > limits_.max_entries || bytes_ > limits_.max_bytes ||
            (limits_.max_age.count() > 0 && now - oldest->appended_at > limits_.max_age);
        if (!over) break;
        bytes_ -= oldest->bytes();
        pruned_through_ = oldest->sequence;
        if (!oldest->pos.empty()) base_position_ = oldest->pos;
        entries_.pop_front();
        ++pruned;
    }
    pruned_total_ += pruned;
    return pruned;
}

journal::state journal::current() const {
    std::lock_guard lock(mutex_);
    state s;
    s.id = id_;
    s.head_sequence = head_sequence_;
    s.pruned_through = pruned_through_;
    s.oldest_sequence = entries_.empty() ? 0 : entries_.front()->sequence;
    s.base_position = base_position_;
    s.head_position = head_position_;
    s.boundary_sequence = boundary_sequence_;
    s.boundary_position = boundary_position_;
    s.entries = entries_.size();
    s.bytes = bytes_;
    s.pins = pins_.size();
    s.pruned_total = pruned_total_;
    return s;
}

journal::read_result journal::read_after(const std::string& id, std::uint64_t after,
                                         std::size_t max_entries) const {
    read_result out;
    std::lock_guard lock(mutex_);
    if (id != id_) {
        out.status = read_status::epoch_changed;
        return out;
    }
    if (after < pruned_through_) {
        out.status = read_status::gap;
        return out;
    }
    if (entries_.empty() || after >= head_sequence_) return out;
    // Sequences are consecutive within an epoch: the entry after `after` is at a known index.
    const std::size_t first = after + 1 - entries_.front()->sequence;
    const std::size_t last = std::min(entries_.size(), first + max_entries);
    out.entries.assign(entries_.begin() + static_cast<std::ptrdiff_t>(first),
                       entries_.begin() + static_cast<std::ptrdiff_t>(last));
    return out;
}

std::optional<std::uint64_t> journal::resume_after_position(const position& pos) const {
    std::lock_guard lock(mutex_);
    // An unknown base (a table baselined without a position) covers nothing.
    if (pos.empty() || base_position_.empty()) return std::nullopt;
    if (compare_(pos, base_position_) < 0 || compare_(pos, head_position_) > 0) {
        return std::nullopt;
    }
    // The last entry at or before `pos` (positions grow with sequences).
    const auto it = std::upper_bound(
        entries_.begin(), entries_.end(), pos,
        [&](const position& p, const entry_ptr& e) { return compare_(p, e->pos) < 0; });
    if (it == entries_.begin()) return pruned_through_;
    return (*std::prev(it))->sequence;
}

bool journal::covers_sequence(const std::string& id, std::uint64_t seq) const {
    std::lock_guard lock(mutex_);
    return !id.empty() && id == id_ && seq >= pruned_through_ && seq <= head_sequence_;
}

journal::pin_id journal::pin(std::uint64_t after) {
    std::lock_guard lock(mutex_);
    const pin_id id = next_pin_++;
    pins_[id] = after;
    pinned_.insert(after);
    return id;
}

void journal::move_pin(pin_id id, std::uint64_t after) {
    std::size_t pruned = 0;
    {
        std::lock_guard lock(mutex_);
        const auto it = pins_.find(id);
        if (it == pins_.end() || it->second == after) return;
        pinned_.erase(pinned_.find(it->second));
        it->second = after;
        pinned_.insert(after);
        // What the pin held back may go now.
        pruned = prune_locked(std::chrono::system_clock::now());
    }
    if (pruned && on_pruned) on_pruned(pruned);
}

void journal::unpin(pin_id id) {
    std::size_t pruned = 0;
    {
        std::lock_guard lock(mutex_);
        const auto it = pins_.find(id);
        if (it == pins_.end()) return;
        pinned_.erase(pinned_.find(it->second));
        pins_.erase(it);
        pruned = prune_locked(std::chrono::system_clock::now());
    }
    if (pruned && on_pruned) on_pruned(pruned);
}

void journal::subscribe(const std::weak_ptr<journal_listener>& listener) {
    std::lock_guard lock(mutex_);
    std::erase_if(listeners_, [](const auto& w) { return w.expired(); });
    listeners_.push_back(listener);
}

void journal::notify_all() { notify(); }

void journal::notify() {
    std::vector<std::shared_ptr<journal_listener>> live;
    {
        std::lock_guard lock(mutex_);
        live.reserve(listeners_.size());
        for (const auto& w : listeners_) {
            if (auto l = w.lock()) live.push_back(std::move(l));
        }
    }
    for (const auto& l : live) l->on_journal_changed();
}

}  // namespace laredo::targets::fanout::detail
