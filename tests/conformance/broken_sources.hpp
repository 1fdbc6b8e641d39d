#pragma once

// Sources that break one rule each, to prove the kit's checks fail for them: a forwarding
// wrapper over a test_source (which passes every check), and subclasses that change one
// behaviour.

#include "testsource_fixture.hpp"

#include "laredo/change_handler.hpp"
#include "laredo/sync_source.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>

namespace laredo::testing::broken {

using sources::testsource::test_source;

// Forwards every operation to a test_source.
class forwarding_source : public sync_source {
  public:
    explicit forwarding_source(std::shared_ptr<test_source> inner) : inner_(std::move(inner)) {}

    boost::asio::any_io_executor get_executor() const override { return inner_->get_executor(); }
    std::string type_name() const override { return "forwarding"; }
    boost::asio::awaitable<table_schemas> init(const source_config& config) override {
        return inner_->init(config);
    }
    boost::asio::awaitable<std::vector<validation_error>> validate_tables(
        const std::vector<table_identifier>& tables) override {
        return inner_->validate_tables(tables);
    }
    boost::asio::awaitable<position> baseline(const std::vector<table_identifier>& tables,
                                              baseline_sink& sink) override {
        return inner_->baseline(tables, sink);
    }
    boost::asio::awaitable<void> stream(position from, change_handler& handler) override {
        return inner_->stream(std::move(from), handler);
    }
    boost::asio::awaitable<void> ack(position pos) override { return inner_->ack(std::move(pos)); }
    bool supports_resume() const override { return inner_->supports_resume(); }
    boost::asio::awaitable<std::optional<position>> last_acked_position() override {
        return inner_->last_acked_position();
    }
    boost::asio::awaitable<bool> can_resume_from(const position& pos) override {
        return inner_->can_resume_from(pos);
    }
    int compare_positions(const position& a, const position& b) const override {
        return inner_->compare_positions(a, b);
    }
    std::string position_to_string(const position& pos) const override {
        return inner_->position_to_string(pos);
    }
    position position_from_string(std::string_view text) const override {
        return inner_->position_from_string(text);
    }
    boost::asio::awaitable<void> pause() override { return inner_->pause(); }
    boost::asio::awaitable<void> resume() override { return inner_->resume(); }
    lag_info lag() const override { return inner_->lag(); }
    ordering_guarantee ordering() const override { return inner_->ordering(); }
    source_state state() const override { return inner_->state(); }
    boost::asio::awaitable<void> close() override { return inner_->close(); }

  protected:
    std::shared_ptr<test_source> inner_;
};

// A change handler between the source and the kit that rewrites each batch.
class rewriting_handler : public change_handler {
  public:
    using rewrite_fn = std::function<void(std::vector<change_event>&)>;
    rewriting_handler(change_handler& next, rewrite_fn fn) : next_(next), fn_(std::move(fn)) {}
    boost::asio::awaitable<void> on_changes(std::vector<change_event> batch) override;
    boost::asio::awaitable<void> on_heartbeat(position pos) override;
    boost::asio::awaitable<void> on_rewind(position pos) override;

  private:
    change_handler& next_;
    rewrite_fn fn_;
};

// Each event's position n becomes 1000000 - n: positions go backwards.
class backwards_positions final : public forwarding_source {
  public:
    using forwarding_source::forwarding_source;
    boost::asio::awaitable<void> stream(position from, change_handler& handler) override;
};

// stream() returns at once instead of running until cancelled.
class early_return_stream final : public forwarding_source {
  public:
    using forwarding_source::forwarding_source;
    boost::asio::awaitable<void> stream(position from, change_handler& handler) override;
};

// position_to_string drops the part after ':' (pair positions): the round trip loses it.
class lossy_position_strings final : public forwarding_source {
  public:
    using forwarding_source::forwarding_source;
    std::string position_to_string(const position& pos) const override;
};

// position_from_string takes anything unparsable as position 0.
class lenient_position_parser final : public forwarding_source {
  public:
    using forwarding_source::forwarding_source;
    position position_from_string(std::string_view text) const override;
};

// close() opens a socket and keeps it.
class socket_leaking_close final : public forwarding_source {
  public:
    using forwarding_source::forwarding_source;
    ~socket_leaking_close() override;
    boost::asio::awaitable<void> close() override;

  private:
    int socket_ = -1;
};

// close() leaves a timer waiting on the executor.
class timer_leaking_close final : public forwarding_source {
  public:
    using forwarding_source::forwarding_source;
    boost::asio::awaitable<void> close() override;

  private:
    std::unique_ptr<boost::asio::steady_timer> timer_;
};

// stream() swallows a failure of the upstream and waits for cancellation: a hang.
class swallowed_failure final : public forwarding_source {
  public:
    using forwarding_source::forwarding_source;
    boost::asio::awaitable<void> stream(position from, change_handler& handler) override;
};

// Every fifth change never reaches the handler.
class lossy_stream final : public forwarding_source {
  public:
    using forwarding_source::forwarding_source;
    boost::asio::awaitable<void> stream(position from, change_handler& handler) override;
};

// init() reports no key columns.
class keyless_init final : public forwarding_source {
  public:
    using forwarding_source::forwarding_source;
    boost::asio::awaitable<table_schemas> init(const source_config& config) override;
};

// init() ignores tables it does not have.
class unknown_tables_ignored final : public forwarding_source {
  public:
    using forwarding_source::forwarding_source;
    boost::asio::awaitable<table_schemas> init(const source_config& config) override;
};

// state() never says paused.
class never_paused_state final : public forwarding_source {
  public:
    using forwarding_source::forwarding_source;
    source_state state() const override;
};

// last_acked_position() forgets: the ack was never persisted.
class forgetful_acks final : public forwarding_source {
  public:
    using forwarding_source::forwarding_source;
    boost::asio::awaitable<std::optional<position>> last_acked_position() override;
    boost::asio::awaitable<bool> can_resume_from(const position& pos) override;
};

// A testsource fixture whose sources are wrapped in `Source`.
template <class Source>
class wrapping_fixture final : public testsource_fixture {
  public:
    using testsource_fixture::testsource_fixture;
    std::shared_ptr<sync_source> make_source(boost::asio::any_io_executor executor) override {
        return std::make_shared<Source>(make_test_source(std::move(executor)));
    }
};

template <class Source>
fixture_factory wrapped(sources::testsource::test_source_options options = {}) {
    return [options] { return std::make_unique<wrapping_fixture<Source>>(options); };
}

}  // namespace laredo::testing::broken
