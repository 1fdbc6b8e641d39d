#pragma once

// Reading a merged TOML document key by key (internal to config/). Every getter records the
// key as known, applies the LAREDO_* environment override of that key (unless --set wrote
// it), checks the type and reports problems with the key path and where the value came
// from; finish() reports the keys nobody asked for, with the closest known key.

#include "laredo/server/config/load.hpp"
#include "laredo/server/config/server_config.hpp"

#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace laredo::server::config::detail {

struct read_context {
    std::vector<problem>* problems = nullptr;
    const std::map<std::string, std::string>* environment = nullptr;
    std::set<std::string> set_paths;     // written by --set: they beat the environment
    std::set<std::string> env_used;      // overrides applied
    std::vector<std::string> env_known;  // every override name asked for
    std::set<std::string> secret_paths;  // masked in the effective configuration
};

// "file:line" for a node that came from a file; "--set" for one that did not.
std::string origin_of(const toml::node& node);

// LAREDO_ + the path upper-cased, every other character '_': "sources.pg-1.slot_name" ->
// LAREDO_SOURCES_PG_1_SLOT_NAME; "tables[0].targets[1].type" -> LAREDO_TABLES_0_TARGETS_1_TYPE.
std::string environment_name(std::string_view path);

class node_reader {
  public:
    node_reader(read_context& ctx, toml::table* table, std::string path, std::string origin);

    const std::string& path() const noexcept { return path_; }
    const std::string& origin() const noexcept { return origin_; }
    std::string key_path(std::string_view key) const;

    std::optional<std::string> string(std::string_view key);
    std::optional<bool> boolean(std::string_view key);
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
    std::optional<double> number(std::string_view key);
    std::optional<std::chrono::milliseconds> duration(std::string_view key);
    std::optional<std::uint64_t> size(std::string_view key);
    // An array of strings, or one string of comma-separated items.
    std::optional<std::vector<std::string>> strings(std::string_view key);
    // One of `choices` (after aliases were mapped by the caller).
    std::optional<std::string> choice(std::string_view key,
                                      std::initializer_list<std::string_view> choices);
    // A secret: `key` inline (a string, or an array when `list`), `key_env` (the name of an
    // environment variable holding it) and `key_file` (a file holding it; one per line when
    // `list`). All given are combined for lists; for a single secret at most one may be.
    std::vector<secret> secrets(std::string_view key, bool list);
    // A secret its consumer reads itself (so a file can be read again when it rotates):
    // `key` inline (masked in the effective configuration), or the names given in `key_env`
    // and `key_file`, checked here to be set and readable so --check reports them.
    struct secret_reference {
        std::string inline_value;
        std::string env;
        std::string file;
    };
    secret_reference secret_reference_of(std::string_view key);
    // Masks the value at `key` in the effective configuration (a header that may hold a key).
    void mark_secret(std::string_view key);

    // A raw scalar (marked as read; no environment override), for values whose type depends
    // on something else (a filter's value, a row's column).
    const toml::node* raw(std::string_view key);

    std::optional<node_reader> table(std::string_view key);
    // The table at `key`, or an empty one when absent (its keys can still come from the
    // environment).
    node_reader section(std::string_view key);
    std::vector<node_reader> array_of_tables(std::string_view key);
    // Every entry of this table, each of which must be a table (a map keyed by id).
    std::vector<std::pair<std::string, node_reader>> entries();

    // The keys this table has (in the document; not marked as read).
    std::vector<std::string> keys() const;

    void problem(std::string_view key, std::string message);
    void problem_here(std::string message);
    // Unknown keys: one problem each, with the closest known key.
    void finish();

  private:
    // The environment override of a key, when there is one and --set did not write the key.
    const std::string* override_for(std::string_view key, std::string* name);
    const toml::node* node_for(std::string_view key);
    std::string origin_for(std::string_view key) const;
    void type_problem(std::string_view key, const toml::node& node, std::string_view expected);

    read_context* ctx_;
    toml::table* table_;
    std::string path_;
    std::string origin_;
    std::set<std::string, std::less<>> known_;
};

// A TOML scalar as a laredo value: strings, integers, floats, booleans (dates and times as
// their text). nullopt for tables and arrays.
std::optional<value> scalar_value(const toml::node& node);

}  // namespace laredo::server::config::detail
