// The demo the README's first command runs: the CSV example source feeding the engine, into
// indexed memory targets, printing what happens. It writes its own data into a temporary
// directory (or the directory given as the first argument), takes the baseline, appends
// changes to changes.log while the engine streams, and stops gracefully.

#include "csv_source.hpp"

#include "laredo/engine.hpp"
#include "laredo/targets/memory/indexed_target.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace {

using namespace laredo;
using boost::asio::awaitable;
using boost::asio::use_awaitable;
using targets::memory::indexed_target;
using targets::memory::indexed_target_options;
namespace fs = std::filesystem;

const table_identifier users{"public", "users"};
const table_identifier orders{"public", "orders"};

// Prints the engine's lifecycle as it happens (observers run on engine strands: lock).
class printing_observer final : public engine_observer {
  public:
    void on_source_connected(const std::string& id, const std::string& type) override {
        say("source {} connected ({})", id, type);
    }
    void on_baseline_completed(const std::string& pipeline, const table_identifier&,
                               std::uint64_t rows, duration) override {
        say("baseline of {} complete: {} rows", pipeline, rows);
    }
    void on_pipeline_state_changed(const std::string& pipeline, pipeline_state from,
                                   pipeline_state to) override {
        say("pipeline {}: {} -> {}", pipeline, to_string(from), to_string(to));
    }
    void on_change_received(const std::string& pipeline, const table_identifier&,
                            change_action action, const position& pos) override {
        say("pipeline {}: {} at byte {}", pipeline, to_string(action), pos.debug_string());
    }
    void on_ack_advanced(const std::string& id, const position& pos) override {
        say("source {} acked through byte {}", id, pos.debug_string());
    }

  private:
    template <class... Args>
    void say(fmt::format_string<Args...> f, Args&&... args) {
        std::lock_guard lock(mutex_);
        fmt::print("  [engine] {}\n", fmt::format(f, std::forward<Args>(args)...));
        std::fflush(stdout);
    }
    std::mutex mutex_;
};

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << text;
}

void print_users(const indexed_target& t) {
    t.for_each([](const row& r) { fmt::print("    {}\n", r.debug_string()); });
}

awaitable<void> wait_until(const std::function<bool()>& done) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    for (int i = 0; i < 500 && !done(); ++i) {
        timer.expires_after(std::chrono::milliseconds(10));
        co_await timer.async_wait(use_awaitable);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const fs::path dir =
        argc > 1 ? fs::path(argv[1])
                 : fs::temp_directory_path() / fmt::format("laredo-demo-{}", ::getpid());
    fs::create_directories(dir);
    fs::remove(dir / "changes.log");
    fs::remove(dir / "public.users.csv");
    fs::remove(dir / "public.orders.csv");
    write_file(dir / "public.users.csv",
               "id,name,email,status\n"
               "1,Ann,ann@example.com,active\n"
               "2,Bob,bob@example.com,active\n"
               "3,\"Cid, Jr.\",cid@example.com,inactive\n");
    write_file(dir / "public.orders.csv", "id,user_id,total\n10,1,9.50\n11,2,20.00\n");
    fmt::print("laredo demo: CSV source in {}\n", dir.string());

    boost::asio::io_context ctx;
    auto source = std::make_shared<examples::csv_source>(ctx.get_executor(), dir,
                                                         std::chrono::milliseconds(20));
    indexed_target_options user_options;
    user_options.indexes.push_back({.name = "by_email", .fields = {"email"}, .unique = true});
    user_options.indexes.push_back({.name = "by_status", .fields = {"status"}, .unique = false});
    auto user_target = std::make_shared<indexed_target>(user_options);
    auto order_target = std::make_shared<indexed_target>();

    auto eng = engine::builder()
                   .with_observer(std::make_shared<printing_observer>())
                   .add_source("csv", source)
                   .add_pipeline("csv", users, user_target)
                   .add_pipeline("csv", orders, order_target)
                   .build(ctx.get_executor());

    int exit_code = 0;
    boost::asio::co_spawn(
        ctx,
        [&]() -> awaitable<void> {
            co_await eng.async_start(use_awaitable);
            auto failed = [&] {
                for (const auto& p : eng.pipelines())
                    if (p.state == pipeline_state::error) return true;
                return false;
            };
            co_await wait_until([&] { return eng.is_ready() || failed(); });
            if (!eng.is_ready()) {
                for (const auto& p : eng.pipelines())
                    if (!p.last_error.empty())
                        fmt::print(stderr, "pipeline {} failed: {}\n", p.id, p.last_error);
                exit_code = 1;
                co_await eng.async_stop(use_awaitable);
                co_return;
            }
            fmt::print("\nready: {} users, {} orders\n", user_target->count(),
                       order_target->count());
            print_users(*user_target);

            fmt::print("\nappending changes to changes.log\n");
            write_file(dir / "changes.log",
                       "INSERT,public.users,id=4,name=Dee,email=dee@example.com,status=active\n"
                       "UPDATE,public.users,id=3,status=active\n"
                       "DELETE,public.users,id=2\n"
                       "INSERT,public.orders,id=12,user_id=4,total=5.25\n"
                       "TRUNCATE,public.orders\n"
                       "INSERT,public.orders,id=13,user_id=1,total=1.00\n");
            co_await wait_until([&] {
                return user_target->count() == 3 && order_target->count() == 1 &&
                       user_target->get(value("3")) &&
                       user_target->get(value("3"))->at("status") == value("active");
            });
            fmt::print("\nafter the changes: {} users, {} orders\n", user_target->count(),
                       order_target->count());
            print_users(*user_target);
            const auto cid = user_target->lookup_index("by_email", {value("cid@example.com")});
            fmt::print("lookup by_email cid@example.com -> {}\n",
                       cid.empty() ? std::string("none") : cid.front().debug_string());
            fmt::print("lookup by_status active -> {} rows\n",
                       user_target->lookup_index("by_status", {value("active")}).size());
            if (user_target->count() != 3 || order_target->count() != 1) exit_code = 1;

            fmt::print("\nstopping (drain, final ACK, close)\n");
            co_await eng.async_stop(use_awaitable);
            const auto info = eng.source("csv");
            fmt::print("stopped; last ACK: byte {}\n",
                       info && info->last_acked ? info->last_acked->debug_string() : "none");
        },
        [&](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                fmt::print(stderr, "demo failed: {}\n", ex.what());
            }
            exit_code = 1;
        });
    ctx.run();
    if (argc <= 1) fs::remove_all(dir);
    return exit_code;
}
