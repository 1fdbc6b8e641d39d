#pragma once

#include "ack_rule.hpp"
#include "async_signal.hpp"

#include "laredo/observer.hpp"
#include "laredo/sync_source.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace laredo::detail {

// Sends a source its ACK: what ack_rule says every pipeline still in the ACK has reached,
// never moving backwards.
//
// Lives on the source's executor: confirm/membership calls are posted there by pipelines,
// and run() calls source.ack() there, coalescing advances that arrive while an ack is in
// flight.
class ack_coordinator {
  public:
    ack_coordinator(std::string source_id, sync_source& source, std::size_t pipelines,
                    engine_observer* observer);

    void confirm(std::size_t pipeline, const position& pos);
    // The pipeline was handed work after which it will confirm `pos`; until it does, it has
    // work pending.
    void expect(std::size_t pipeline, const position& pos);
    // The source has delivered everything up to `pos` (a commit, or a heartbeat).
    void reached(const position& pos);
    void set_member(std::size_t pipeline, bool member);
    // Never ACK past `cap`: the newest snapshot's position for the source, when its targets
    // restore from snapshots (a restart must still be able to stream from there). Moves
    // forward only.
    void set_cap(const position& cap);

    // The ack loop; returns after stop().
    boost::asio::awaitable<void> run();
    // Waits until every advance computed so far is acked (or the loop stops or fails).
    boost::asio::awaitable<void> flush();
    void stop();

    // Thread-safe.
    std::optional<position> last_acked() const;

  private:
    void advance();
    bool ahead(const position& a, const std::optional<position>& b) const {
        return rule_.ahead(a, b);
    }

    const std::string source_id_;
    sync_source& source_;
    engine_observer* const observer_;
    ack_rule rule_;
    std::optional<position> wanted_;  // what should be acked next
    bool stopped_ = false;
    bool failing_ = false;
    async_signal wake_;
    async_signal progress_;
    mutable std::mutex acked_mutex_;
    std::optional<position> acked_;
};

}  // namespace laredo::detail
