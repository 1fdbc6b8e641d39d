// The example receiver of docs/httpsync.md, run as it is written (python3), fed by the target:
// what it holds afterwards must be the table, so the example a user copies really works.

#include "httpsync_test_support.hpp"
#include "temp_dir.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fstream>
#include <sstream>
#include <thread>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char** environ;

namespace laredo::testing::httpsync {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::asio::awaitable;

// The first ```python block of the document.
std::string python_example() {
    // The schemas live in docs/httpsync/, beside the document.
    std::ifstream in(std::string(LAREDO_HTTPSYNC_SCHEMA_DIR) + "/../httpsync.md");
    std::stringstream text;
    text << in.rdbuf();
    const std::string doc = text.str();
    const auto start = doc.find("```python\n");
    if (start == std::string::npos) return {};
    const auto body = start + 10;
    const auto end = doc.find("```", body);
    return end == std::string::npos ? std::string() : doc.substr(body, end - body);
}

unsigned short free_port() {
    asio::io_context ctx;
    tcp::acceptor a(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

// python3 running a script, killed when the object goes away.
class python_process {
  public:
    python_process(const std::string& script, unsigned short port) {
        std::vector<std::string> env{"PORT=" + std::to_string(port)};
        for (char** e = environ; *e; ++e)
            if (std::string_view(*e).rfind("PORT=", 0) != 0) env.emplace_back(*e);
        std::vector<char*> envp;
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        std::string program = "python3", path = script;
        std::vector<char*> argv{program.data(), path.data(), nullptr};
        if (::posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), envp.data()) != 0)
            pid_ = 0;
    }
    ~python_process() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    python_process(const python_process&) = delete;
    python_process& operator=(const python_process&) = delete;
    bool started() const { return pid_ > 0; }

  private:
    pid_t pid_ = 0;
};

// One blocking request on a connection of its own; the response's body.
std::string request(unsigned short port, http::verb verb, const std::string& target,
                    const std::string& body = {}, const std::string& idempotency_key = {}) {
    asio::io_context ctx;
    tcp::socket socket(ctx);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!idempotency_key.empty()) req.set("Idempotency-Key", idempotency_key);
    if (verb == http::verb::post) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(socket, req);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    return res.body();
}

// Waits until the receiver accepts connections (python3 takes a moment to start).
bool wait_for_listener(unsigned short port) {
    for (int i = 0; i < 200; ++i) {
        asio::io_context ctx;
        tcp::socket socket(ctx);
        boost::system::error_code ec;
        socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
        if (!ec) return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

// (id, name, status) of every row the receiver holds for public.users, sorted.
std::vector<std::string> held_rows(unsigned short port) {
    const auto held = laredo::json::parse(request(port, http::verb::get, "/"));
    std::vector<std::string> out;
    for (const auto& r : held.at("public.users").as_array()) {
        const auto& row = r.as_object();
        out.push_back(boost::json::serialize(row.at("id")) + " " +
                      std::string(row.at("name").as_string()) + " " +
                      std::string(row.at("status").as_string()));
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST(httpsync_doc_receiver, the_example_receiver_of_the_docs_ends_up_with_the_table) {
    const auto code = python_example();
    ASSERT_NE(code.find("ThreadingHTTPServer"), std::string::npos) << "no example in the docs";
    temp_dir dir("httpsync-receiver");
    const auto script = (dir.path() / "receiver.py").string();
    std::ofstream(script) << code;
    const auto port = free_port();
    python_process receiver(script, port);
    ASSERT_TRUE(receiver.started()) << "python3 could not be started";
    ASSERT_TRUE(wait_for_listener(port)) << "the example receiver did not listen on " << port;

    run_async(1, 30s, [&](asio::io_context&) -> awaitable<void> {
        http_sync_options o;
        o.base_url = "http://127.0.0.1:" + std::to_string(port) + "/hooks";
        o.batch_size = 2;
        o.flush_interval = 10ms;
        o.idempotency_keys = true;
        http_sync_target t(o);
        co_await t.on_init(users, user_schema());
        std::vector<row> rows;
        for (int i = 1; i <= 5; ++i) rows.push_back(user_row(i, "user" + std::to_string(i)));
        co_await t.on_baseline_rows(users, rows);
        co_await t.on_baseline_complete(users, position::from_sequence(10));

        // An update that leaves status alone (a TOAST value): the receiver keeps its value.
        change_event update = insert_change(12, 2);
        update.action = change_action::update;
        update.new_values =
            row(user_schema(), {value(std::int64_t{2}), value("renamed"), value::unchanged()});
        change_event remove = insert_change(13, 4);
        remove.action = change_action::delete_;
        remove.old_values = user_row(4, "user4");
        remove.new_values = row();
        std::vector<change_event> changes{insert_change(11, 6, "user6", true, 0), update, remove};
        co_await t.on_changes(users, changes);
        co_await t.on_close(users);
        EXPECT_EQ(t.metrics().failures, 0u);
    });
    EXPECT_EQ(held_rows(port),
              (std::vector<std::string>{"1 user1 active", "2 renamed active", "3 user3 active",
                                        "5 user5 active", "6 user6 active"}));

    // A replayed request (the same Idempotency-Key) is answered and not applied again.
    const std::string insert7 =
        R"([{"action":"INSERT","table":"public.users","position":"20","transaction_id":20,)"
        R"("commit_time":null,"row":{"id":7,"name":"user7","status":"new"},)"
        R"("commit_position":"20"}])";
    std::string replay = insert7;
    replay.replace(replay.find("user7"), 5, "other");
    request(port, http::verb::post, "/hooks/changes", insert7, "key-1");
    request(port, http::verb::post, "/hooks/changes", replay, "key-1");
    const auto held = held_rows(port);
    EXPECT_NE(std::find(held.begin(), held.end(), "7 user7 new"), held.end());
    EXPECT_EQ(std::find(held.begin(), held.end(), "7 other new"), held.end());
}

}  // namespace
}  // namespace laredo::testing::httpsync
