#pragma once

#include "laredo/change_event.hpp"
#include "laredo/position.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::targets::httpsync::detail {

// One request to send: a batch of rows or changes, or a control message.
struct batch {
    std::string path;  // "/changes", "/baseline/batch", "/baseline/start", "/baseline/complete"
    std::string body;
    std::size_t rows = 0;  // changes or baseline rows it carries
    // Everything up to here is durable once the endpoint answered 2xx: the end of the last
    // whole transaction in the batch, or the baseline's position. Empty: nothing new.
    std::optional<position> confirms;
    // Copies of the changes, for the dead-letter store (when one is configured).
    std::vector<change_event> changes;
};

struct batch_limits {
    std::size_t rows = 100;
    std::size_t bytes = 1u << 20;
};

// Collects encoded rows or changes into request bodies of at most `limits` (a single item
// larger than the byte limit goes alone). A transaction stays in one batch unless it alone
// exceeds the limits: then it is cut into full batches, and the changes of a cut-off part
// carry a null commit position (its end comes in a later batch). Sans-io: the caller passes
// the time and takes the batches that became ready.
class batcher {
  public:
    using clock = std::chrono::steady_clock;

    // The body of a batch is prefix + items joined by ',' + suffix.
    batcher(std::string path, std::string prefix, std::string suffix, batch_limits limits);

    // A complete item (a baseline row).
    void add_item(std::string json, clock::time_point now);
    // A change, encoded open (payload_encoder::open_change). `position_json` is its position
    // as JSON: when the change ends its transaction, every open change of that transaction
    // is closed with it as their commit position. `keep` copies the change into the batch.
    void add_change(std::string open_json, const change_event& change,
                    std::string_view position_json, bool keep, clock::time_point now);

    // The whole transactions waiting (and whole items) go into a batch now: the flush timer.
    void flush_complete(clock::time_point now);
    // Everything waiting goes into a batch now; an unfinished transaction's changes get a
    // null commit position.
    void flush_all();

    // Batches that are ready, oldest first.
    bool has_ready() const noexcept { return !ready_.empty(); }
    batch pop_ready();

    // What waits to become a batch.
    bool empty() const noexcept { return items_.empty(); }
    std::size_t size() const noexcept { return items_.size(); }
    bool has_complete() const noexcept { return complete_ > 0; }
    // When the oldest waiting item arrived (meaningful when !empty()).
    clock::time_point since() const noexcept { return since_; }
    // Rows in ready batches and waiting.
    std::size_t queued_rows() const noexcept;

  private:
    bool over(std::size_t extra_bytes) const noexcept;
    void close_open(std::string_view commit_json);
    // Moves the first n items (n >= complete_) into a ready batch.
    void emit(std::size_t n);
    void recount();

    const std::string path_;
    const std::string prefix_;
    const std::string suffix_;
    const batch_limits limits_;

    std::vector<std::string> items_;
    std::vector<change_event> kept_;  // parallel to the kept items (changes only)
    std::size_t complete_ = 0;        // items_[0, complete_) are whole transactions or rows
    std::size_t bytes_ = 0;           // of the body items_ would make, open items estimated
    std::size_t open_estimate_ = 0;   // what closing the open items is expected to add
    std::optional<position> last_end_;
    clock::time_point since_{};
    std::deque<batch> ready_;
};

}  // namespace laredo::targets::httpsync::detail
