// laredo-server: change data capture from PostgreSQL into in-memory tables, served over
// HTTP. Reads its TOML configuration (docs/server.md), then runs until SIGTERM/SIGINT.
//
//   laredo-server --config FILE [--conf-dir DIR] [--set key=value]... [--check]
//                 [--print-config] [--log-level LEVEL] [--log-format json|text|auto]
//   laredo-server --version | --help
//
// Exit codes: 0 success, 1 an invalid configuration or a runtime failure, 2 a usage error.

#include "laredo/server/app/server_app.hpp"
#include "laredo/server/config/load.hpp"
#include "laredo/server/logging/logger.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace {

using namespace laredo::server;

constexpr const char* usage_text =
    "usage: laredo-server --config FILE [options]\n"
    "\n"
    "  --config FILE        the main TOML file (or $LAREDO_CONFIG)\n"
    "  --conf-dir DIR       *.toml files merged after it, in name order\n"
    "                       (or $LAREDO_CONF_DIR; default /etc/laredo/conf.d; missing is fine)\n"
    "  --set KEY=VALUE      override one key (repeatable; wins over files and environment)\n"
    "  --check              check the configuration, print every problem, exit 0 or 1\n"
    "  --print-config       print the merged configuration (secrets as ***) and exit\n"
    "  --log-level LEVEL    trace, debug, info, warn or error (overrides the file)\n"
    "  --log-format FORMAT  json, text or auto (overrides the file)\n"
    "  --version            print the version\n"
    "  --help               this text\n";

struct arguments {
    std::string config;
    std::string conf_dir;
    std::vector<std::string> overrides;
    bool check = false;
    bool print_config = false;
    std::string log_level;
    std::string log_format;
};

}  // namespace

int main(int argc, char** argv) {
    arguments args;
    if (const char* c = std::getenv("LAREDO_CONFIG")) args.config = c;
    args.conf_dir = "/etc/laredo/conf.d";
    if (const char* d = std::getenv("LAREDO_CONF_DIR")) args.conf_dir = d;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](const char* name) -> std::string {
            if (i + 1 >= argc) {
                fmt::print(stderr, "laredo-server: {} needs a value\n{}", name, usage_text);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--config")
            args.config = value("--config");
        else if (a == "--conf-dir")
            args.conf_dir = value("--conf-dir");
        else if (a == "--set")
            args.overrides.push_back(value("--set"));
        else if (a == "--check")
            args.check = true;
        else if (a == "--print-config")
            args.print_config = true;
        else if (a == "--log-level")
            args.log_level = value("--log-level");
        else if (a == "--log-format")
            args.log_format = value("--log-format");
        else if (a == "--version") {
            fmt::print("laredo-server {}\n", LAREDO_SERVER_VERSION);
            return 0;
        } else if (a == "--help" || a == "-h") {
            fmt::print("{}", usage_text);
            return 0;
        } else {
            fmt::print(stderr, "laredo-server: unknown argument '{}'\n{}", a, usage_text);
            return 2;
        }
    }
    if (args.config.empty()) {
        fmt::print(stderr, "laredo-server: --config is required\n{}", usage_text);
        return 2;
    }

    config::load_options options;
    options.config_file = args.config;
    options.conf_dir = args.conf_dir;
    options.overrides = args.overrides;
    options.environment = config::laredo_environment();
    auto loaded = config::load(options);
    if (!args.log_level.empty()) loaded.config.logging.level = args.log_level;
    if (!args.log_format.empty()) loaded.config.logging.format = args.log_format;

    if (args.print_config) {
        fmt::print("{}", loaded.effective);
        return loaded.problems.empty() ? 0 : 1;
    }
    std::vector<std::string> problems;
    for (const auto& p : loaded.problems) problems.push_back(p.to_string());
    // Building what the configuration names finds what reading it cannot (a bad regular
    // expression, a directory that cannot be created): only worth it when it read cleanly.
    if (problems.empty())
        for (auto& p : app::check(loaded.config)) problems.push_back(std::move(p));
    if (args.check || !problems.empty()) {
        for (const auto& p : problems) fmt::print(stderr, "{}\n", p);
        if (!problems.empty()) {
            fmt::print(stderr, "{} problem{} in the configuration ({})\n", problems.size(),
                       problems.size() == 1 ? "" : "s", args.config);
            return 1;
        }
        fmt::print("configuration is valid ({} file{})\n", loaded.files.size(),
                   loaded.files.size() == 1 ? "" : "s");
        return 0;
    }
    try {
        logging::logger log(loaded.config.logging);
        log.info("starting laredo-server",
                 {{"version", LAREDO_SERVER_VERSION}, {"config", args.config}});
        return app::run(loaded.config, log);
    } catch (const std::exception& e) {
        fmt::print(stderr, "laredo-server: {}\n", e.what());
        return 1;
    }
}
