#pragma once

// The clients connected to one fan-out target: registered when they connect (refused past
// max_clients), each with a record its session updates and status reads.

#include "laredo/targets/fanout/fanout_target.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace laredo::targets::fanout::detail {

struct client_record {
    std::uint64_t session = 0;
    std::string client_id;
    std::string remote;
    time_point connected_at{};
    std::atomic<client_state> state{client_state::handshaking};
    std::atomic<std::uint64_t> sequence{0};
    std::atomic<std::size_t> queue_bytes{0};
    std::atomic<std::size_t> filters{0};

    void set_mode(std::string m) {
        std::lock_guard lock(mutex_);
        mode_ = std::move(m);
    }
    std::string mode() const {
        std::lock_guard lock(mutex_);
        return mode_;
    }

  private:
    mutable std::mutex mutex_;
    std::string mode_;
};

class client_registry {
  public:
    explicit client_registry(std::size_t max_clients) : max_(max_clients) {}

    // A new record, or nullptr when max_clients are connected.
    std::shared_ptr<client_record> add(std::string client_id, std::string remote);
    void remove(std::uint64_t session);
    std::size_t size() const;
    std::size_t max() const noexcept { return max_; }
    // Every client; `head` is the journal's newest sequence (for `behind`).
    std::vector<client_status> list(std::uint64_t head) const;

  private:
    const std::size_t max_;
    mutable std::mutex mutex_;
    std::uint64_t next_session_ = 1;
    std::map<std::uint64_t, std::shared_ptr<client_record>> clients_;
};

}  // namespace laredo::targets::fanout::detail
