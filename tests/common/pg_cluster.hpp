#pragma once

// A throwaway PostgreSQL 15 cluster for tests, bench/ and local experiments: initdb in a
// directory under /tmp, loopback TCP on a free port, wal_level=logical, TLS with a CA and
// certificates generated here (openssl CLI), and three roles:
//   postgres     superuser, trust over 127.0.0.1 (plain or TLS)
//   laredo_pw    LOGIN REPLICATION, password `pg_cluster::password` (scram-sha-256)
//   laredo_cert  LOGIN REPLICATION, TLS client certificate only (client_cert_file/key_file)
// When run as root, initdb and the server run as the `postgres` OS user (PostgreSQL refuses
// to run as root).
//
// It always goes away: the destructor stops it; a watchdog process stops it if this process
// dies without running destructors (crash, SIGKILL, a test runner's timeout); and a new
// cluster with the same directory first removes whatever a crashed run left there. The
// directory is derived from the options' name and this executable's path, so test
// executables running in parallel (and the same tests in two build directories) never share
// one; running the same executable twice at once is not supported.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::testing {

struct pg_cluster_options {
    // Part of the directory name: /tmp/laredo-pg-<name>-<hash of this executable's path>.
    std::string name = "tests";
    // Use this directory instead (it is removed first, and when the cluster stops).
    std::string base_dir;
    // Extra postgresql.conf lines, e.g. "shared_buffers = 512MB"; they win over the defaults.
    std::vector<std::string> settings;
    std::string bin_dir = "/usr/lib/postgresql/15/bin";
    std::chrono::seconds start_timeout{60};
};

class pg_cluster {
  public:
    static constexpr std::string_view password_user = "laredo_pw";
    static constexpr std::string_view password = "pw-Secret-4711-never-logged";
    static constexpr std::string_view cert_user = "laredo_cert";

    // Creates and starts the cluster; throws std::runtime_error (with the failing command's
    // output) when it cannot.
    explicit pg_cluster(pg_cluster_options options = {});
    ~pg_cluster();
    pg_cluster(const pg_cluster&) = delete;
    pg_cluster& operator=(const pg_cluster&) = delete;

    // Stops the server (fast shutdown, then SIGQUIT if it does not stop) and removes the
    // directory. Idempotent.
    void stop() noexcept;
    bool running() const noexcept { return running_; }
    // Restarts the server in place (fast shutdown: every connection is closed; same data and
    // port). Throws std::runtime_error with the log's end when it does not come back.
    void restart();

    const std::string& host() const noexcept { return host_; }  // "127.0.0.1"
    std::uint16_t port() const noexcept { return port_; }
    const std::string& base_dir() const noexcept { return base_dir_; }
    std::string data_dir() const { return base_dir_ + "/data"; }
    std::string log_file() const { return base_dir_ + "/postgres.log"; }
    int postmaster_pid() const;

    // TLS material. The server certificate is for DNS:localhost and IP:127.0.0.1.
    std::string ca_file() const { return base_dir_ + "/tls/ca.crt"; }
    // A different CA that did not sign the server certificate (for verification failures).
    std::string wrong_ca_file() const { return base_dir_ + "/tls/wrong_ca.crt"; }
    std::string client_cert_file() const { return base_dir_ + "/tls/client.crt"; }
    std::string client_key_file() const { return base_dir_ + "/tls/client.key"; }

    // libpq conninfo of the superuser over plain TCP.
    std::string conninfo(std::string_view dbname = "postgres") const;

    // Blocking helpers for test set-up, as the superuser. Throw std::runtime_error with the
    // server's message.
    void exec(std::string_view sql, std::string_view dbname = "postgres") const;
    // The first column of the first row (empty if no row; "" for NULL).
    std::string query_value(std::string_view sql, std::string_view dbname = "postgres") const;
    void create_database(std::string_view name) const;

  private:
    void start();
    void generate_certificates();
    void init_data_directory();
    bool try_start_on(std::uint16_t port);
    void start_watchdog();
    void stop_watchdog() noexcept;

    pg_cluster_options options_;
    std::string base_dir_;
    std::string host_ = "127.0.0.1";
    std::uint16_t port_ = 0;
    bool running_ = false;
    int watchdog_pid_ = -1;
};

// Stops a server a crashed run left in `base_dir` (only the postmaster named in its
// postmaster.pid, and only if that process's command line names the data directory) and
// removes the directory.
void remove_leftover_cluster(const std::string& base_dir);

}  // namespace laredo::testing
