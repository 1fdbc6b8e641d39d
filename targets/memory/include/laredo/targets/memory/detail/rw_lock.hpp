#pragma once

// A reader/writer lock that prefers the writer. std::shared_mutex on glibc prefers readers:
// threads that read a target continuously (a query API, a dashboard) could hold the
// pipeline's writer off indefinitely, and replication would stall. With this lock a waiting
// writer goes before new readers.
//
// Consequence: a thread must not take the shared lock twice (a writer waiting between the
// two would deadlock it), so callbacks run under the shared lock must not read the target.

#include <pthread.h>

#include <system_error>

namespace laredo::targets::memory::detail {

class rw_lock {
  public:
    rw_lock() {
        pthread_rwlockattr_t attr;
        pthread_rwlockattr_init(&attr);
#if defined(__GLIBC__)
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
        const int rc = pthread_rwlock_init(&lock_, &attr);
        pthread_rwlockattr_destroy(&attr);
        if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_rwlock_init");
    }
    ~rw_lock() { pthread_rwlock_destroy(&lock_); }
    rw_lock(const rw_lock&) = delete;
    rw_lock& operator=(const rw_lock&) = delete;

    void lock() { check(pthread_rwlock_wrlock(&lock_)); }
    bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
    void unlock() { pthread_rwlock_unlock(&lock_); }
    void lock_shared() { check(pthread_rwlock_rdlock(&lock_)); }
    bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
    void unlock_shared() { pthread_rwlock_unlock(&lock_); }

  private:
    static void check(int rc) {
        if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_rwlock");
    }
    pthread_rwlock_t lock_;
};

}  // namespace laredo::targets::memory::detail
