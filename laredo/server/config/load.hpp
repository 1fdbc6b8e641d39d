#pragma once

#include "laredo/server/config/server_config.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace laredo::server::config {

// One thing wrong with the configuration: the key (dotted, arrays as [i]), where the value
// came from ("laredo.toml:12", "environment LAREDO_X", "--set"), and what is wrong.
struct problem {
    std::string key;
    std::string origin;
    std::string message;
    // "laredo.toml:12: sources.pg.slot_mode: ..." (origin and key left out when empty).
    std::string to_string() const;
};

struct load_options {
    std::filesystem::path config_file;
    // Every *.toml file in it, in name order, after the main file; a missing directory is
    // skipped. Empty: none.
    std::filesystem::path conf_dir;
    // --set key=value, in order (the last wins).
    std::vector<std::string> overrides;
    // The process's LAREDO_* environment variables (laredo_environment()).
    std::map<std::string, std::string> environment;
};

struct load_result {
    server_config config;
    std::vector<problem> problems;  // empty: the configuration is valid
    // The merged configuration as TOML, secrets shown as "***".
    std::string effective;
    std::vector<std::string> files;  // read, in merge order
};

// Reads, merges (main file -> conf_dir/*.toml -> LAREDO_* environment -> --set) and checks
// the configuration. Never throws for a bad configuration: every problem is in `problems`.
load_result load(const load_options& options);

// The same from TOML text (tests); `name` stands for the file name in messages.
load_result load_text(const std::string& text, const std::string& name,
                      const std::vector<std::string>& overrides = {},
                      const std::map<std::string, std::string>& environment = {});

// The LAREDO_* variables of this process's environment.
std::map<std::string, std::string> laredo_environment();

// Variables that are not overrides of a key (the server's own settings): never reported as
// unknown.
bool is_reserved_variable(const std::string& name);

}  // namespace laredo::server::config
