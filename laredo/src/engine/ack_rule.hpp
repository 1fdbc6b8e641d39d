#pragma once

#include "laredo/position.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

namespace laredo::detail {

// What a source may be ACKed, from what its pipelines report: plain data, no I/O (the
// ack_coordinator drives it and calls the source). The rule:
//
//  - a pipeline reaches what it confirmed (never backwards);
//  - a pipeline with nothing pending (it confirmed everything it was expected to) has also
//    reached everything the source delivered (a commit or a heartbeat): an idle table never
//    holds the ACK back;
//  - a pipeline that has confirmed nothing holds the ACK back; one out of the ACK (ERROR,
//    dropped changes) does not count;
//  - the ACK is the lowest position reached, at most the cap (the newest snapshot's position
//    while snapshots restore the source's targets).
class ack_rule {
  public:
    // <0, 0, >0 as the source orders positions.
    using compare_fn = std::function<int(const position&, const position&)>;

    ack_rule(std::size_t pipelines, compare_fn compare);

    void confirm(std::size_t pipeline, const position& pos);
    // The pipeline was handed work after which it will confirm `pos`.
    void expect(std::size_t pipeline, const position& pos);
    // The source has delivered everything up to `pos`.
    void reached(const position& pos);
    void set_member(std::size_t pipeline, bool member);
    // Never past `cap`; moves forward only.
    void set_cap(const position& cap);

    // The position every counted pipeline has reached, or nullopt when one has confirmed
    // nothing (or none counts).
    std::optional<position> ackable() const;
    // `a` is after `b` (anything is after nothing).
    bool ahead(const position& a, const std::optional<position>& b) const;

  private:
    compare_fn compare_;
    std::vector<std::optional<position>> confirmed_;
    std::vector<std::optional<position>> expected_;
    std::vector<bool> member_;
    std::optional<position> source_reached_;
    std::optional<position> cap_;
};

}  // namespace laredo::detail
