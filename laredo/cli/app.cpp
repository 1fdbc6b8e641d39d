// The command line: global options, the command groups, and the exit codes (0 success, 1 a
// failed call, 2 a usage error; CLI11's own codes are mapped onto these).

#include "laredo/cli/errors.hpp"
#include "laredo/cli/session.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

namespace laredo::cli {

namespace {

std::string default_server() {
    if (const char* s = std::getenv("LAREDO_SERVER"); s && *s) return s;
    if (const char* s = std::getenv("LAREDO_ADDRESS"); s && *s) return s;
    return "http://127.0.0.1:4001";
}

void print_failure(const std::string& message, const std::string& hint) {
    std::cerr << "laredo: " << message << "\n";
    if (!hint.empty()) std::cerr << "  next: " << hint << "\n";
}

}  // namespace

int run(int argc, char** argv) {
    session s;
    CLI::App app{"laredo: the command line client of laredo-server's HTTP API", "laredo"};
    app.set_version_flag("--version", std::string("laredo ") + LAREDO_CLI_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    s.globals.server = default_server();
    app.add_option("--server,-s", s.globals.server,
                   "the server's API, http[s]://HOST:PORT (or $LAREDO_SERVER)")
        ->capture_default_str();
    auto* token = app.add_option("--token", s.globals.token,
                                 "bearer token (or $LAREDO_TOKEN, or --token-file)");
    app.add_option("--token-file", s.globals.token_file, "a file whose first line is the token")
        ->excludes(token);
    app.add_option("--output,-o", s.globals.output, "table (for people) or json (the API's)")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();
    app.add_option("--timeout", s.globals.timeout_seconds, "seconds to wait for each answer")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--cacert", s.globals.ca_file,
                   "https: trust this CA file instead of the system's")
        ->check(CLI::ExistingFile);

    add_status_commands(app, s);
    add_admin_commands(app, s);
    add_snapshot_commands(app, s);
    add_dead_letter_commands(app, s);
    add_query_commands(app, s);
    add_watch_command(app, s);
    add_local_commands(app, s);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e) == 0 ? exit_ok : exit_usage;
    } catch (const CLI::CallForVersion& e) {
        app.exit(e);
        return exit_ok;
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return exit_usage;
    } catch (const usage_error& e) {
        print_failure(e.what(), e.hint);
        return exit_usage;
    }
    if (!s.action) {
        std::cerr << app.help();
        return exit_usage;
    }
    try {
        return s.action();
    } catch (const usage_error& e) {
        print_failure(e.what(), e.hint);
        return exit_usage;
    } catch (const call_failed& e) {
        print_failure(e.what(), e.hint);
        return exit_failed;
    } catch (const std::exception& e) {
        print_failure(e.what(), {});
        return exit_failed;
    }
}

}  // namespace laredo::cli
