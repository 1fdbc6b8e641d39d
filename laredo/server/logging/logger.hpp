#pragma once

#include "laredo/server/config/server_config.hpp"

#include <boost/json/value.hpp>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace spdlog {
class logger;
}

namespace laredo::server::logging {

enum class level { trace, debug, info, warn, error };

// One key=value of a log line.
struct field {
    field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
    field(std::string_view k, std::string_view v) : key(k), value(v) {}
    field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
    field(std::string_view k, boost::json::value v) : key(k), value(std::move(v)) {}
    template <class T>
    requires std::is_arithmetic_v<T> field(std::string_view k, T v) : key(k), value(v) {}

    std::string_view key;
    boost::json::value value;
};

// The server's log, through spdlog to stderr: one JSON object per line ({"time","level",
// "msg", fields...}; time RFC 3339 UTC) or, for people, "time LEVEL msg key=value ...". The
// format "auto" picks text on a terminal and JSON otherwise. Thread-safe. Passed by
// reference, never global.
class logger {
  public:
    explicit logger(const config::logging_config& options);
    ~logger();

    bool enabled(level l) const noexcept { return l >= min_; }
    void log(level l, std::string_view msg, std::initializer_list<field> fields = {});
    void trace(std::string_view msg, std::initializer_list<field> fields = {}) {
        log(level::trace, msg, fields);
    }
    void debug(std::string_view msg, std::initializer_list<field> fields = {}) {
        log(level::debug, msg, fields);
    }
    void info(std::string_view msg, std::initializer_list<field> fields = {}) {
        log(level::info, msg, fields);
    }
    void warn(std::string_view msg, std::initializer_list<field> fields = {}) {
        log(level::warn, msg, fields);
    }
    void error(std::string_view msg, std::initializer_list<field> fields = {}) {
        log(level::error, msg, fields);
    }

    bool json() const noexcept { return json_; }

    // The line `log` writes, without writing it (tests).
    std::string format(level l, std::string_view msg, std::initializer_list<field> fields) const;

  private:
    level min_ = level::info;
    bool json_ = true;
    std::shared_ptr<spdlog::logger> out_;
};

level parse_level(std::string_view text);

}  // namespace laredo::server::logging
