#include "ack_rule.hpp"

namespace laredo::detail {

ack_rule::ack_rule(std::size_t pipelines, compare_fn compare)
    : compare_(std::move(compare)),
      confirmed_(pipelines),
      expected_(pipelines),
      member_(pipelines, true) {}

bool ack_rule::ahead(const position& a, const std::optional<position>& b) const {
    return !b || compare_(a, *b) > 0;
}

void ack_rule::confirm(std::size_t pipeline, const position& pos) {
    if (pos.empty()) return;
    auto& slot = confirmed_.at(pipeline);
    if (ahead(pos, slot)) slot = pos;  // never backwards
}

void ack_rule::expect(std::size_t pipeline, const position& pos) {
    if (!pos.empty()) expected_.at(pipeline) = pos;
}

void ack_rule::reached(const position& pos) {
    if (!pos.empty() && ahead(pos, source_reached_)) source_reached_ = pos;
}

void ack_rule::set_member(std::size_t pipeline, bool member) { member_.at(pipeline) = member; }

void ack_rule::set_cap(const position& cap) {
    if (!cap.empty() && ahead(cap, cap_)) cap_ = cap;
}

std::optional<position> ack_rule::ackable() const {
    std::optional<position> low;
    for (std::size_t i = 0; i < confirmed_.size(); ++i) {
        if (!member_[i]) continue;
        if (!confirmed_[i]) return std::nullopt;  // a live pipeline has confirmed nothing yet
        const bool idle = !expected_[i] || !ahead(*expected_[i], confirmed_[i]);
        const auto& at = idle && source_reached_ && ahead(*source_reached_, confirmed_[i])
                             ? source_reached_
                             : confirmed_[i];
        if (!low || compare_(*at, *low) < 0) low = at;
    }
    if (low && cap_ && compare_(*low, *cap_) > 0) low = cap_;
    return low;
}

}  // namespace laredo::detail
