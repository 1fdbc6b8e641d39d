#include "laredo/deadletter/memory_store.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace laredo::deadletter {

namespace {

std::uint64_t row_footprint(const row& r) noexcept {
    // The schema is shared with the pipeline's other rows: count only the values.
    return r.size() * sizeof(value) + r.raw_size();
}

}  // namespace

memory_store::memory_store(memory_store_options options) : options_(options) {}

std::uint64_t memory_store::footprint(const dead_letter& l) noexcept {
    return sizeof(dead_letter) + l.pipeline_id.size() + l.position.size() + l.error_code.size() +
           l.error_message.size() + l.change.table.schema.size() + l.change.table.table.size() +
           row_footprint(l.change.new_values) + row_footprint(l.change.old_values);
}

std::uint64_t memory_store::write(dead_letter letter) {
    if (letter.pipeline_id.empty()) {
        throw error(errc::invalid_argument, "dead letter without a pipeline id");
    }
    const std::uint64_t size = footprint(letter);
    if (letter.written_at == std::chrono::system_clock::time_point{})
        letter.written_at = std::chrono::system_clock::now();
    std::lock_guard lock(mutex_);
    if (options_.max_bytes != 0 && bytes_ + size > options_.max_bytes) {
        throw error(errc::buffer_overflow,
                    fmt::format("dead-letter store full: the letter for pipeline {} needs {} "
                                "bytes, {} of the limit of {} bytes are used",
                                letter.pipeline_id, size, bytes_, options_.max_bytes));
    }
    auto& p = pipelines_[letter.pipeline_id];
    letter.sequence = p.next_sequence++;
    p.letters.push_back(std::move(letter));
    bytes_ += size;
    return p.letters.back().sequence;
}

std::vector<dead_letter> memory_store::list(const std::string& pipeline_id,
                                            std::size_t limit) const {
    std::lock_guard lock(mutex_);
    const auto it = pipelines_.find(pipeline_id);
    if (it == pipelines_.end()) return {};
    const auto& letters = it->second.letters;
    const std::size_t n = limit == 0 ? letters.size() : std::min(limit, letters.size());
    return {letters.begin(), letters.begin() + static_cast<std::ptrdiff_t>(n)};
}

std::size_t memory_store::count(const std::string& pipeline_id) const {
    std::lock_guard lock(mutex_);
    const auto it = pipelines_.find(pipeline_id);
    return it == pipelines_.end() ? 0 : it->second.letters.size();
}

std::vector<std::string> memory_store::pipelines() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [id, p] : pipelines_) {
        if (!p.letters.empty()) out.push_back(id);
    }
    return out;
}

void memory_store::remove_through(const std::string& pipeline_id, std::uint64_t sequence) {
    std::lock_guard lock(mutex_);
    const auto it = pipelines_.find(pipeline_id);
    if (it == pipelines_.end()) return;
    auto& letters = it->second.letters;
    // Letters are in sequence order: the removed ones are a prefix.
    const auto end = std::find_if(letters.begin(), letters.end(),
                                  [&](const dead_letter& l) { return l.sequence > sequence; });
    for (auto l = letters.begin(); l != end; ++l) bytes_ -= footprint(*l);
    letters.erase(letters.begin(), end);
}

std::size_t memory_store::purge(const std::string& pipeline_id) {
    std::lock_guard lock(mutex_);
    const auto it = pipelines_.find(pipeline_id);
    if (it == pipelines_.end()) return 0;
    auto& letters = it->second.letters;
    const std::size_t n = letters.size();
    for (const auto& l : letters) bytes_ -= footprint(l);
    // The entry stays so the pipeline's sequences keep increasing.
    letters.clear();
    return n;
}

std::uint64_t memory_store::bytes_used() const {
    std::lock_guard lock(mutex_);
    return bytes_;
}

}  // namespace laredo::deadletter
