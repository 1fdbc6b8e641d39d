#include "laredo/sources/postgres/connection_params.hpp"

#include "laredo/error.hpp"
#include "libpq_options.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <set>
#include <string>

namespace laredo::sources::postgres {

namespace {

using conninfo_ptr = std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)>;

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

std::set<std::string, std::less<>> known_keywords() {
    std::set<std::string, std::less<>> out;
    conninfo_ptr defaults(PQconndefaults(), &PQconninfoFree);
    if (!defaults) return out;
    for (auto* o = defaults.get(); o->keyword; ++o) out.emplace(o->keyword);
    return out;
}

// libpq's parse errors quote fragments of the input ("missing "=" after "..."), and such a
// fragment can be part of a password. Keep a quoted fragment only when it is a connection
// keyword (or "="), which is what makes the message useful; replace anything else.
std::string redact_parse_error(std::string_view message) {
    const auto keywords = known_keywords();
    std::string out;
    std::size_t pos = 0;
    while (pos < message.size()) {
        const auto open = message.find('"', pos);
        if (open == std::string_view::npos) {
            out.append(message.substr(pos));
            break;
        }
        const auto close = message.find('"', open + 1);
        if (close == std::string_view::npos) {
            out.append(message.substr(pos, open - pos));
            out.append("\"...\"");
            break;
        }
        out.append(message.substr(pos, open - pos));
        const auto fragment = message.substr(open + 1, close - open - 1);
        if (fragment == "=" || keywords.contains(fragment)) {
            out.append(message.substr(open, close - open + 1));
        } else {
            out.append("\"...\"");
        }
        pos = close + 1;
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

template <typename Int>
Int parse_number(std::string_view keyword, std::string_view text, Int min, Int max) {
    long long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || v < min || v > max) {
        throw error(errc::invalid_argument, "invalid connection string: " + std::string(keyword) +
                                                " must be a number from " + std::to_string(min) +
                                                " to " + std::to_string(max));
    }
    return static_cast<Int>(v);
}

}  // namespace

connection_params connection_params::from_conninfo(std::string_view conninfo) {
    char* errmsg = nullptr;
    const std::string text(conninfo);
    conninfo_ptr parsed(PQconninfoParse(text.c_str(), &errmsg), &PQconninfoFree);
    if (!parsed) {
        std::string why = errmsg ? redact_parse_error(errmsg) : "out of memory";
        if (errmsg) PQfreemem(errmsg);
        throw error(errc::invalid_argument, "invalid connection string: " + why);
    }

    connection_params p;
    for (auto* o = parsed.get(); o->keyword; ++o) {
        if (!o->val) continue;
        const std::string_view key = o->keyword;
        std::string value = o->val;
        if (key == "host") {
            p.host = std::move(value);
        } else if (key == "port") {
            if (value.find(',') != std::string::npos)
                throw error(errc::invalid_argument,
                            "invalid connection string: port lists are not supported; give one "
                            "port for all hosts");
            p.port = value.empty() ? 0 : parse_number<std::uint16_t>(key, value, 1, 65535);
        } else if (key == "dbname") {
            p.dbname = std::move(value);
        } else if (key == "user") {
            p.user = std::move(value);
        } else if (key == "password") {
            p.password = std::move(value);
        } else if (key == "passfile") {
            p.passfile = std::move(value);
        } else if (key == "sslmode") {
            p.sslmode = std::move(value);
        } else if (key == "sslrootcert") {
            p.sslrootcert = std::move(value);
        } else if (key == "sslcert") {
            p.sslcert = std::move(value);
        } else if (key == "sslkey") {
            p.sslkey = std::move(value);
        } else if (key == "application_name") {
            p.application_name = std::move(value);
        } else if (key == "replication") {
            if (iequals(value, "database")) {
                p.replication = true;
            } else if (iequals(value, "false") || iequals(value, "off") || iequals(value, "no") ||
                       value == "0") {
                p.replication = false;
            } else {
                throw error(errc::invalid_argument,
                            "invalid connection string: only replication=database (logical) is "
                            "supported, not physical replication");
            }
        } else if (key == "connect_timeout") {
            p.connect_timeout = std::chrono::seconds(
                value.empty() ? 0 : parse_number<int>(key, value, -1000000, 1000000));
            if (p.connect_timeout.count() < 0) p.connect_timeout = std::chrono::seconds(0);
        } else if (key == "keepalives_idle") {
            p.keepalives_idle = std::chrono::seconds(parse_number<int>(key, value, 0, 1000000));
        } else if (key == "keepalives_interval") {
            p.keepalives_interval = std::chrono::seconds(parse_number<int>(key, value, 0, 1000000));
        } else if (key == "keepalives_count") {
            p.keepalives_count = parse_number<int>(key, value, 0, 1000000);
        } else if (key == "options") {
            p.options = std::move(value);
        } else {
            p.extra.emplace_back(std::string(key), std::move(value));
        }
    }
    return p;
}

std::string connection_params::describe() const {
    std::string out = "host=" + (host.empty() ? std::string("(default)") : host);
    out += " port=" + (port == 0 ? std::string("(default)") : std::to_string(port));
    if (!dbname.empty()) out += " dbname=" + dbname;
    if (!user.empty()) out += " user=" + user;
    if (!sslmode.empty()) out += " sslmode=" + sslmode;
    if (replication) out += " replication=database";
    return out;
}

namespace detail {

void libpq_options::set(std::string_view keyword, std::string value) {
    for (auto& [k, v] : entries_) {
        if (k == keyword) {
            v = std::move(value);
            return;
        }
    }
    entries_.emplace_back(std::string(keyword), std::move(value));
}

const std::string* libpq_options::find(std::string_view keyword) const {
    for (const auto& [k, v] : entries_) {
        if (k == keyword) return &v;
    }
    return nullptr;
}

std::vector<const char*> libpq_options::keywords() const {
    std::vector<const char*> out;
    out.reserve(entries_.size() + 1);
    for (const auto& e : entries_) out.push_back(e.first.c_str());
    out.push_back(nullptr);
    return out;
}

std::vector<const char*> libpq_options::values() const {
    std::vector<const char*> out;
    out.reserve(entries_.size() + 1);
    for (const auto& e : entries_) out.push_back(e.second.c_str());
    out.push_back(nullptr);
    return out;
}

libpq_options make_libpq_options(const connection_params& p, const std::string& host,
                                 const std::string& hostaddr) {
    libpq_options o;
    // An empty value would make libpq fall back to the environment anyway; leaving it out
    // keeps the array short and the intent obvious.
    auto set_if = [&o](std::string_view key, const std::string& value) {
        if (!value.empty()) o.set(key, value);
    };
    set_if("host", host);
    set_if("hostaddr", hostaddr);
    if (p.port != 0) o.set("port", std::to_string(p.port));
    set_if("dbname", p.dbname);
    set_if("user", p.user);
    set_if("password", p.password);
    set_if("passfile", p.passfile);
    set_if("sslmode", p.sslmode);
    set_if("sslrootcert", p.sslrootcert);
    set_if("sslcert", p.sslcert);
    set_if("sslkey", p.sslkey);
    set_if("application_name", p.application_name);
    if (p.replication) o.set("replication", "database");
    o.set("keepalives", "1");
    if (p.keepalives_idle.count() > 0)
        o.set("keepalives_idle", std::to_string(p.keepalives_idle.count()));
    if (p.keepalives_interval.count() > 0)
        o.set("keepalives_interval", std::to_string(p.keepalives_interval.count()));
    if (p.keepalives_count > 0) o.set("keepalives_count", std::to_string(p.keepalives_count));
    // GSSAPI encryption is tried first by default when libpq finds Kerberos credentials,
    // which costs a round trip and a credential-cache lookup; ask for it explicitly.
    o.set("gssencmode", "disable");

    std::string options = p.options;
    for (const auto& [key, value] : p.extra) {
        if (key == "options") {
            if (!options.empty()) options += ' ';
            options += value;
        } else if (key == "client_encoding" && p.session_settings) {
            if (!iequals(value, "UTF8") && !iequals(value, "UTF-8"))
                throw error(errc::invalid_argument,
                            "client_encoding=" + value +
                                " conflicts with the session settings, which fix UTF8");
        } else {
            o.set(key, value);
        }
    }
    if (p.session_settings) {
        o.set("client_encoding", "UTF8");
        // Later -c settings win, so these override anything in the caller's options.
        if (!options.empty()) options += ' ';
        options += session_options;
    }
    if (!options.empty()) o.set("options", options);
    return o;
}

}  // namespace detail

}  // namespace laredo::sources::postgres
