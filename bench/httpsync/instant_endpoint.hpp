#pragma once

// An HTTP/1.1 endpoint on loopback that answers every POST with 200 at once (Beast, blocking,
// a thread per connection): the receiver of the HTTP sync benchmark, so the figure is the
// target's own cost plus loopback, not a real receiver's work.

#include <cstdint>
#include <memory>
#include <string>

namespace laredo::bench {

class instant_endpoint {
  public:
    instant_endpoint();
    ~instant_endpoint();
    instant_endpoint(const instant_endpoint&) = delete;
    instant_endpoint& operator=(const instant_endpoint&) = delete;

    // "http://127.0.0.1:PORT".
    std::string url() const;
    // Requests answered so far.
    std::uint64_t requests() const;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace laredo::bench
