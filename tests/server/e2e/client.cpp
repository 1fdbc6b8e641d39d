#include "client.hpp"

#include "laredo/json/values.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace laredo::server::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;

boost::json::value http_result::json() const {
    try {
        return laredo::json::parse(body);
    } catch (const std::exception&) {
        return nullptr;
    }
}

namespace {

// One request on a connected stream (plain or TLS); the response with its headers.
template <typename Stream>
http_result exchange(Stream& stream, const std::string& method, const std::string& target,
                     const std::string& token, const std::string& body) {
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    if (!body.empty()) {
        req.set(bhttp::field::content_type, "application/json");
        req.body() = body;
    }
    req.keep_alive(false);
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64u << 20);
    bhttp::read(stream, buffer, parser);
    http_result out;
    out.status = parser.get().result_int();
    out.body = parser.get().body();
    for (const auto& f : parser.get())
        out.headers[std::string(f.name_string())] = std::string(f.value());
    return out;
}

}  // namespace

http_result http_request(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::string& token, const std::string& body) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(60));
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    auto out = exchange(stream, method, target, token, body);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return out;
}

http_result https_request(std::uint16_t port, const std::string& ca_file, const std::string& target,
                          const std::string& token) {
    asio::io_context ioc;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.load_verify_file(ca_file);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
    beast::get_lowest_layer(stream).connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream.handshake(asio::ssl::stream_base::client);
    auto out = exchange(stream, "GET", target, token, {});
    beast::error_code ignored;
    stream.shutdown(ignored);
    return out;
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds limit) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    boost::system::error_code ec;
    asio::write(socket, asio::buffer(bytes), ec);
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{socket.native_handle(), POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        const auto n = ::recv(socket.native_handle(), buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

struct ws_client::impl {
    asio::io_context ioc;
    websocket::stream<tcp::socket> ws{ioc};
};

ws_client::ws_client(std::uint16_t port, const std::string& target, const std::string& token,
                     int receive_buffer)
    : impl_(std::make_unique<impl>()) {
    auto& sock = impl_->ws.next_layer();
    sock.open(tcp::v4());
    if (receive_buffer > 0) sock.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    impl_->ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
        if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    }));
    impl_->ws.handshake("127.0.0.1", target);
}

ws_client::~ws_client() {
    beast::error_code ignored;
    impl_->ws.next_layer().close(ignored);
}

std::optional<std::string> ws_client::next(std::chrono::milliseconds limit) {
    auto& ws = impl_->ws;
    beast::flat_buffer b;
    beast::error_code ec;
    bool done = false;
    // Asynchronous with a deadline: Beast may already hold the next message in its buffer,
    // so waiting on the socket would not do.
    ws.async_read(b, [&](beast::error_code e, std::size_t) {
        ec = e;
        done = true;
    });
    impl_->ioc.restart();
    impl_->ioc.run_for(limit);
    if (!done) {
        beast::error_code ignored;
        ws.next_layer().cancel(ignored);
        impl_->ioc.restart();
        impl_->ioc.run();
        return std::nullopt;
    }
    if (ec) {
        close_code_ = ws.reason().code;
        close_reason_ = std::string(ws.reason().reason.c_str());
        return std::nullopt;
    }
    return beast::buffers_to_string(b.data());
}

std::string server_binary() {
    const char* p = std::getenv("LAREDO_SERVER_BIN");
    if (!p) throw std::runtime_error("LAREDO_SERVER_BIN is not set (run through meson test)");
    return p;
}

namespace {

std::vector<std::string> environment_with(const std::map<std::string, std::string>& extra) {
    std::vector<std::string> out;
    for (char** e = environ; *e; ++e) {
        const std::string entry(*e);
        const auto name = entry.substr(0, entry.find('='));
        // The server reads LAREDO_* as overrides: the test's own (LAREDO_SERVER_BIN) must not leak.
        if (name.rfind("LAREDO_", 0) == 0) continue;
        out.push_back(entry);
    }
    for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
    return out;
}

}  // namespace

int spawn_program(const std::string& binary, const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env, const std::string& out_path,
                  const std::string& err_path) {
    std::vector<std::string> argv_s{binary};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    auto env_s = environment_with(env);
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + argv_s[0]);
    return pid;
}

namespace {

int spawn(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
          const std::string& out_path, const std::string& err_path) {
    return spawn_program(server_binary(), args, env, out_path, err_path);
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

server_process::server_process(const std::vector<std::string>& args,
                               const std::filesystem::path& log_dir,
                               const std::map<std::string, std::string>& env)
    : stderr_path_(log_dir / "server.log") {
    pid_ = spawn(args, env, (log_dir / "server.out").string(), stderr_path_.string());
}

server_process::~server_process() {
    if (running()) {
        ::kill(pid_, SIGKILL);
        wait(std::chrono::seconds(10));
    }
}

std::uint16_t server_process::port_of(const std::string& listener,
                                      std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        std::istringstream lines(log());
        std::string line;
        while (std::getline(lines, line)) {
            const auto j = [&] {
                try {
                    return laredo::json::parse(line);
                } catch (const std::exception&) {
                    return boost::json::value(nullptr);
                }
            }();
            if (!j.is_object()) continue;
            const auto& o = j.as_object();
            if (o.contains("msg") && o.at("msg") == "listening" && o.contains("listener") &&
                o.at("listener") == listener.c_str())
                return static_cast<std::uint16_t>(o.at("port").to_number<std::int64_t>());
        }
        if (!running()) throw std::runtime_error("laredo-server exited early:\n" + log());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("laredo-server did not listen in time:\n" + log());
}

void server_process::signal(int sig) { ::kill(pid_, sig); }

bool server_process::running() {
    if (status_) return false;
    int status = 0;
    const auto r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        status_ = status;
        return false;
    }
    return r == 0;
}

int server_process::wait(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (running()) {
        if (std::chrono::steady_clock::now() > deadline) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return decode_status(*status_);
}

std::string server_process::log() const { return read_file(stderr_path_); }

run_result run_server(const std::vector<std::string>& args, const std::filesystem::path& dir,
                      const std::map<std::string, std::string>& env) {
    return run_program(server_binary(), args, dir, env);
}

int wait_exit_code(int pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return decode_status(status);
}

run_result run_program(const std::string& binary, const std::vector<std::string>& args,
                       const std::filesystem::path& dir,
                       const std::map<std::string, std::string>& env) {
    const auto out = (dir / "run.out").string();
    const auto err = (dir / "run.err").string();
    const int pid = spawn_program(binary, args, env, out, err);
    const int code = wait_exit_code(pid);
    return {code, read_file(out), read_file(err)};
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
        if (done()) return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace laredo::server::testing
