#include "transaction_batcher.hpp"

#include "laredo/error.hpp"

namespace laredo::targets::memory::detail {

transaction_batcher::transaction_batcher(std::size_t max_atomic_rows) : max_(max_atomic_rows) {
    if (max_ == 0) {
        throw error(errc::invalid_argument, "max_atomic_transaction_rows must be at least 1");
    }
}

void transaction_batcher::reset() noexcept {
    open_.clear();
    held_.clear();
    mid_transaction_ = false;
}

void transaction_batcher::flush(std::vector<const change_event*>& group, const apply_fn& apply) {
    if (group.empty()) return;
    apply(group);
    mid_transaction_ = !group.back()->ends_transaction;
    group.clear();
}

void transaction_batcher::feed(std::span<const change_event> changes, const apply_fn& apply) {
    std::vector<const change_event*> ready;  // complete transactions
    try {
        for (const auto& c : changes) {
            open_.push_back(&c);
            if (c.ends_transaction) {
                ready.insert(ready.end(), open_.begin(), open_.end());
                open_.clear();
                if (ready.size() >= max_) flush(ready, apply);
            } else if (open_.size() >= max_) {
                // With its commit still to come this transaction exceeds max_ changes: too
                // large to show atomically. What is complete goes first, then this chunk.
                flush(ready, apply);
                flush(open_, apply);
            }
        }
        flush(ready, apply);
        if (mid_transaction_) {
            // Readers already see part of this transaction: holding the rest buys nothing.
            flush(open_, apply);
        }
    } catch (...) {
        reset();
        throw;
    }
    if (open_.empty()) {
        held_.clear();
        return;
    }
    // The open transaction continues in a later batch: copy what `changes` owns.
    std::vector<change_event> held;
    held.reserve(open_.size());
    for (const auto* c : open_) held.push_back(*c);
    held_ = std::move(held);
    open_.clear();
    for (const auto& c : held_) open_.push_back(&c);
}

}  // namespace laredo::targets::memory::detail
