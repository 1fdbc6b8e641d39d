#pragma once

// Test clients for laredo-server: one HTTP request per connection (Beast, blocking), raw
// sockets for hostile input, a WebSocket reader, and the running server process.

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace laredo::server::testing {

struct http_result {
    unsigned status = 0;
    std::string body;
    std::map<std::string, std::string> headers;
    // The body as JSON (null when it is not JSON).
    boost::json::value json() const;
};

// Sends one request to 127.0.0.1:port; throws std::runtime_error when the connection fails.
http_result http_request(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::string& token = {}, const std::string& body = {});

// GET over TLS, trusting only the certificate(s) in `ca_file`; throws when the handshake or
// the verification fails.
http_result https_request(std::uint16_t port, const std::string& ca_file, const std::string& target,
                          const std::string& token = {});

// Writes `bytes` on a fresh connection and reads until the server closes it (or `limit`
// passes); returns what came back. For malformed and oversized requests.
std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds limit = std::chrono::seconds(10));

// A WebSocket client (blocking).
class ws_client {
  public:
    // Connects and upgrades; throws on failure. A small receive buffer makes a client that
    // does not read fall behind quickly.
    ws_client(std::uint16_t port, const std::string& target, const std::string& token,
              int receive_buffer = 0);
    ~ws_client();
    ws_client(const ws_client&) = delete;
    ws_client& operator=(const ws_client&) = delete;

    // The next text message, or nullopt when the server closed (close_code/close_reason
    // then say why) or `limit` passed.
    std::optional<std::string> next(std::chrono::milliseconds limit = std::chrono::seconds(20));
    int close_code() const noexcept { return close_code_; }
    const std::string& close_reason() const noexcept { return close_reason_; }

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
    int close_code_ = 0;
    std::string close_reason_;
};

// The laredo-server binary (LAREDO_SERVER_BIN, set by meson).
std::string server_binary();

// Starts `binary` with `args` (stdin /dev/null, stdout and stderr to the files); the
// environment is this process's without LAREDO_* (the server reads those), plus `env`.
// Returns the pid; throws when it cannot start.
int spawn_program(const std::string& binary, const std::vector<std::string>& args,
                  const std::map<std::string, std::string>& env, const std::string& out_path,
                  const std::string& err_path);
// Waits for `pid` and returns its exit code (128+n for a signal).
int wait_exit_code(int pid);

// A laredo-server process started with `args`, stderr (its JSON log) and stdout in files.
class server_process {
  public:
    server_process(const std::vector<std::string>& args, const std::filesystem::path& log_dir,
                   const std::map<std::string, std::string>& env = {});
    ~server_process();

    // Waits for the "listening" log line of `listener` and returns its port; throws when the
    // process exits first or `limit` passes.
    std::uint16_t port_of(const std::string& listener,
                          std::chrono::milliseconds limit = std::chrono::seconds(60));
    void signal(int sig);
    // Waits for exit; returns the exit code (-1 on timeout, 128+n for a signal).
    int wait(std::chrono::milliseconds limit = std::chrono::seconds(60));
    bool running();
    std::string log() const;
    int pid() const noexcept { return pid_; }

  private:
    int pid_ = -1;
    std::optional<int> status_;
    std::filesystem::path stderr_path_;
};

// Runs the binary to completion (for --check and bad configurations): exit code and output.
struct run_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};
run_result run_server(const std::vector<std::string>& args, const std::filesystem::path& dir,
                      const std::map<std::string, std::string>& env = {});
// The same for any program.
run_result run_program(const std::string& binary, const std::vector<std::string>& args,
                       const std::filesystem::path& dir,
                       const std::map<std::string, std::string>& env = {});

// Polls `done` every 50 ms until it holds or `limit` passes.
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds limit = std::chrono::seconds(30));

}  // namespace laredo::server::testing
