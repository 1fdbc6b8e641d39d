// state_follows_the_lifecycle, close_releases_everything.
#include "checks.hpp"

#include <dirent.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>

#include <map>
#include <thread>

namespace laredo::testing::detail {

using boost::asio::awaitable;

namespace {

awaitable<void> lifecycle(case_env& env) {
    driver d(env);
    co_await d.add_rows();
    auto src = co_await d.make_source();
    const auto expect = [&](source_state want, const std::string& after) {
        const auto got = src->state();
        if (got != want)
            env.rep.fail(fmt::format("after {}, state() is {}; expected {}", after, state_text(got),
                                     state_text(want)));
    };
    co_await d.init();
    expect(source_state::connected, "init() returned");
    co_await d.on_source("validate_tables", src->validate_tables(env.tables));
    expect(source_state::connected, "validate_tables() returned");
    const auto at = co_await d.baseline();
    expect(source_state::connected, "baseline() returned");

    d.start_stream(at);
    const std::function<bool()> streaming = [&src] {
        return src->state() == source_state::streaming;
    };
    if (!co_await eventually(streaming, env.options.deadline)) {
        env.rep.fail(
            fmt::format("state() did not become streaming within {} ms of stream() "
                        "starting (it is {})",
                        env.options.deadline.count(), state_text(src->state())));
    }
    co_await d.on_source("pause", src->pause());
    expect(source_state::paused, "pause() returned while streaming");
    co_await d.on_source("resume", src->resume());
    expect(source_state::streaming, "resume() returned");

    co_await d.cancel_stream();
    expect(source_state::connected,
           "stream() returned on cancellation (the connection stays open for the final ack)");
    co_await d.close();
    expect(source_state::closed, "close() returned");
}

// The process's open descriptors and what each one is.
std::map<int, std::string> open_fds() {
    std::map<int, std::string> out;
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) return out;
    const int own = ::dirfd(dir);
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        const int fd = std::stoi(name);
        if (fd == own) continue;
        char target[512];
        const auto n = ::readlink(("/proc/self/fd/" + name).c_str(), target, sizeof(target) - 1);
        out[fd] = n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "?";
    }
    ::closedir(dir);
    return out;
}

std::vector<std::string> opened_since(const std::map<int, std::string>& before) {
    std::vector<std::string> out;
    for (const auto& [fd, what] : open_fds()) {
        const auto it = before.find(fd);
        if (it == before.end() || it->second != what)
            out.push_back(fmt::format("fd {} -> {}", fd, what));
    }
    return out;
}

awaitable<void> full_cycle(case_env& env, std::map<int, std::string>& before, bool& closed) {
    // The context's own descriptors (epoll, timerfd, eventfd) exist once a timer was used:
    // they belong to the context, not to the source.
    co_await sleep_for(milliseconds(0));
    before = open_fds();

    driver d(env);
    co_await d.add_rows();
    auto src = co_await d.make_source();
    co_await d.init();
    co_await d.on_source("validate_tables", src->validate_tables(env.tables));
    const auto at = co_await d.baseline();
    d.start_stream(at);
    co_await d.wait_streaming();
    co_await d.make_changes(env.options.changes / 2 + 1);
    co_await d.await_delivery();
    co_await d.on_source("pause", src->pause());
    co_await d.on_source("resume", src->resume());
    (void)src->lag();
    co_await d.cancel_stream();
    if (const auto last = d.rec().last_position()) co_await d.on_source("ack", src->ack(*last));
    co_await d.close();
    closed = true;
    env.rep.set_step("the io_context to run out of work after close()");
    // The source stays alive (the driver's reference is kept by env): what must be gone is
    // what close() released, not what a destructor would.
}

}  // namespace

void check_state_follows_the_lifecycle(case_env& env) {
    env.run([&env] { return lifecycle(env); });
}

void check_close_releases_everything(case_env& env) {
    std::map<int, std::string> before;
    bool closed = false;
    env.run([&env, &before, &closed] { return full_cycle(env, before, closed); }, true);
    if (!closed) return;
    // The other end of a connection (a fixture's server) may take a moment to close its side.
    std::vector<std::string> left = opened_since(before);
    const auto until = std::chrono::steady_clock::now() + env.options.stop_bound;
    while (!left.empty() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(milliseconds(5));
        left = opened_since(before);
    }
    if (!left.empty()) {
        env.rep.fail(
            fmt::format("{} file descriptor(s) opened since the source was created are "
                        "still open after close(): {}",
                        left.size(), list_some(left, 8)));
    }
}

}  // namespace laredo::testing::detail
