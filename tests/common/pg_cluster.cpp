#include "pg_cluster.hpp"

#include <libpq-fe.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace laredo::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool running_as_root() { return ::geteuid() == 0; }

struct pg_user {
    uid_t uid;
    gid_t gid;
};

pg_user postgres_user() {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw) throw std::runtime_error("pg_cluster: running as root, but there is no postgres user");
    return {pw->pw_uid, pw->pw_gid};
}

void give_to_postgres(const std::string& path) {
    if (!running_as_root()) return;
    const auto u = postgres_user();
    if (::chown(path.c_str(), u.uid, u.gid) != 0)
        throw std::runtime_error("pg_cluster: chown " + path + ": " + std::strerror(errno));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string tail(const std::string& text, std::size_t n = 4000) {
    return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

void write_file(const std::string& path, const std::string& text, bool append = false) {
    std::ofstream out(path, append ? std::ios::app : std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("pg_cluster: cannot write " + path);
}

// Runs argv (as the postgres OS user when we are root and `as_postgres`), bounded by
// `timeout`, with stdin from /dev/null, output appended to `output`, no inherited
// descriptors beyond 0-2 (a test runner waits for its pipes to close), in directory `cwd`.
// Returns the exit status; 128+n for a signal.
int run(std::vector<std::string> argv, bool as_postgres, const std::string& cwd,
        const std::string& output, std::chrono::seconds timeout = 120s) {
    std::vector<std::string> full = {"timeout", "-k", "10", std::to_string(timeout.count())};
    if (as_postgres && running_as_root()) {
        for (const char* a : {"runuser", "-u", "postgres", "--"}) full.emplace_back(a);
    }
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (auto& a : full) args.push_back(a.data());
    args.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error("pg_cluster: cannot run " + full[0] + ": " + std::strerror(rc));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

void run_or_throw(const std::vector<std::string>& argv, bool as_postgres, const std::string& cwd,
                  const std::string& output, std::chrono::seconds timeout = 120s) {
    const auto start = read_file(output).size();
    const int rc = run(argv, as_postgres, cwd, output, timeout);
    if (rc != 0) {
        std::string cmd;
        for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
        throw std::runtime_error("pg_cluster: `" + cmd + "` failed with status " +
                                 std::to_string(rc) + ":\n" +
                                 tail(read_file(output).substr(start)));
    }
}

bool process_alive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

std::string process_cmdline(int pid) {
    std::string text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
    for (auto& c : text)
        if (c == '\0') c = ' ';
    return text;
}

int read_postmaster_pid(const std::string& data_dir) {
    std::ifstream in(data_dir + "/postmaster.pid");
    int pid = 0;
    if (!(in >> pid)) return 0;
    return pid;
}

void wait_gone(int pid, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (process_alive(pid) && std::chrono::steady_clock::now() < until) {
        // A child of ours must be reaped to disappear; the postmaster never is (pg_ctl
        // daemonizes it), so this only matters for the watchdog.
        ::waitpid(pid, nullptr, WNOHANG);
        std::this_thread::sleep_for(20ms);
    }
}

std::uint16_t free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) throw std::runtime_error("pg_cluster: socket: " + std::string(std::strerror(errno)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(s);
        throw std::runtime_error("pg_cluster: cannot find a free port: " +
                                 std::string(std::strerror(errno)));
    }
    ::close(s);
    return ntohs(addr.sin_port);
}

std::string executable_path() {
    std::error_code ec;
    auto p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string("unknown") : p.string();
}

std::string default_base_dir(const std::string& name) {
    char hash[17];
    std::snprintf(hash, sizeof hash, "%08zx",
                  std::hash<std::string>{}(executable_path() + "\n" + name) & 0xffffffffu);
    return "/tmp/laredo-pg-" + name + "-" + hash;
}

std::string sql_literal(std::string_view text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

struct pgconn_closer {
    void operator()(PGconn* c) const { PQfinish(c); }
};
struct pgresult_closer {
    void operator()(PGresult* r) const { PQclear(r); }
};

std::unique_ptr<PGresult, pgresult_closer> run_sql(const std::string& conninfo,
                                                   std::string_view sql) {
    std::unique_ptr<PGconn, pgconn_closer> conn(PQconnectdb(conninfo.c_str()));
    if (PQstatus(conn.get()) != CONNECTION_OK)
        throw std::runtime_error("pg_cluster: connect: " + std::string(PQerrorMessage(conn.get())));
    std::unique_ptr<PGresult, pgresult_closer> r(PQexec(conn.get(), std::string(sql).c_str()));
    const auto st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        throw std::runtime_error("pg_cluster: `" + std::string(sql) +
                                 "` failed: " + PQresultErrorMessage(r.get()));
    }
    return r;
}

}  // namespace

void remove_leftover_cluster(const std::string& base_dir) {
    std::error_code ec;
    if (!fs::exists(base_dir, ec)) return;
    const std::string data = base_dir + "/data";
    const int pid = read_postmaster_pid(data);
    // Only a live postmaster of *this* data directory: PIDs get recycled.
    if (process_alive(pid) && process_cmdline(pid).find(data) != std::string::npos) {
        ::kill(pid, SIGQUIT);  // immediate shutdown: the children go with it
        wait_gone(pid, 10s);
        if (process_alive(pid)) {
            ::kill(pid, SIGKILL);
            wait_gone(pid, 5s);
        }
    }
    fs::remove_all(base_dir, ec);
}

pg_cluster::pg_cluster(pg_cluster_options options) : options_(std::move(options)) {
    base_dir_ = options_.base_dir.empty() ? default_base_dir(options_.name) : options_.base_dir;
    try {
        start();
    } catch (...) {
        stop();
        throw;
    }
}

pg_cluster::~pg_cluster() { stop(); }

void pg_cluster::start() {
    remove_leftover_cluster(base_dir_);
    fs::create_directories(base_dir_ + "/tls");
    ::chmod(base_dir_.c_str(), 0700);
    give_to_postgres(base_dir_);
    generate_certificates();
    init_data_directory();

    // The port is free when we look, but another process may take it before the server
    // binds it: try a few.
    for (int attempt = 0; attempt < 5 && !running_; ++attempt) {
        if (try_start_on(free_port())) break;
    }
    if (!running_) {
        throw std::runtime_error("pg_cluster: the server did not start; log:\n" +
                                 tail(read_file(log_file())));
    }
    start_watchdog();

    exec("CREATE ROLE " + std::string(password_user) + " LOGIN REPLICATION PASSWORD " +
         sql_literal(password));
    exec("CREATE ROLE " + std::string(cert_user) + " LOGIN REPLICATION");
}

void pg_cluster::generate_certificates() {
    const std::string dir = base_dir_ + "/tls";
    const std::string out = base_dir_ + "/setup.log";
    // EC keys: generating RSA ones would cost more than the rest of the start-up.
    const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt",
                                             "ec_paramgen_curve:prime256v1", "-nodes"};
    auto self_signed_ca = [&](const std::string& stem, const std::string& cn) {
        std::vector<std::string> a = {"openssl",
                                      "req",
                                      "-x509",
                                      "-days",
                                      "3650",
                                      "-subj",
                                      "/CN=" + cn,
                                      "-keyout",
                                      stem + ".key",
                                      "-out",
                                      stem + ".crt",
                                      "-addext",
                                      "basicConstraints=critical,CA:TRUE",
                                      "-addext",
                                      "keyUsage=critical,keyCertSign,cRLSign"};
        a.insert(a.begin() + 3, ec_key.begin(), ec_key.end());
        run_or_throw(a, false, dir, out);
    };
    auto signed_cert = [&](const std::string& stem, const std::string& cn,
                           const std::string& extensions) {
        std::vector<std::string> req = {"openssl", "req",         "-new", "-subj",      "/CN=" + cn,
                                        "-keyout", stem + ".key", "-out", stem + ".csr"};
        req.insert(req.begin() + 3, ec_key.begin(), ec_key.end());
        run_or_throw(req, false, dir, out);
        write_file(dir + "/" + stem + ".ext", extensions + "\n");
        run_or_throw(
            {"openssl", "x509", "-req", "-in", stem + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "3650", "-out", stem + ".crt", "-extfile", stem + ".ext"},
            false, dir, out);
    };
    self_signed_ca("ca", "laredo test CA");
    self_signed_ca("wrong_ca", "laredo wrong CA");
    signed_cert("server", "localhost",
                "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth");
    signed_cert("client", std::string(cert_user), "extendedKeyUsage=clientAuth");

    // The server reads its key as the postgres user and insists on 0600; libpq insists on
    // the same for the client key, owned by whoever runs the tests.
    for (const auto* f : {"server.key", "server.crt", "ca.crt"}) give_to_postgres(dir + "/" + f);
    ::chmod((dir + "/server.key").c_str(), 0600);
    ::chmod((dir + "/client.key").c_str(), 0600);
    ::chmod(dir.c_str(), 0755);
}

void pg_cluster::init_data_directory() {
    const std::string out = base_dir_ + "/setup.log";
    run_or_throw({options_.bin_dir + "/initdb", "-D", data_dir(), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "-N"},
                 true, base_dir_, out);

    std::string conf = "\n# --- laredo pg_cluster ---\n";
    conf += "listen_addresses = '" + host_ + "'\n";
    conf += "unix_socket_directories = ''\n";
    conf += "wal_level = logical\n";
    conf += "max_wal_senders = 20\n";
    conf += "max_replication_slots = 20\n";
    conf += "max_connections = 100\n";
    // Durability is not what these clusters are for; speed of set-up is.
    conf += "fsync = off\n";
    conf += "full_page_writes = off\n";
    conf += "autovacuum = off\n";
    conf += "ssl = on\n";
    conf += "ssl_cert_file = '" + base_dir_ + "/tls/server.crt'\n";
    conf += "ssl_key_file = '" + base_dir_ + "/tls/server.key'\n";
    conf += "ssl_ca_file = '" + base_dir_ + "/tls/ca.crt'\n";
    for (const auto& s : options_.settings) conf += s + "\n";
    write_file(data_dir() + "/postgresql.conf", conf, true);

    write_file(data_dir() + "/pg_hba.conf",
               "# TYPE   DATABASE  USER         ADDRESS        METHOD\n"
               "hostssl  all       " +
                   std::string(cert_user) +
                   "  127.0.0.1/32   cert\n"
                   "host     all       postgres     127.0.0.1/32   trust\n"
                   "host     all       all          127.0.0.1/32   scram-sha-256\n");
}

bool pg_cluster::try_start_on(std::uint16_t port) {
    const std::string out = base_dir_ + "/setup.log";
    const int rc = run({options_.bin_dir + "/pg_ctl", "-D", data_dir(), "-l", log_file(), "-w",
                        "-t", std::to_string(options_.start_timeout.count()), "-o",
                        "-p " + std::to_string(port), "start"},
                       true, base_dir_, out, options_.start_timeout + 30s);
    if (rc == 0) {
        port_ = port;
        running_ = true;
        return true;
    }
    // A half-started server (pg_ctl gave up waiting) must not survive the retry.
    const int pid = read_postmaster_pid(data_dir());
    if (process_alive(pid) && process_cmdline(pid).find(data_dir()) != std::string::npos) {
        ::kill(pid, SIGQUIT);
        wait_gone(pid, 10s);
    }
    const auto log = read_file(log_file());
    if (log.find("could not bind") == std::string::npos &&
        log.find("could not create any TCP/IP sockets") == std::string::npos) {
        throw std::runtime_error("pg_cluster: pg_ctl start failed; log:\n" + tail(log) +
                                 "\nsetup output:\n" + tail(read_file(out)));
    }
    return false;
}

void pg_cluster::start_watchdog() {
    // Stops the server once this process is gone, if nobody else did: covers crashes and
    // SIGKILL, where no destructor runs.
    const std::string script =
        "parent=$1; data=$2; base=$3; pgctl=$4; asroot=$5\n"
        "while kill -0 \"$parent\" 2>/dev/null && [ -f \"$data/postmaster.pid\" ]; do sleep 1; "
        "done\n"
        "if [ -f \"$data/postmaster.pid\" ]; then\n"
        "  if [ \"$asroot\" = 1 ]; then\n"
        "    runuser -u postgres -- \"$pgctl\" -D \"$data\" -m immediate -w -t 30 stop\n"
        "  else\n"
        "    \"$pgctl\" -D \"$data\" -m immediate -w -t 30 stop\n"
        "  fi\n"
        "  rm -rf \"$base\"\n"
        "fi\n";
    std::vector<std::string> argv = {"/bin/sh",
                                     "-c",
                                     script,
                                     "pg_cluster_watchdog",
                                     std::to_string(::getpid()),
                                     data_dir(),
                                     base_dir_,
                                     options_.bin_dir + "/pg_ctl",
                                     running_as_root() ? "1" : "0"};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw std::runtime_error("pg_cluster: cannot start the watchdog: " +
                                 std::string(std::strerror(rc)));
    watchdog_pid_ = pid;
}

void pg_cluster::stop_watchdog() noexcept {
    if (watchdog_pid_ <= 0) return;
    ::kill(watchdog_pid_, SIGTERM);
    while (::waitpid(watchdog_pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    watchdog_pid_ = -1;
}

void pg_cluster::stop() noexcept {
    try {
        // The watchdog first, so it cannot race us to removing the directory.
        stop_watchdog();
        if (running_) {
            const int pid = read_postmaster_pid(data_dir());
            const int rc = run({options_.bin_dir + "/pg_ctl", "-D", data_dir(), "-m", "fast", "-w",
                                "-t", "30", "stop"},
                               true, base_dir_, base_dir_ + "/setup.log", 60s);
            if (rc != 0 && process_alive(pid)) {
                ::kill(pid, SIGQUIT);
                wait_gone(pid, 10s);
            }
            running_ = false;
        }
        remove_leftover_cluster(base_dir_);
    } catch (...) {
        // A destructor must not throw; the next run removes what is left.
    }
}

void pg_cluster::restart() {
    const std::string out = base_dir_ + "/setup.log";
    const int rc = run({options_.bin_dir + "/pg_ctl", "-D", data_dir(), "-l", log_file(), "-m",
                        "fast", "-w", "-t", std::to_string(options_.start_timeout.count()), "-o",
                        "-p " + std::to_string(port_), "restart"},
                       true, base_dir_, out, options_.start_timeout + 30s);
    if (rc != 0) {
        throw std::runtime_error("pg_cluster: pg_ctl restart failed; log:\n" +
                                 tail(read_file(log_file())) + "\npg_ctl:\n" +
                                 tail(read_file(out)));
    }
}

int pg_cluster::postmaster_pid() const { return read_postmaster_pid(data_dir()); }

std::string pg_cluster::conninfo(std::string_view dbname) const {
    return "host=" + host_ + " port=" + std::to_string(port_) +
           " user=postgres dbname=" + std::string(dbname) + " sslmode=disable";
}

void pg_cluster::exec(std::string_view sql, std::string_view dbname) const {
    run_sql(conninfo(dbname), sql);
}

std::string pg_cluster::query_value(std::string_view sql, std::string_view dbname) const {
    auto r = run_sql(conninfo(dbname), sql);
    if (PQntuples(r.get()) < 1 || PQnfields(r.get()) < 1) return {};
    return PQgetvalue(r.get(), 0, 0);
}

void pg_cluster::create_database(std::string_view name) const {
    std::string quoted = "\"";
    for (char c : name) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    quoted += '"';
    if (query_value("SELECT count(*) FROM pg_database WHERE datname = " + sql_literal(name)) == "0")
        exec("CREATE DATABASE " + quoted);
}

}  // namespace laredo::testing
