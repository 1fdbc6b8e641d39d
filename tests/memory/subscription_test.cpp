#include "laredo/targets/memory/subscription.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using laredo::targets::memory::subscription;
using registry = laredo::targets::memory::detail::listener_registry<int>;

namespace {

void call_all(registry& r, const std::vector<int>& events) {
    r.dispatch(events, [](const registry::function& fn, int e) { fn(e); });
}

}  // namespace

TEST(subscription, listeners_get_every_event_in_order) {
    auto r = std::make_shared<registry>();
    std::vector<std::string> seen;
    auto a = r->add([&](int e) { seen.push_back("a" + std::to_string(e)); });
    auto b = r->add([&](int e) { seen.push_back("b" + std::to_string(e)); });
    call_all(*r, {1, 2});
    EXPECT_EQ(seen, (std::vector<std::string>{"a1", "b1", "a2", "b2"}));
}

TEST(subscription, destroying_or_moving_the_handle_manages_the_registration) {
    auto r = std::make_shared<registry>();
    int calls = 0;
    subscription kept;
    {
        auto s = r->add([&](int) { ++calls; });
        EXPECT_TRUE(s.active());
        kept = std::move(s);
        EXPECT_FALSE(s.active());  // NOLINT(bugprone-use-after-move): moved-from is empty
    }
    call_all(*r, {1});
    EXPECT_EQ(calls, 1);
    kept = subscription();
    EXPECT_TRUE(r->empty());
    call_all(*r, {2});
    EXPECT_EQ(calls, 1);
}

TEST(subscription, a_listener_removed_during_dispatch_gets_no_further_events) {
    auto r = std::make_shared<registry>();
    std::vector<int> second_saw;
    subscription second;
    auto first = r->add([&](int e) {
        if (e == 2) second.unsubscribe();
    });
    second = r->add([&](int e) { second_saw.push_back(e); });
    call_all(*r, {1, 2, 3});
    EXPECT_EQ(second_saw, std::vector<int>{1});
}

TEST(subscription, every_listener_runs_before_the_first_failure_is_rethrown) {
    auto r = std::make_shared<registry>();
    int good = 0;
    auto bad = r->add([](int) { throw std::runtime_error("first"); });
    auto ok = r->add([&](int) { ++good; });
    EXPECT_THROW(call_all(*r, {1, 2}), std::runtime_error);
    EXPECT_EQ(good, 2);
}

TEST(subscription, unsubscribing_after_the_registry_is_gone_does_nothing) {
    subscription s;
    {
        auto r = std::make_shared<registry>();
        s = r->add([](int) {});
    }
    EXPECT_FALSE(s.active());
    s.unsubscribe();
}
