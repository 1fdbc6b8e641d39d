// ThreadSanitizer suppressions compiled into every test executable that links test_common_dep
// (used when the build has -Dsanitizers=thread; an unused function otherwise).
//
// The text is LAREDO_TSAN_SUPPRESSIONS, the lines of laredo/src/testing/tsan-suppressions.txt
// (tests/meson.build reads them): the same file laredo installs for its users, which says why
// each suppression is there. Races in laredo's own code are still reported.
extern "C" const char* __tsan_default_suppressions();
extern "C" const char* __tsan_default_suppressions() { return LAREDO_TSAN_SUPPRESSIONS; }
