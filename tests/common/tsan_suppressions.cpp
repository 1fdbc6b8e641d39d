// ThreadSanitizer suppressions compiled into every test executable that links test_common_dep
// (used when the build has -Dsanitizers=thread; an unused function otherwise).
//
// Asio releases the shared executor of an any_io_executor (and other reference counts) with
// fetch_sub(release) followed by atomic_thread_fence(acquire) before the delete. TSan does not
// model standalone fences (g++ says so with -Wtsan), so the delete after the last release
// looks like a race with the decrement on another thread. Only that frame is suppressed:
// races in laredo's own code are still reported.
extern "C" const char* __tsan_default_suppressions();
extern "C" const char* __tsan_default_suppressions() {
    return "race:boost::asio::execution::detail::shared_target_executor::~shared_target_executor\n";
}
