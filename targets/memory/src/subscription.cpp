#include "laredo/targets/memory/subscription.hpp"

#include <algorithm>
#include <utility>

namespace laredo::targets::memory {

subscription::subscription(subscription&& other) noexcept
    : registry_(std::move(other.registry_)), id_(std::exchange(other.id_, 0)) {}

subscription& subscription::operator=(subscription&& other) noexcept {
    if (this != &other) {
        unsubscribe();
        registry_ = std::move(other.registry_);
        id_ = std::exchange(other.id_, 0);
    }
    return *this;
}

void subscription::unsubscribe() noexcept {
    if (auto registry = registry_.lock(); registry && id_ != 0) registry->remove(id_);
    release();
}

void subscription::release() noexcept {
    registry_.reset();
    id_ = 0;
}

namespace detail {

subscription listener_registry_base::add(std::shared_ptr<entry_base> entry) {
    std::lock_guard lock(list_mutex_);
    entry->id = next_id_++;
    const auto id = entry->id;
    entries_.push_back(std::move(entry));
    count_.store(entries_.size(), std::memory_order_release);
    return subscription(weak_from_this(), id);
}

void listener_registry_base::remove(std::uint64_t id) noexcept {
    // Waits for a dispatch running on another thread; re-entrant from inside a listener.
    std::lock_guard dispatch_lock(dispatch_mutex_);
    std::lock_guard lock(list_mutex_);
    const auto it =
        std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e->id == id; });
    if (it == entries_.end()) return;
    (*it)->active = false;  // a dispatch on this thread holds a copy of the list
    entries_.erase(it);
    count_.store(entries_.size(), std::memory_order_release);
}

void listener_registry_base::for_each_entry(
    std::size_t events, const std::function<void(entry_base&, std::size_t)>& call) {
    std::lock_guard dispatch_lock(dispatch_mutex_);
    std::vector<std::shared_ptr<entry_base>> snapshot;
    {
        std::lock_guard lock(list_mutex_);
        snapshot = entries_;
    }
    std::exception_ptr first;
    for (std::size_t i = 0; i < events; ++i) {
        for (const auto& e : snapshot) {
            if (!e->active) continue;
            try {
                call(*e, i);
            } catch (...) {
                if (!first) first = std::current_exception();
            }
        }
    }
    if (first) std::rethrow_exception(first);
}

}  // namespace detail

}  // namespace laredo::targets::memory
