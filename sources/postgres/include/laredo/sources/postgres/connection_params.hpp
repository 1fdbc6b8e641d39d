#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace laredo::sources::postgres {

// Everything needed to open one PostgreSQL connection. An aggregate: set the fields you need,
// leave the rest. An empty string means "not set": libpq then falls back to its environment
// variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGPASSFILE, PGSSLMODE, ...) and defaults,
// exactly as psql does.
struct connection_params {
    // Host name, IP address, or a comma-separated list of them (libpq tries each in turn).
    // Names are resolved with Asio, never by libpq's blocking resolver; the name is still
    // passed to libpq as `host`, which `sslmode=verify-full` checks the certificate against
    // and `passfile` matches on. A value starting with '/' is a Unix-socket directory.
    std::string host;
    // TCP port; 0 = libpq's default (PGPORT, else 5432).
    std::uint16_t port = 0;
    std::string dbname;
    std::string user;
    // Never printed: not by describe(), not in any error message or log line.
    std::string password;
    // A .pgpass-format file; empty = libpq's default (PGPASSFILE, else ~/.pgpass).
    std::string passfile;
    // disable | allow | prefer | require | verify-ca | verify-full; empty = libpq's default
    // (PGSSLMODE, else prefer).
    std::string sslmode;
    std::string sslrootcert;       // CA certificate(s) for verify-ca / verify-full
    std::string sslcert;           // client certificate
    std::string sslkey;            // client private key
    std::string application_name;  // shown in pg_stat_activity; e.g. "laredo:<source id>"
    // Open a logical walsender connection (`replication=database`): SQL plus replication
    // commands (IDENTIFY_SYSTEM, CREATE_REPLICATION_SLOT, START_REPLICATION). Such a
    // connection accepts only simple queries: query() with parameters fails on it.
    bool replication = false;
    // Bounds resolving, connecting, the TLS handshake and authentication together. Zero
    // means no limit. (libpq's own connect_timeout only applies to its blocking calls.)
    std::chrono::seconds connect_timeout{30};
    // TCP keepalives, so a dead peer is noticed while idle. Zero = the OS default.
    std::chrono::seconds keepalives_idle{30};
    std::chrono::seconds keepalives_interval{10};
    int keepalives_count = 3;
    // Extra server settings for the session, in libpq's `options` form ("-c name=value ...").
    // They come before the session settings below, which therefore win.
    std::string options;
    // Apply laredo's session settings: client_encoding=UTF8, TimeZone=UTC, DateStyle=ISO,
    // IntervalStyle=postgres, extra_float_digits=3, bytea_output=hex. The value converter
    // relies on these text forms, so only turn them off for connections whose output is
    // never converted.
    bool session_settings = true;
    // Any other libpq connection keyword (sslcrl, sslpassword, target_session_attrs,
    // gssencmode, ...), passed through unchanged. Unknown keywords make connect() fail.
    std::vector<std::pair<std::string, std::string>> extra;

    // Parses a libpq connection string, in key=value or URI form ("postgresql://..."), with
    // PQconninfoParse. Keywords without a field above land in `extra`. Throws laredo::error
    // (errc::invalid_argument) on a malformed string; the message never quotes a password
    // (fragments of the input are quoted only when they are known keywords).
    static connection_params from_conninfo(std::string_view conninfo);

    // A one-line description for logs and error messages: host, port, dbname, user, sslmode
    // and replication. Never contains the password.
    std::string describe() const;
};

}  // namespace laredo::sources::postgres
