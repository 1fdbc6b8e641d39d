#pragma once

#include "laredo/error.hpp"

#include <string>
#include <string_view>

namespace laredo::sources::postgres {

// How a failure reported by PostgreSQL (or by libpq about the connection) should be handled:
// errc::transient when retrying (reconnecting) may succeed, errc::source_failed when it cannot
// (bad credentials, unknown database, a syntax or permission error, ...). Decided by SQLSTATE
// class, never by message text:
//   transient: 08 (connection exception), 40 (serialization failure, deadlock), 53
//              (insufficient resources), 57014 query canceled, 57P01 admin shutdown (what
//              pg_terminate_backend and a slot invalidation send), 57P02 crash shutdown, 57P03
//              cannot connect now, 57P05 idle session timeout, 55P03 lock not available,
//              55006 object in use (a slot still held by a dying walsender), 25P03 idle in
//              transaction timeout, 58000 / 58030 system and I/O errors.
//   fatal:     everything else, including 28 (authentication), 3D000 (unknown database),
//              42 (syntax, undefined object, privilege), 55000 (e.g. an invalidated slot).
// An empty SQLSTATE (a failure libpq detected itself, such as a lost connection) is transient.
errc classify_sqlstate(std::string_view sqlstate) noexcept;

// A failure reported by the server or by libpq. what() reads
// "<context>: <SEVERITY> <SQLSTATE>: <message> (DETAIL: ...) (HINT: ...)" and never contains
// a password. code() is errc::transient or errc::source_failed (classify_sqlstate), so
// laredo::is_fatal(e.code()) decides whether to reconnect.
class pg_error : public laredo::error {
  public:
    struct fields {
        std::string sqlstate;  // five characters, or empty for client-side failures
        std::string severity;  // ERROR, FATAL, PANIC (non-localized); empty if unknown
        std::string message;   // the server's primary message, or libpq's
        std::string detail;
        std::string hint;
    };

    // `context` names the operation ("query", "connect to host=... port=...").
    pg_error(std::string_view context, fields f);
    // Same, with an explicit classification (e.g. errc::timeout).
    pg_error(errc code, std::string_view context, fields f);

    const std::string& sqlstate() const noexcept { return fields_.sqlstate; }
    const std::string& severity() const noexcept { return fields_.severity; }
    const std::string& server_message() const noexcept { return fields_.message; }
    const std::string& detail() const noexcept { return fields_.detail; }
    const std::string& hint() const noexcept { return fields_.hint; }
    bool retryable() const noexcept { return !laredo::is_fatal(code()); }

  private:
    fields fields_;
};

}  // namespace laredo::sources::postgres
