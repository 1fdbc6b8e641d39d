#include "libpq_errors.hpp"

#include <cctype>

namespace laredo::sources::postgres::detail {

namespace {

std::string field(const PGresult* r, int code) {
    const char* v = PQresultErrorField(r, code);
    return v ? std::string(v) : std::string();
}

bool is_sqlstate(std::string_view s) {
    if (s.size() != 5) return false;
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c)) &&
            !std::isupper(static_cast<unsigned char>(c)))
            return false;
    }
    return true;
}

}  // namespace

std::string trim(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r'))
        text.remove_suffix(1);
    return std::string(text);
}

pg_error::fields fields_from_result(const PGresult* r) {
    pg_error::fields f;
    if (!r) {
        f.message = "no result";
        return f;
    }
    f.sqlstate = field(r, PG_DIAG_SQLSTATE);
    f.severity = field(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (f.severity.empty()) f.severity = field(r, PG_DIAG_SEVERITY);
    f.message = field(r, PG_DIAG_MESSAGE_PRIMARY);
    f.detail = field(r, PG_DIAG_MESSAGE_DETAIL);
    f.hint = field(r, PG_DIAG_MESSAGE_HINT);
    if (f.message.empty()) {
        // libpq's own failures (connection lost) have no primary message field.
        f.message = trim(PQresultErrorMessage(r));
    }
    return f;
}

pg_error::fields fields_from_message(std::string_view text) {
    pg_error::fields f;
    static constexpr std::string_view severities[] = {"FATAL:  ", "ERROR:  ", "PANIC:  "};
    std::string cleaned;
    std::size_t line_start = 0;
    while (line_start < text.size()) {
        auto line_end = text.find('\n', line_start);
        if (line_end == std::string_view::npos) line_end = text.size();
        std::string_view line = text.substr(line_start, line_end - line_start);
        line_start = line_end + 1;
        if (line.starts_with("LOCATION:  ")) continue;
        std::string kept(line);
        for (auto sev : severities) {
            const auto at = kept.find(sev);
            if (at == std::string::npos) continue;
            const auto code_at = at + sev.size();
            const std::string_view rest = std::string_view(kept).substr(code_at);
            if (rest.size() >= 7 && is_sqlstate(rest.substr(0, 5)) && rest.substr(5, 2) == ": ") {
                f.sqlstate = std::string(rest.substr(0, 5));
                f.severity = std::string(sev.substr(0, sev.size() - 3));
                kept.erase(code_at, 7);
            }
            break;
        }
        if (!cleaned.empty()) cleaned += '\n';
        cleaned += kept;
    }
    f.message = trim(cleaned);
    return f;
}

}  // namespace laredo::sources::postgres::detail
