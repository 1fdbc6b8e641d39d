#include "laredo/sources/postgres/pg_error.hpp"

#include <string>

namespace laredo::sources::postgres {

namespace {

std::string compose(std::string_view context, const pg_error::fields& f) {
    std::string out(context);
    out += ": ";
    if (!f.severity.empty()) {
        out += f.severity;
        out += f.sqlstate.empty() ? ": " : " ";
    }
    if (!f.sqlstate.empty()) {
        out += f.sqlstate;
        out += ": ";
    }
    out += f.message.empty() ? std::string("unknown error") : f.message;
    if (!f.detail.empty()) out += " (DETAIL: " + f.detail + ")";
    if (!f.hint.empty()) out += " (HINT: " + f.hint + ")";
    return out;
}

}  // namespace

errc classify_sqlstate(std::string_view s) noexcept {
    if (s.empty()) return errc::transient;
    if (s.size() != 5) return errc::source_failed;
    const auto cls = s.substr(0, 2);
    if (cls == "08" || cls == "40" || cls == "53") return errc::transient;
    if (s == "57014" || s == "57P01" || s == "57P02" || s == "57P03" || s == "57P05")
        return errc::transient;
    if (s == "55P03" || s == "55006" || s == "25P03" || s == "58000" || s == "58030")
        return errc::transient;
    return errc::source_failed;
}

pg_error::pg_error(std::string_view context, fields f)
    : laredo::error(classify_sqlstate(f.sqlstate), compose(context, f)), fields_(std::move(f)) {}

pg_error::pg_error(errc code, std::string_view context, fields f)
    : laredo::error(code, compose(context, f)), fields_(std::move(f)) {}

}  // namespace laredo::sources::postgres
