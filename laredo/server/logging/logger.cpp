#include "laredo/server/logging/logger.hpp"

#include "laredo/json/values.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <chrono>

namespace laredo::server::logging {

namespace {

const char* name_of(level l) {
    switch (l) {
        case level::trace:
            return "TRACE";
        case level::debug:
            return "DEBUG";
        case level::info:
            return "INFO";
        case level::warn:
            return "WARN";
        case level::error:
            return "ERROR";
    }
    return "INFO";
}

spdlog::level::level_enum to_spdlog(level l) {
    switch (l) {
        case level::trace:
            return spdlog::level::trace;
        case level::debug:
            return spdlog::level::debug;
        case level::info:
            return spdlog::level::info;
        case level::warn:
            return spdlog::level::warn;
        case level::error:
            return spdlog::level::err;
    }
    return spdlog::level::info;
}

}  // namespace

level parse_level(std::string_view text) {
    if (text == "trace") return level::trace;
    if (text == "debug") return level::debug;
    if (text == "warn") return level::warn;
    if (text == "error") return level::error;
    return level::info;
}

logger::logger(const config::logging_config& options) : min_(parse_level(options.level)) {
    const bool tty = ::isatty(STDERR_FILENO) == 1;
    json_ = options.format == "json" || (options.format == "auto" && !tty);
    spdlog::sink_ptr sink;
    if (tty && !json_)
        sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    else
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    out_ = std::make_shared<spdlog::logger>("laredo", std::move(sink));
    // Lines are formatted here (JSON needs the fields); spdlog adds only the colour and the
    // newline, and flushes each line so a crash loses nothing.
    out_->set_pattern(tty && !json_ ? "%^%v%$" : "%v");
    out_->set_level(to_spdlog(min_));
    out_->flush_on(spdlog::level::trace);
}

logger::~logger() = default;

std::string logger::format(level l, std::string_view msg,
                           std::initializer_list<field> fields) const {
    const auto time = laredo::json::format_time_point(
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
    if (json_) {
        boost::json::object line;
        line["time"] = time;
        line["level"] = name_of(l);
        line["msg"] = laredo::json::sanitize_utf8(msg);
        for (const auto& [k, v] : fields) {
            if (v.is_string())
                line[k] = laredo::json::sanitize_utf8(v.as_string());
            else
                line[k] = v;
        }
        return boost::json::serialize(line);
    }
    std::string out = time + " " + name_of(l) + " " + std::string(msg);
    for (const auto& [k, v] : fields) {
        out += ' ';
        out += k;
        out += '=';
        if (v.is_string()) {
            const std::string_view s = v.as_string();
            if (s.find_first_of(" \"=") != std::string_view::npos)
                out += boost::json::serialize(v);
            else
                out += s;
        } else {
            out += boost::json::serialize(v);
        }
    }
    return out;
}

void logger::log(level l, std::string_view msg, std::initializer_list<field> fields) {
    if (!enabled(l)) return;
    out_->log(to_spdlog(l), "{}", format(l, msg, fields));
}

}  // namespace laredo::server::logging
