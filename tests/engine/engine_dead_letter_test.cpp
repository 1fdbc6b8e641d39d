// Dead letters: what a pipeline could not apply is kept, survives a restart of the store, and
// replays into the target.
#include "engine_test_support.hpp"
#include "recording_observer.hpp"
#include "temp_dir.hpp"

#include "laredo/deadletter/local_store.hpp"
#include "laredo/deadletter/memory_store.hpp"

namespace laredo::testing {
namespace {

// Refuses (with a fatal error) every change of the row with key `poison`.
class poison_target : public recording_target {
  public:
    explicit poison_target(std::int64_t poison, std::string name = "poison")
        : recording_target(std::move(name)), poison_(poison) {}
    void cure() { cured_ = true; }

    boost::asio::awaitable<void> on_changes(const table_identifier& table,
                                            std::span<const change_event> changes) override {
        for (const auto& c : changes)
            if (!cured_ && c.identity().key() == key(poison_))
                throw error(errc::target_failed,
                            "poison_target: refused row " + std::to_string(poison_));
        co_await recording_target::on_changes(table, changes);
    }

  private:
    const std::int64_t poison_;
    std::atomic<bool> cured_{false};
};

class engine_dead_letters : public engine_test {};

TEST_P(engine_dead_letters, isolated_failure_writes_one_dead_letter_and_spares_the_sibling) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto failing = std::make_shared<poison_target>(7);
        auto healthy = std::make_shared<recording_target>("healthy");
        auto store = std::make_shared<deadletter::memory_store>();
        auto observer = std::make_shared<recording_observer>();
        pipeline_options options;
        options.retry.attempts = 2;
        options.retry.initial = std::chrono::milliseconds(1);
        engine_options engine_opts;
        engine_opts.dead_letters = store;
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, healthy)
                       .add_pipeline("test", users, failing, options)
                       .with_options(engine_opts)
                       .with_observer(observer)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        const auto failing_id = eng.pipelines()[1].id;
        const auto poison = src->insert(users, user(*src, 7, "poison"));
        EXPECT_TRUE(
            co_await until(eng, [&] { return eng.pipelines()[1].state == pipeline_state::error; }));
        const auto last = src->insert(users, user(*src, 8, "after"));
        EXPECT_TRUE(co_await until(eng, [&] { return healthy->applied() == last; }));
        // The ACK ignores the failed pipeline.
        EXPECT_TRUE(co_await until(eng, [&] { return src->last_acked() == last; }));
        EXPECT_EQ(eng.pipelines()[0].state, pipeline_state::streaming);
        const auto letters = eng.dead_letters(failing_id);
        CO_ASSERT_TRUE(letters.size() == 1u);
        EXPECT_EQ(letters[0].pipeline_id, failing_id);
        EXPECT_EQ(letters[0].change.action, change_action::insert);
        EXPECT_EQ(letters[0].change.new_values.key(), key(7));
        EXPECT_EQ(letters[0].position, src->position_to_string(poison));
        EXPECT_EQ(letters[0].attempts, 1);  // a fatal code is not retried
        EXPECT_NE(letters[0].error_message.find("refused row 7"), std::string::npos);
        EXPECT_EQ(observer->dead_letters(), std::vector<std::string>{failing_id});
        EXPECT_EQ(store->count(eng.pipelines()[0].id), 0u);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_dead_letters, only_the_failing_change_of_a_transaction_is_dead_lettered) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto target = std::make_shared<poison_target>(2);
        auto store = std::make_shared<deadletter::memory_store>();
        pipeline_options options;
        options.retry.attempts = 0;
        engine_options engine_opts;
        engine_opts.dead_letters = store;
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .with_options(engine_opts)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        test_source::transaction tx;
        tx.insert(users, user(*src, 1, "a"));
        tx.insert(users, user(*src, 2, "poison"));
        tx.insert(users, user(*src, 3, "c"));
        src->commit(std::move(tx));
        EXPECT_TRUE(
            co_await until(eng, [&] { return eng.pipelines()[0].state == pipeline_state::error; }));
        const auto letters = eng.dead_letters(eng.pipelines()[0].id);
        CO_ASSERT_TRUE(letters.size() == 1u);
        EXPECT_EQ(letters[0].change.new_values.key(), key(2));
        EXPECT_TRUE(target->get(key(1)).has_value());  // applied before the failing one
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_dead_letters, dead_letters_survive_a_store_restart_and_replay_applies_them) {
    temp_dir dir("laredo-dead-letters");
    const std::string pipeline_id = "test:public.users:poison";
    run([&dir, &pipeline_id](boost::asio::io_context& ctx) -> awaitable<void> {
        test_source_options source_options;
        source_options.supports_resume = true;
        auto first = std::make_shared<test_source>(ctx.get_executor(), source_options);
        first->set_schema(users, user_columns());
        first->add_row(users, user(*first, 1, "a"));
        pipeline_options options;
        options.retry.attempts = 0;
        {
            auto target = std::make_shared<poison_target>(5);
            engine_options engine_opts;
            engine_opts.dead_letters = std::make_shared<deadletter::local_store>(dir.path());
            auto eng = test_builder()
                           .add_source("test", first)
                           .add_pipeline("test", users, target, options)
                           .with_options(engine_opts)
                           .build(ctx.get_executor());
            co_await eng.async_start(use_awaitable);
            co_await eng.async_await_ready(use_awaitable);
            first->update(users, user(*first, 5, "poisoned"));
            EXPECT_TRUE(co_await until(
                eng, [&] { return eng.pipelines()[0].state == pipeline_state::error; }));
            co_await eng.async_stop(use_awaitable);
        }
        // A new store object on the same directory (the process restarted) and a fixed target.
        auto store = std::make_shared<deadletter::local_store>(dir.path());
        EXPECT_EQ(store->count(pipeline_id), 1u);
        source_options.database = first->database();
        auto second = std::make_shared<test_source>(ctx.get_executor(), source_options);
        auto target = std::make_shared<poison_target>(5);
        target->cure();
        engine_options engine_opts;
        engine_opts.dead_letters = store;
        auto eng = test_builder()
                       .add_source("test", second)
                       .add_pipeline("test", users, target, options)
                       .with_options(engine_opts)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        const auto replayed = co_await eng.async_replay_dead_letters(pipeline_id, use_awaitable);
        EXPECT_EQ(replayed, 1u);
        const auto row5 = target->get(key(5));
        CO_ASSERT_TRUE(row5.has_value());
        EXPECT_EQ(row5->at("name"), value("poisoned"));
        EXPECT_EQ(store->count(pipeline_id), 0u);  // replayed letters are removed
        EXPECT_EQ(co_await eng.async_replay_dead_letters(pipeline_id, use_awaitable), 0u);
        co_await eng.async_stop(use_awaitable);
    });
}

TEST_P(engine_dead_letters, replay_stops_at_a_letter_that_still_fails_and_keeps_it) {
    run([](boost::asio::io_context& ctx) -> awaitable<void> {
        auto src = std::make_shared<test_source>(ctx.get_executor());
        src->set_schema(users, user_columns());
        auto target = std::make_shared<poison_target>(3);
        auto store = std::make_shared<deadletter::memory_store>();
        pipeline_options options;
        options.retry.attempts = 0;
        engine_options engine_opts;
        engine_opts.dead_letters = store;
        auto eng = test_builder()
                       .add_source("test", src)
                       .add_pipeline("test", users, target, options)
                       .with_options(engine_opts)
                       .build(ctx.get_executor());
        co_await eng.async_start(use_awaitable);
        co_await eng.async_await_ready(use_awaitable);
        const auto id = eng.pipelines()[0].id;
        src->insert(users, user(*src, 3, "poison"));
        EXPECT_TRUE(co_await until(eng, [&] { return store->count(id) == 1u; }));
        std::string refused;
        try {
            co_await eng.async_replay_dead_letters(id);
        } catch (const error& e) {
            refused = e.what();
        }
        EXPECT_NE(refused.find("replay stopped at dead letter"), std::string::npos) << refused;
        EXPECT_EQ(store->count(id), 1u);
        std::string unknown;
        try {
            co_await eng.async_replay_dead_letters("no-such-pipeline");
        } catch (const error& e) {
            unknown = e.what();
        }
        EXPECT_NE(unknown.find("unknown pipeline: no-such-pipeline"), std::string::npos) << unknown;
        EXPECT_EQ(eng.purge_dead_letters(id), 1u);
        co_await eng.async_stop(use_awaitable);
    });
}

INSTANTIATE_TEST_SUITE_P(threads, engine_dead_letters, ::testing::Values(1, 4), thread_suffix);

}  // namespace
}  // namespace laredo::testing
