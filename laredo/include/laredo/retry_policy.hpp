#pragma once

#include <chrono>

namespace laredo {

// How the engine retries something that failed: every retry in the engine (a source's init,
// baseline and stream, the ACK, a pipeline's apply, a pipeline's automatic recovery) follows
// one of these.
//
// The n-th retry waits initial x multiplier^(n-1), at most `max`, then spread by +-jitter (a
// fraction: 0.2 waits between 80% and 120% of that) so many retries do not fire in step.
// After `attempts` retries the failure is final (-1: retry for ever). A success starts the
// count and the delay over; so does an attempt that ran for `reset_after` (> 0) before it
// failed: a stream that was healthy that long fails anew rather than again.
struct retry_policy {
    std::chrono::milliseconds initial{1'000};
    double multiplier = 2.0;
    std::chrono::milliseconds max{30'000};
    double jitter = 0.0;
    int attempts = 10;
    std::chrono::milliseconds reset_after{0};
};

}  // namespace laredo
