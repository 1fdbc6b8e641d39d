#include "batcher.hpp"

#include "payloads.hpp"

namespace laredo::targets::httpsync::detail {

batcher::batcher(std::string path, std::string prefix, std::string suffix, batch_limits limits)
    : path_(std::move(path)),
      prefix_(std::move(prefix)),
      suffix_(std::move(suffix)),
      limits_(limits),
      bytes_(prefix_.size() + suffix_.size()) {}

bool batcher::over(std::size_t extra_bytes) const noexcept {
    return items_.size() + 1 > limits_.rows || bytes_ + extra_bytes > limits_.bytes;
}

void batcher::add_item(std::string json, clock::time_point now) {
    const std::size_t extra = json.size() + (items_.empty() ? 0 : 1);
    if (!items_.empty() && over(extra)) emit(items_.size());
    if (items_.empty()) since_ = now;
    bytes_ += json.size() + (items_.empty() ? 0 : 1);
    items_.push_back(std::move(json));
    complete_ = items_.size();
    if (items_.size() >= limits_.rows || bytes_ >= limits_.bytes) emit(items_.size());
}

void batcher::add_change(std::string open_json, const change_event& change,
                         std::string_view position_json, bool keep, clock::time_point now) {
    // The commit position is usually as long as the change's own.
    const std::size_t tail = payload_encoder::close_size(position_json);
    auto extra = [&] { return open_json.size() + tail + (items_.empty() ? 0 : 1); };
    if (!items_.empty() && over(extra())) {
        // Send the whole transactions first; the one in progress stays together...
        if (complete_ > 0) emit(complete_);
        // ...unless it alone exceeds the limits: then it is cut here.
        if (!items_.empty() && over(extra())) {
            close_open("null");
            emit(items_.size());
        }
    }
    if (items_.empty()) since_ = now;
    bytes_ += extra();
    open_estimate_ += tail;
    items_.push_back(std::move(open_json));
    if (keep) kept_.push_back(change);
    if (change.ends_transaction) {
        close_open(position_json);
        complete_ = items_.size();
        last_end_ = change.pos;
        if (items_.size() >= limits_.rows || bytes_ >= limits_.bytes) emit(items_.size());
    }
}

void batcher::close_open(std::string_view commit_json) {
    for (std::size_t i = complete_; i < items_.size(); ++i)
        payload_encoder::close_change(items_[i], commit_json);
    const std::size_t open = items_.size() - complete_;
    bytes_ = bytes_ - open_estimate_ + open * payload_encoder::close_size(commit_json);
    open_estimate_ = 0;
}

void batcher::flush_complete(clock::time_point now) {
    if (complete_ == 0) return;
    emit(complete_);
    since_ = now;  // an unfinished transaction left behind waits from now
}

void batcher::flush_all() {
    if (items_.empty()) return;
    if (complete_ < items_.size()) close_open("null");
    emit(items_.size());
}

void batcher::emit(std::size_t n) {
    batch b;
    b.path = path_;
    b.rows = n;
    std::size_t size = prefix_.size() + suffix_.size() + (n ? n - 1 : 0);
    for (std::size_t i = 0; i < n; ++i) size += items_[i].size();
    b.body.reserve(size);
    b.body += prefix_;
    for (std::size_t i = 0; i < n; ++i) {
        if (i) b.body += ',';
        b.body += items_[i];
    }
    b.body += suffix_;
    if (complete_ > 0) b.confirms = last_end_;
    if (!kept_.empty()) {
        const std::size_t k = std::min(n, kept_.size());
        b.changes.assign(std::make_move_iterator(kept_.begin()),
                         std::make_move_iterator(kept_.begin() + static_cast<std::ptrdiff_t>(k)));
        kept_.erase(kept_.begin(), kept_.begin() + static_cast<std::ptrdiff_t>(k));
    }
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(n));
    complete_ = 0;
    recount();
    ready_.push_back(std::move(b));
}

void batcher::recount() {
    bytes_ = prefix_.size() + suffix_.size();
    for (std::size_t i = 0; i < items_.size(); ++i) bytes_ += items_[i].size() + (i ? 1 : 0);
    // What is left is an unfinished transaction: its items are open.
    if (items_.empty()) open_estimate_ = 0;
    bytes_ += open_estimate_;
}

batch batcher::pop_ready() {
    batch b = std::move(ready_.front());
    ready_.pop_front();
    return b;
}

std::size_t batcher::queued_rows() const noexcept {
    std::size_t n = items_.size();
    for (const auto& b : ready_) n += b.rows;
    return n;
}

}  // namespace laredo::targets::httpsync::detail
