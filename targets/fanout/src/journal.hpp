#pragma once

// The fan-out target's journal: every change applied to the table, numbered by a sequence
// that only grows, with its source position, kept for clients that resume. Pruned by count,
// bytes and age, but never past a pinned sequence (a client still reading from there).
//
// Epochs: when the table is replaced as a whole (baseline, rebuild, restore) the journal
// starts over under a new id; sequences keep growing, so a client's sequence from an older
// epoch is never mistaken for one of this epoch, and a client that follows the journal sees
// the id change and takes a new snapshot.
//
// Thread-safe: the pipeline appends on its strand, sessions read, pin and subscribe from
// theirs. Listeners are told of every change outside the lock.

#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/targets/memory/packed_row.hpp"
#include "laredo/types.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace laredo::targets::fanout::detail {

using memory::packed_view;
using time_point = std::chrono::system_clock::time_point;
using position_compare = std::function<int(const position&, const position&)>;

// A copy of one packed row's bytes (a journal entry outlives the stored row it copied).
class packed_copy {
  public:
    packed_copy() = default;
    explicit packed_copy(packed_view v);
    packed_view view() const noexcept { return packed_view(bytes_.get()); }
    bool empty() const noexcept { return !bytes_; }
    std::size_t size() const noexcept { return size_; }

  private:
    std::unique_ptr<std::byte[]> bytes_;
    std::size_t size_ = 0;
};

// One applied change. Rows are whole (unchanged columns merged from the stored row); the
// action is what the change did to the table (an insert over an existing key is an UPDATE, an
// update of a missing row an INSERT; a delete of a missing row is no entry at all).
struct journal_entry {
    std::uint64_t sequence = 0;
    position pos;
    std::optional<time_point> commit_time;
    change_action action = change_action::insert;
    packed_copy old_row;
    packed_copy new_row;
    std::vector<std::uint32_t> unchanged;  // columns the upstream did not resend
    bool end_of_transaction = true;
    schema_ptr schema;
    time_point appended_at{};

    // What the entry costs the journal (its rows' bytes plus a fixed overhead).
    std::size_t bytes() const noexcept;

    // The entry's element of an `entries` message, encoded by the first session that needs it.
    const std::string& wire() const;

  private:
    mutable std::once_flag encoded_;
    mutable std::string wire_;
};

using entry_ptr = std::shared_ptr<const journal_entry>;

struct journal_limits {
    std::size_t max_entries = 100'000;
    std::size_t max_bytes = 256u << 20;
    std::chrono::milliseconds max_age{24 * 3600 * 1000};
};

// Something to wake when the journal changes (a session). Called outside the journal's lock,
// from the appending thread: it must only schedule work.
class journal_listener {
  public:
    virtual ~journal_listener() = default;
    virtual void on_journal_changed() = 0;
};

class journal {
  public:
    journal(journal_limits limits, position_compare compare);

    // --- the writer (the pipeline's strand) ---

    // Starts a new epoch: no entries, the table as of `base_pos`, sequences going on from
    // `base_sequence`. Returns the new journal id.
    std::string reset(std::uint64_t base_sequence, const position& base_pos);
    // Appends entries of consecutive sequences (after the newest), then prunes.
    void append(std::vector<entry_ptr> entries);
    // The source reached `pos` with nothing more for the table (a heartbeat at a transaction
    // boundary): positions up to it are covered.
    void reach(const position& pos);
    // Prunes by age (also done on every append). Returns how many entries went.
    std::size_t prune_now();

    // --- readers (any thread) ---

    struct state {
        std::string id;
        std::uint64_t head_sequence = 0;    // the newest entry's (or the base's) sequence
        std::uint64_t pruned_through = 0;   // entries after this one are all here
        std::uint64_t oldest_sequence = 0;  // the oldest entry held, 0 when none
        position base_position;             // the table as of pruned_through
        position head_position;             // the newest position reached
        // The newest transaction boundary: an entry that ended a transaction, or a position
        // reached between transactions.
        std::uint64_t boundary_sequence = 0;
        position boundary_position;
        std::size_t entries = 0;
        std::size_t bytes = 0;
        std::size_t pins = 0;
        std::uint64_t pruned_total = 0;
    };
    state current() const;

    enum class read_status : std::uint8_t { ok, epoch_changed, gap };
    struct read_result {
        read_status status = read_status::ok;
        std::vector<entry_ptr> entries;
    };
    // Up to `max_entries` entries after `after` of epoch `id`: epoch_changed when the journal
    // started over since, gap when entries after `after` were pruned.
    read_result read_after(const std::string& id, std::uint64_t after,
                           std::size_t max_entries) const;

    // Whether a client that holds the table as of `pos` can follow from the journal: the
    // sequence to resume after, or nullopt (not covered: before what the journal holds, after
    // the newest position reached, or no position known for the base).
    std::optional<std::uint64_t> resume_after_position(const position& pos) const;
    // Whether a client at sequence `seq` of epoch `id` can follow from the journal (a sequence
    // ahead of the journal's head is not).
    bool covers_sequence(const std::string& id, std::uint64_t seq) const;

    // Pins: entries after a pinned sequence are never pruned, whatever the limits.
    using pin_id = std::uint64_t;
    pin_id pin(std::uint64_t after);
    void move_pin(pin_id id, std::uint64_t after);
    void unpin(pin_id id);

    void subscribe(const std::weak_ptr<journal_listener>& listener);
    // Wakes every listener (a drain, a new epoch).
    void notify_all();

    // Called with the number of entries each prune removed (the observer's
    // on_fanout_journal_pruned). Set before use.
    std::function<void(std::uint64_t)> on_pruned;

  private:
    std::size_t prune_locked(time_point now);
    void notify();

    const journal_limits limits_;
    const position_compare compare_;

    mutable std::mutex mutex_;
    std::string id_;
    std::uint64_t epoch_counter_ = 0;
    std::deque<entry_ptr> entries_;
    std::size_t bytes_ = 0;
    std::uint64_t head_sequence_ = 0;
    std::uint64_t pruned_through_ = 0;
    position base_position_;
    position head_position_;
    std::uint64_t boundary_sequence_ = 0;
    position boundary_position_;
    std::uint64_t pruned_total_ = 0;

    pin_id next_pin_ = 1;
    std::map<pin_id, std::uint64_t> pins_;
    std::multiset<std::uint64_t> pinned_;

    std::vector<std::weak_ptr<journal_listener>> listeners_;
};

}  // namespace laredo::targets::fanout::detail
