#include "fanout_fixture.hpp"

#include "fanout_support.hpp"

#include "laredo/sources/fanout/fanout_source.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

namespace laredo::fanout_test {

fanout_fixture::fanout_fixture() {
    work_.emplace(context_.get_executor());
    thread_ = std::thread([this] { context_.run(); });
    target_ = std::make_shared<targets::fanout::fanout_target>(context_.get_executor());
    listener_ = std::make_unique<targets::fanout::replication_listener>(context_.get_executor());
    listener_->add(accounts, target_);
    listener_->start();
    run([this]() -> boost::asio::awaitable<void> {
        co_await target_->on_init(accounts, accounts_schema());
        co_await target_->on_baseline_complete(accounts, position::from_sequence(pos_));
    });
}

fanout_fixture::~fanout_fixture() {
    listener_->stop();
    // Let the sessions see the stop before the context goes.
    run([this]() -> boost::asio::awaitable<void> {
        co_await target_->on_close(accounts);
        co_await testing::sleep_for(std::chrono::milliseconds(20));
    });
    listener_.reset();
    target_.reset();
    work_.reset();
    context_.stop();
    thread_.join();
}

void fanout_fixture::run(std::function<boost::asio::awaitable<void>()> work) {
    boost::asio::co_spawn(context_, std::move(work), boost::asio::use_future).get();
}

std::vector<table_identifier> fanout_fixture::tables() const { return {accounts}; }

std::shared_ptr<sync_source> fanout_fixture::make_source(boost::asio::any_io_executor executor) {
    sources::fanout::fanout_source_options o;
    o.client.servers = {listener_->url(accounts)};
    o.client.reconnect_initial = std::chrono::milliseconds(20);
    o.client.reconnect_max = std::chrono::milliseconds(200);
    o.resume_file = dir_.path() / "cascade.resume";
    o.ready_timeout = std::chrono::seconds(5);
    o.give_up_after = std::chrono::seconds(1);
    return std::make_shared<sources::fanout::fanout_source>(std::move(executor), std::move(o));
}

std::vector<value> fanout_fixture::key_of(const table_identifier&, std::uint64_t id) const {
    return {value("t"), value(static_cast<std::int64_t>(id))};
}

void fanout_fixture::add_row(const table_identifier& table, std::uint64_t id) {
    make_changes({{table, change_action::insert, id}});
}

void fanout_fixture::make_changes(const std::vector<testing::change_request>& changes) {
    std::vector<change_event> tx;
    for (const auto& c : changes) {
        const auto id = static_cast<std::int64_t>(c.id);
        switch (c.action) {
            case change_action::insert:
                tx.push_back(insert(0, account("t", id, value("eu"))));
                break;
            case change_action::update:
                tx.push_back(update(0, account("t", id, value("eu"),
                                               value("changed " + std::to_string(++updates_)))));
                break;
            default:
                tx.push_back(remove(0, account("t", id, value())));
                break;
        }
    }
    for (std::size_t i = 0; i < tx.size(); ++i) {
        tx[i].pos = position::from_sequence(++pos_);
        tx[i].ends_transaction = i + 1 == tx.size();
    }
    run([&]() -> boost::asio::awaitable<void> { co_await target_->on_changes(accounts, tx); });
}

bool fanout_fixture::break_upstream() {
    listener_->stop();
    return true;
}

}  // namespace laredo::fanout_test
