#include "source_bench_support.hpp"

#include <libpq-fe.h>

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace laredo::bench::postgres {

const char* const session_options =
    "-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=postgres -c extra_float_digits=3 "
    "-c bytea_output=hex";

namespace {

double seconds_of(const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

}  // namespace

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double process_cpu_s() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return seconds_of(u.ru_utime) + seconds_of(u.ru_stime);
}

namespace {

// utime + stime (fields 14 and 15) of a /proc/.../stat file, in seconds; -1 when unreadable.
double cpu_of_stat_file(const std::string& path) {
    std::ifstream in(path);
    std::string text;
    if (!std::getline(in, text)) return -1;
    // The command name (field 2) may contain spaces: count fields after its closing paren.
    const auto paren = text.rfind(')');
    if (paren == std::string::npos) return -1;
    std::istringstream fields(text.substr(paren + 2));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

double process_cpu_s(int pid) { return cpu_of_stat_file("/proc/" + std::to_string(pid) + "/stat"); }

std::vector<std::pair<int, double>> thread_cpu_s() {
    std::vector<std::pair<int, double>> out;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
        const int tid = std::stoi(entry.path().filename().string());
        out.emplace_back(tid, cpu_of_stat_file(entry.path().string() + "/stat"));
    }
    return out;
}

double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double quantile(std::vector<double> values, double q) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

double series::rows_per_sec(std::uint64_t rows) const {
    return static_cast<double>(rows) / median(seconds);
}

double series::cpu_us_per_row(std::uint64_t rows) const {
    return median(cpu_seconds) * 1e6 / static_cast<double>(rows);
}

double series::cpu_pct() const {
    std::vector<double> pct;
    for (std::size_t i = 0; i < seconds.size(); ++i)
        pct.push_back(seconds[i] > 0 ? cpu_seconds[i] / seconds[i] * 100 : 0);
    return median(pct);
}

void metric(const std::string& key, const std::string& value) {
    std::cout << key << ": " << value << std::endl;
}

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    char* end = nullptr;
    const auto parsed = std::strtoull(v, &end, 10);
    if (*end) throw std::runtime_error(std::string(name) + " must be a whole number, not " + v);
    return parsed;
}

std::string env_text(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

run_figures raw_libpq_copy(const std::string& conninfo, const std::string& select_sql) {
    PGconn* c = PQconnectdb(conninfo.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
        const std::string why = PQerrorMessage(c);
        PQfinish(c);
        throw std::runtime_error("raw COPY: connect: " + why);
    }
    const auto fail = [c](const char* what) {
        const std::string why = PQerrorMessage(c);
        PQfinish(c);
        throw std::runtime_error(std::string("raw COPY: ") + what + ": " + why);
    };
    const std::string sql = "COPY (" + select_sql + ") TO STDOUT";
    run_figures r;
    const double server0 = process_cpu_s(PQbackendPID(c));
    const double t0 = now_s();
    const double c0 = process_cpu_s();
    PGresult* res = PQexec(c, sql.c_str());
    const bool started = PQresultStatus(res) == PGRES_COPY_OUT;
    PQclear(res);
    if (!started) fail("start");
    char* buf = nullptr;
    int n = 0;
    while ((n = PQgetCopyData(c, &buf, 0)) > 0) {
        r.bytes += static_cast<std::uint64_t>(n);
        r.rows += static_cast<std::uint64_t>(std::count(buf, buf + n, '\n'));
        PQfreemem(buf);
    }
    if (n == -2) fail("read");
    res = PQgetResult(c);
    const bool ended = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ended) fail("end");
    r.seconds = now_s() - t0;
    r.cpu_seconds = process_cpu_s() - c0;
    r.server_cpu_seconds = process_cpu_s(PQbackendPID(c)) - server0;
    PQfinish(c);
    return r;
}

run_figures run_pg_recvlogical(const recvlogical_args& a) {
    // The server's own binary, not the pg_wrapper script on PATH (perl would add its start-up
    // to the child's CPU time).
    const std::string program = env_text("PGBIN", "/usr/lib/postgresql/15/bin") + "/pg_recvlogical";
    std::vector<std::string> args{program,
                                  "-h",
                                  a.host,
                                  "-p",
                                  std::to_string(a.port),
                                  "-U",
                                  a.user,
                                  "-d",
                                  a.dbname,
                                  "--slot",
                                  a.slot,
                                  "--start",
                                  "-E",
                                  a.end_lsn,
                                  "-o",
                                  "proto_version=1",
                                  "-o",
                                  "publication_names=" + a.publication,
                                  "-F",
                                  "0",
                                  "-s",
                                  "10",
                                  "--no-loop",
                                  "-f",
                                  "/dev/null"};
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);

    run_figures r;
    const double t0 = now_s();
    pid_t pid = 0;
    if (const int rc = posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ);
        rc != 0) {
        throw std::runtime_error("cannot start " + program + ": " + std::strerror(rc));
    }
    int status = 0;
    rusage usage{};
    while (wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) throw std::runtime_error("wait4 on pg_recvlogical failed");
    }
    r.seconds = now_s() - t0;
    r.cpu_seconds = seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error("pg_recvlogical on slot " + a.slot + " failed (status " +
                                 std::to_string(status) + ")");
    }
    return r;
}

}  // namespace laredo::bench::postgres
