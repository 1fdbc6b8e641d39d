#include "laredo/cli/session.hpp"

#include "laredo/cli/errors.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <fstream>
#include <iostream>

namespace laredo::cli {

output_format session::format() const {
    return globals.output == "json" ? output_format::json : output_format::table;
}

namespace {

std::string read_token_file(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw usage_error("cannot read --token-file " + path, "check the path and its permissions");
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) return line;
    }
    throw usage_error("--token-file " + path + " holds no token",
                      "write the token on its first line");
}

}  // namespace

const api_client& session::client() {
    if (!client_) {
        client_options options;
        options.server = globals.server;
        if (!globals.token.empty())
            options.token = globals.token;
        else if (!globals.token_file.empty())
            options.token = read_token_file(globals.token_file);
        else if (const char* t = std::getenv("LAREDO_TOKEN"))
            options.token = t;
        options.timeout = std::chrono::milliseconds(
            static_cast<std::int64_t>(std::llround(globals.timeout_seconds * 1000)));
        options.ca_file = globals.ca_file;
        client_.emplace(std::move(options));
    }
    return *client_;
}

void session::print(const boost::json::value& v, const renderer& render) const {
    if (format() == output_format::json)
        print_json(v);
    else
        std::cout << render(v, terminal_width()) << std::flush;
}

void session::on_run(CLI::App* command, std::function<int()> fn) {
    command->callback([this, fn = std::move(fn)] { action = fn; });
}

std::string table_path(const std::string& table) {
    if (table.find('.') == std::string::npos)
        throw usage_error("table '" + table + "' needs its schema",
                          "write it as schema.table, for example public." + table);
    return url_encode(table);
}

}  // namespace laredo::cli
