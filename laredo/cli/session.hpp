#pragma once

// What every command shares: the global options, the client built from them, how results
// are printed, and the action the chosen command runs once the command line parsed.

#include "laredo/cli/client.hpp"
#include "laredo/cli/output.hpp"

#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace laredo::cli {

struct global_options {
    std::string server;
    std::string token;
    std::string token_file;
    std::string output = "table";
    double timeout_seconds = 10;
    std::string ca_file;
};

class session {
  public:
    global_options globals;
    // What the chosen command does; returns the exit code.
    std::function<int()> action;

    output_format format() const;
    // The client for the global options (the token read from its file once).
    const api_client& client();

    // Prints an API answer: as JSON, or through `render` (given the terminal width).
    using renderer = std::function<std::string(const boost::json::value&, std::size_t width)>;
    void print(const boost::json::value& v, const renderer& render) const;

    // Makes `command` run `fn` when it is the one chosen.
    void on_run(CLI::App* command, std::function<int()> fn);

  private:
    std::optional<api_client> client_;
};

// The command groups (one file each); each adds its subcommands to `app`.
void add_status_commands(CLI::App& app, session& s);
void add_admin_commands(CLI::App& app, session& s);
void add_snapshot_commands(CLI::App& app, session& s);
void add_dead_letter_commands(CLI::App& app, session& s);
void add_query_commands(CLI::App& app, session& s);
void add_local_commands(CLI::App& app, session& s);
void add_watch_command(CLI::App& app, session& s);

// Runs the CLI: parses, runs the chosen command, prints errors; returns the exit code.
int run(int argc, char** argv);

// "public.users" stays as given; a table name must have its schema.
std::string table_path(const std::string& table);

}  // namespace laredo::cli
