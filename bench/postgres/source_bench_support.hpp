#pragma once

// Pieces of source_bench that are not the PostgreSQL source itself: the clocks, the figures
// (medians, percentiles, `metric: value` lines), the knobs, and the two raw baselines it
// runs beside laredo: a bare libpq text COPY and pg_recvlogical.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace laredo::bench::postgres {

// Seconds on the steady clock, and CPU seconds (user + system) of this whole process.
double now_s();
double process_cpu_s();
// CPU seconds (user + system) another process of this machine has used so far, from
// /proc/<pid>/stat; -1 when it cannot be read.
double process_cpu_s(int pid);
// The same for each thread of this process: (thread id, CPU seconds).
std::vector<std::pair<int, double>> thread_cpu_s();

double median(std::vector<double> values);
// The q-quantile (0..1) by nearest rank; 0 for no values.
double quantile(std::vector<double> values, double q);

void metric(const std::string& key, const std::string& value);
std::string fixed(double v, int digits);

// An unsigned knob from the environment, or `fallback` when unset or empty.
std::uint64_t env_u64(const char* name, std::uint64_t fallback);
std::string env_text(const char* name, const std::string& fallback);

// What one measured run of one consumer did.
struct run_figures {
    double seconds = 0;
    double cpu_seconds = 0;  // the consumer's own process (or this process for laredo)
    std::uint64_t rows = 0;
    std::uint64_t bytes = 0;
    double server_cpu_seconds = -1;  // the server backend that served it, when known
};

// The runs of one consumer, and their medians.
struct series {
    std::vector<double> seconds;
    std::vector<double> cpu_seconds;
    void add(const run_figures& f) {
        seconds.push_back(f.seconds);
        cpu_seconds.push_back(f.cpu_seconds);
    }
    double rows_per_sec(std::uint64_t rows) const;
    double cpu_us_per_row(std::uint64_t rows) const;
    double cpu_pct() const;  // of one core, while it ran
};

// The session settings laredo's connections apply; the raw COPY client sets them too, so both
// receive the same text.
extern const char* const session_options;

// COPY (sql) TO STDOUT in text format with blocking libpq, one PQgetCopyData per row, rows
// counted by newlines and nothing kept: PostgreSQL's own baseline limit, the reference the
// source is compared with. Only the COPY is timed.
// Throws std::runtime_error with libpq's message.
run_figures raw_libpq_copy(const std::string& conninfo, const std::string& select_sql);

// pg_recvlogical on `slot` (pgoutput, proto_version 1, publication_names `publication`) from
// the slot's position to `end_lsn`, written to /dev/null, as the limits script runs it. Times
// the child from spawn to exit; its CPU comes from wait4. Throws std::runtime_error when it
// cannot start or exits with an error.
struct recvlogical_args {
    std::string host;
    std::uint16_t port = 0;
    std::string user;
    std::string dbname;
    std::string slot;
    std::string publication;
    std::string end_lsn;
};
run_figures run_pg_recvlogical(const recvlogical_args& args);

}  // namespace laredo::bench::postgres
