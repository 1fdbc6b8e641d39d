#include "laredo/targets/memory/detail/rw_lock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>

using laredo::targets::memory::detail::rw_lock;

TEST(rw_lock, readers_share_and_writers_exclude) {
    rw_lock lock;
    {
        std::shared_lock a(lock);
        EXPECT_TRUE(lock.try_lock_shared());
        lock.unlock_shared();
        EXPECT_FALSE(lock.try_lock());
    }
    std::unique_lock w(lock);
    EXPECT_FALSE(lock.try_lock_shared());
}

// With std::shared_mutex (glibc: readers first), readers that keep coming hold a writer off
// forever. Here a waiting writer stops new readers.
TEST(rw_lock, a_waiting_writer_goes_before_new_readers) {
    rw_lock lock;
    lock.lock_shared();
    std::thread writer([&] { std::unique_lock w(lock); });
    bool refused = false;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!refused && std::chrono::steady_clock::now() < until) {
        if (lock.try_lock_shared()) {
            lock.unlock_shared();  // the writer is not queued yet
            std::this_thread::yield();
        } else {
            refused = true;
        }
    }
    lock.unlock_shared();
    writer.join();
    EXPECT_TRUE(refused);
}
