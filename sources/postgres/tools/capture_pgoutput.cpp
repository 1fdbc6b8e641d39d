// capture_pgoutput: record a logical replication stream (pgoutput) as test data.
//
// Connects with libpq (sync API: this is a developer tool, not the engine), runs
//   START_REPLICATION SLOT <slot> LOGICAL 0/0 (proto_version '1', publication_names '<pub>',
//                                              messages 'true')
// and writes every CopyData message it receives, whole ('w' XLogData and 'k' keepalive
// headers included), as one line of lowercase hex. Lines starting with '#' are comments.
//
// It never confirms anything: the status updates it sends carry 0/0, which the walsender
// ignores for a logical slot, so the slot stays where it was and a capture can be repeated.
// They only keep the walsender from timing the connection out.
//
// It stops when no XLogData arrived for --idle-ms, or after --max-seconds. It keeps the first
// --max-keepalives keepalives that need no reply, and every one that asks for a reply.
//
// Build and run through capture_pgoutput.sh, which starts a throwaway cluster.

#include <libpq-fe.h>

#include <sys/select.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

struct options {
    std::string conninfo;
    std::string slot;
    std::string publication;
    std::string out;
    std::vector<std::string> comments;
    int idle_ms = 2500;
    int max_seconds = 60;
    int max_keepalives = 2;
    int status_interval_ms = 0;  // 0: only answer keepalives that ask for a reply
};

[[noreturn]] void usage(const char* why) {
    std::cerr
        << "capture_pgoutput: " << why << "\n"
        << "usage: capture_pgoutput --conninfo STR --slot NAME --publication NAME --out FILE\n"
        << "         [--comment TEXT]... [--idle-ms N] [--max-seconds N] [--max-keepalives N]\n"
        << "         [--status-interval-ms N]\n";
    std::exit(2);
}

options parse_args(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) usage(("missing value after " + a).c_str());
        const std::string v = argv[++i];
        if (a == "--conninfo")
            o.conninfo = v;
        else if (a == "--slot")
            o.slot = v;
        else if (a == "--publication")
            o.publication = v;
        else if (a == "--out")
            o.out = v;
        else if (a == "--comment")
            o.comments.push_back(v);
        else if (a == "--idle-ms")
            o.idle_ms = std::stoi(v);
        else if (a == "--max-seconds")
            o.max_seconds = std::stoi(v);
        else if (a == "--max-keepalives")
            o.max_keepalives = std::stoi(v);
        else if (a == "--status-interval-ms")
            o.status_interval_ms = std::stoi(v);
        else
            usage(("unknown option " + a).c_str());
    }
    if (o.conninfo.empty() || o.slot.empty() || o.publication.empty() || o.out.empty())
        usage("--conninfo, --slot, --publication and --out are required");
    return o;
}

void put_u64(std::string& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

// A standby status update with write = flush = apply = 0/0: keeps the connection alive and
// confirms nothing.
bool send_null_status(PGconn* conn) {
    std::string msg = "r";
    put_u64(msg, 0);
    put_u64(msg, 0);
    put_u64(msg, 0);
    put_u64(msg, 0);
    msg.push_back(0);
    if (PQputCopyData(conn, msg.data(), static_cast<int>(msg.size())) != 1) return false;
    return PQflush(conn) == 0;
}

std::string quote_literal(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

bool valid_slot_name(const std::string& s) {
    if (s.empty() || s.size() > 63) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    const options opt = parse_args(argc, argv);
    if (!valid_slot_name(opt.slot)) usage("slot names are [a-z0-9_]{1,63}");

    PGconn* conn = PQconnectdb(opt.conninfo.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        std::cerr << "capture_pgoutput: connect failed: " << PQerrorMessage(conn);
        return 1;
    }
    const std::string command = "START_REPLICATION SLOT " + opt.slot +
                                " LOGICAL 0/0 (proto_version '1', publication_names " +
                                quote_literal(opt.publication) + ", messages 'true')";
    PGresult* res = PQexec(conn, command.c_str());
    if (PQresultStatus(res) != PGRES_COPY_BOTH) {
        std::cerr << "capture_pgoutput: " << command << ": " << PQerrorMessage(conn);
        PQclear(res);
        PQfinish(conn);
        return 1;
    }
    PQclear(res);

    std::ofstream out(opt.out, std::ios::trunc);
    if (!out) {
        std::cerr << "capture_pgoutput: cannot write " << opt.out << "\n";
        return 1;
    }
    out << "# pgoutput capture: one CopyData message per line, hex\n";
    out << "# server " << PQparameterStatus(conn, "server_version") << ", TimeZone "
        << PQparameterStatus(conn, "TimeZone") << ", DateStyle "
        << PQparameterStatus(conn, "DateStyle") << ", IntervalStyle "
        << PQparameterStatus(conn, "IntervalStyle") << "\n";
    out << "# " << command << "\n";
    for (const auto& c : opt.comments) out << "# " << c << "\n";

    using clock = std::chrono::steady_clock;
    const auto started = clock::now();
    auto last_data = clock::now();
    auto last_status = clock::now();
    int keepalives = 0;
    std::size_t messages = 0;
    static const char hex[] = "0123456789abcdef";

    for (;;) {
        char* buf = nullptr;
        const int n = PQgetCopyData(conn, &buf, 1);
        if (n > 0) {
            const bool is_keepalive = buf[0] == 'k';
            const bool reply_requested = is_keepalive && n >= 18 && buf[17] != 0;
            if (buf[0] == 'w') last_data = clock::now();
            // Keepalives that ask for a reply are always kept: tests need one.
            if (!is_keepalive || reply_requested || keepalives++ < opt.max_keepalives) {
                std::string line;
                line.reserve(static_cast<std::size_t>(n) * 2);
                for (int i = 0; i < n; ++i) {
                    const auto b = static_cast<unsigned char>(buf[i]);
                    line.push_back(hex[b >> 4]);
                    line.push_back(hex[b & 15]);
                }
                out << line << "\n";
                ++messages;
            }
            PQfreemem(buf);
            if (reply_requested && !send_null_status(conn)) {
                std::cerr << "capture_pgoutput: status send failed: " << PQerrorMessage(conn);
                return 1;
            }
            continue;
        }
        if (n == -2) {
            std::cerr << "capture_pgoutput: stream failed: " << PQerrorMessage(conn);
            return 1;
        }
        if (n == -1) break;  // the server ended the copy

        const auto now = clock::now();
        if (now - last_data > std::chrono::milliseconds(opt.idle_ms)) break;
        if (now - started > std::chrono::seconds(opt.max_seconds)) {
            std::cerr << "capture_pgoutput: stopped after --max-seconds\n";
            break;
        }
        if (opt.status_interval_ms > 0 &&
            now - last_status > std::chrono::milliseconds(opt.status_interval_ms)) {
            if (!send_null_status(conn)) {
                std::cerr << "capture_pgoutput: status send failed: " << PQerrorMessage(conn);
                return 1;
            }
            last_status = now;
        }
        const int fd = PQsocket(conn);
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(fd, &readable);
        timeval tv{0, 200'000};
        if (select(fd + 1, &readable, nullptr, nullptr, &tv) < 0) {
            std::perror("capture_pgoutput: select");
            return 1;
        }
        if (PQconsumeInput(conn) == 0) {
            std::cerr << "capture_pgoutput: read failed: " << PQerrorMessage(conn);
            return 1;
        }
    }
    PQfinish(conn);
    std::cerr << "capture_pgoutput: " << messages << " messages -> " << opt.out << "\n";
    return out ? 0 : 1;
}
