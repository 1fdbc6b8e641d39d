#pragma once

#include "laredo/sources/postgres/pg_error.hpp"

#include <libpq-fe.h>

#include <string>
#include <string_view>

namespace laredo::sources::postgres::detail {

// The diagnostic fields of an error result.
pg_error::fields fields_from_result(const PGresult* result);

// Fields from libpq's error message text, for failures without a result (connection set-up,
// lost connections). With PQERRORS_VERBOSE, libpq writes "FATAL:  28P01: message": the last
// such SQLSTATE is extracted and removed, and LOCATION lines are dropped.
pg_error::fields fields_from_message(std::string_view libpq_message);

// Removes trailing newlines and spaces.
std::string trim(std::string_view text);

}  // namespace laredo::sources::postgres::detail
