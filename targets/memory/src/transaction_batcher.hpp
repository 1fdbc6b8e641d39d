#pragma once

// Cuts a stream of change batches into groups a target applies under one write lock, so
// readers never observe part of a transaction of up to `max_atomic_rows` changes:
//  - complete transactions are grouped together (up to about max_atomic_rows changes, a
//    transaction is never split to fit);
//  - the open transaction at the end of a batch is held (copied) until its commit marker
//    arrives in a later batch;
//  - a transaction that grows beyond max_atomic_rows is applied in chunks of that size,
//    and mid_transaction() reports it until its last chunk is applied.

#include "laredo/change_event.hpp"

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

namespace laredo::targets::memory::detail {

class transaction_batcher {
  public:
    // max_atomic_rows must be at least 1.
    explicit transaction_batcher(std::size_t max_atomic_rows);

    // Called with each group, in order; the last change of a group ends a transaction unless
    // the group is a chunk of a large one. The pointers are valid during the call only.
    using apply_fn = std::function<void(std::span<const change_event* const> group)>;

    // Feeds one batch. When `apply` throws, whatever was open or held is dropped and the
    // exception propagates.
    void feed(std::span<const change_event> changes, const apply_fn& apply);

    // Part of an open transaction is held, not applied.
    bool holding() const noexcept { return !open_.empty(); }
    // Part of a transaction has been applied, the rest has not.
    bool mid_transaction() const noexcept { return mid_transaction_; }
    std::size_t held_count() const noexcept { return open_.size(); }

    // Forgets the open transaction (held changes included): a rebuild, restore or new engine
    // starts from a transaction boundary.
    void reset() noexcept;

  private:
    void flush(std::vector<const change_event*>& group, const apply_fn& apply);

    std::size_t max_;
    std::vector<const change_event*> open_;  // the open transaction, in held_ or the batch
    std::vector<change_event> held_;
    bool mid_transaction_ = false;
};

}  // namespace laredo::targets::memory::detail
