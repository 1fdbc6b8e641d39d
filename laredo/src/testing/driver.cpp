#include "driver.hpp"

#include <fmt/format.h>

namespace laredo::testing::detail {

using boost::asio::awaitable;

driver::driver(case_env& e) : env(e), planner(e.fixture, e.tables, e.options.rows_per_table) {}

awaitable<void> driver::add_rows() {
    auto& fixture = env.fixture;
    const auto& tables = env.tables;
    const auto rows = env.options.rows_per_table;
    const std::function<void()> add = [&fixture, &tables, rows] {
        for (const auto& t : tables)
            for (std::uint64_t id = 1; id <= rows; ++id) fixture.add_row(t, id);
    };
    co_await on_fixture(env, "the fixture's add_row", add);
}

awaitable<std::shared_ptr<sync_source>> driver::make_source() {
    std::shared_ptr<sync_source> made;
    auto& fixture = env.fixture;
    auto executor = env.ctx().get_executor();
    const std::function<void()> make = [&made, &fixture, executor] {
        made = fixture.make_source(executor);
    };
    co_await on_fixture(env, "the fixture's make_source", make);
    if (!made) env.rep.abort("the fixture's make_source returned no source");
    if (!made->get_executor()) env.rep.abort("get_executor() returned an empty executor");
    env.keep(made);
    source_ = made;
    recorder_ = std::make_shared<recorder>(*source_);
    env.keep(recorder_);
    stream_.reset();
    co_return made;
}

awaitable<table_schemas> driver::init() {
    const source_config config{env.tables};
    schemas_ = co_await on_source("init", source_->init(config));
    co_return schemas_;
}

awaitable<position> driver::baseline() {
    auto pos = co_await on_source("baseline", source_->baseline(env.tables, *recorder_));
    expected_.clear();
    tx_ends_.clear();
    co_return pos;
}

void driver::start_stream(position from) {
    cancel_ = std::make_shared<boost::asio::cancellation_signal>();
    env.keep(cancel_);
    env.rep.set_step("stream");
    stream_ =
        spawn(source_->get_executor(), source_->stream(std::move(from), *recorder_), *cancel_);
}

awaitable<void> driver::wait_streaming() {
    auto& src = *source_;
    const std::function<bool()> streaming = [&src, this] {
        return src.state() == source_state::streaming || stream_done();
    };
    co_await eventually(streaming, env.options.deadline);
}

awaitable<std::vector<change_key>> driver::make_changes(std::size_t count, bool first_table_only) {
    std::vector<change_key> made;
    for (const auto& tx : planner.plan(count, first_table_only)) {
        auto& fixture = env.fixture;
        const std::function<void()> apply = [&fixture, &tx] { fixture.make_changes(tx); };
        co_await on_fixture(env, "the fixture's make_changes", apply);
        for (auto& c : planner.expected(tx)) {
            made.push_back(c);
            expected_.push_back(std::move(c));
        }
        tx_ends_.push_back(expected_.size() - 1);
    }
    co_return made;
}

awaitable<void> driver::await_delivery() {
    env.rep.set_step("delivery of the changes made");
    const auto want = expected_.size();
    auto& rec = *recorder_;
    const std::function<bool()> arrived = [&rec, want, this] {
        return rec.change_count() >= want || stream_done();
    };
    // Counting is cheap; the exact comparison runs once the count is there.
    const auto until = std::chrono::steady_clock::now() + env.options.deadline;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<milliseconds>(until - std::chrono::steady_clock::now());
        co_await eventually(arrived, left.count() > 0 ? left : milliseconds(0));
        std::vector<change_key> delivered;
        for (const auto& e : rec.changes()) delivered.push_back(key_of_event(e));
        const auto diff = compare_deliveries(expected_, delivered);
        if (diff.missing.empty()) co_return;
        if (stream_done()) {
            if (auto e = stream_error()) {
                env.rep.abort(
                    fmt::format("stream() failed while {} changes were still to be "
                                "delivered: {}",
                                diff.missing.size(), describe(e)));
            }
            env.rep.abort(fmt::format(
                "stream() returned before it was cancelled, having delivered {} of the {} "
                "changes made (missing: {})",
                want - diff.missing.size(), want, list_some(describe_all(diff.missing))));
        }
        if (std::chrono::steady_clock::now() >= until) {
            env.rep.abort(fmt::format(
                "{} of the {} changes made were not delivered within {} ms (missing: {})",
                diff.missing.size(), want, env.options.deadline.count(),
                list_some(describe_all(diff.missing))));
        }
        co_await sleep_for(milliseconds(2));
    }
}

awaitable<void> driver::cancel_stream() {
    if (!stream_) co_return;
    env.rep.set_step("stream() to return after terminal cancellation");
    auto signal = cancel_;
    boost::asio::post(source_->get_executor(),
                      [signal] { signal->emit(boost::asio::cancellation_type::terminal); });
    const bool returned = co_await wait_done(stream_, env.options.stop_bound);
    if (!returned) {
        env.rep.abort(fmt::format("stream() did not return within {} ms of terminal cancellation",
                                  env.options.stop_bound.count()));
    }
    if (auto e = stream_->error()) {
        env.rep.fail(fmt::format(
            "stream() threw after terminal cancellation instead of returning normally: {}",
            describe(e)));
    }
}

awaitable<void> driver::close() { co_await on_source("close", source_->close()); }

std::string driver::text(const position& p) const {
    try {
        return "\"" + source_->position_to_string(p) + "\"";
    } catch (...) {
        return p.debug_string();
    }
}

}  // namespace laredo::testing::detail
