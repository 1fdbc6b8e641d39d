#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace laredo::targets::memory {

namespace detail {
class listener_registry_base;
}

// A registered change listener. Destroying the subscription (or calling unsubscribe())
// removes the listener; release() keeps it registered for the life of the target instead.
// A subscription may outlive its target (unsubscribing is then a no-op).
class subscription {
  public:
    subscription() noexcept = default;
    subscription(subscription&& other) noexcept;
    subscription& operator=(subscription&& other) noexcept;
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    ~subscription() { unsubscribe(); }

    // Removes the listener. When it returns, the listener is not running on another thread
    // and will not be called again. Safe to call from inside the listener itself. Do not
    // call it while holding something the listener waits for (it waits for a call in
    // progress to finish).
    void unsubscribe() noexcept;
    // Forgets the listener without removing it.
    void release() noexcept;
    bool active() const noexcept { return !registry_.expired() && id_ != 0; }

  private:
    friend class detail::listener_registry_base;
    subscription(std::weak_ptr<detail::listener_registry_base> registry, std::uint64_t id) noexcept
        : registry_(std::move(registry)), id_(id) {}

    std::weak_ptr<detail::listener_registry_base> registry_;
    std::uint64_t id_ = 0;
};

namespace detail {

// Keeps the listeners of one target and calls them. Listeners are added and removed from
// any thread; dispatch() runs on the writer's thread, outside the target's data lock, so a
// listener may read the target. Removal waits for a dispatch in progress on another thread
// (a recursive mutex, so a listener may unsubscribe itself).
class listener_registry_base : public std::enable_shared_from_this<listener_registry_base> {
  public:
    virtual ~listener_registry_base() = default;

    bool empty() const noexcept { return count_.load(std::memory_order_acquire) == 0; }
    void remove(std::uint64_t id) noexcept;

  protected:
    struct entry_base {
        std::uint64_t id = 0;
        bool active = true;  // guarded by dispatch_mutex_
        virtual ~entry_base() = default;
    };

    subscription add(std::shared_ptr<entry_base> entry);
    // For each of `events` events in order, calls `call(entry, event)` for each active
    // listener in registration order. Every call runs even when one throws; the first
    // exception is rethrown at the end.
    void for_each_entry(std::size_t events,
                        const std::function<void(entry_base&, std::size_t)>& call);

  private:
    std::recursive_mutex dispatch_mutex_;
    std::mutex list_mutex_;
    std::vector<std::shared_ptr<entry_base>> entries_;
    std::uint64_t next_id_ = 1;
    std::atomic<std::size_t> count_{0};
};

template <class... Args>
class listener_registry final : public listener_registry_base {
  public:
    using function = std::function<void(Args...)>;

    subscription add(function fn) {
        auto e = std::make_shared<entry>();
        e->fn = std::move(fn);
        return listener_registry_base::add(std::move(e));
    }

    // Calls every listener with each element of `events`, in order; `call(fn, event)`
    // unpacks one event into the listener's arguments.
    template <class Events, class Call>
    void dispatch(const Events& events, Call call) {
        if (events.empty() || empty()) return;
        for_each_entry(events.size(), [&](entry_base& e, std::size_t i) {
            call(static_cast<entry&>(e).fn, events[i]);
        });
    }

  private:
    struct entry : entry_base {
        function fn;
    };
};

}  // namespace detail

}  // namespace laredo::targets::memory
