#include "laredo/cli/typed_keys.hpp"

#include "laredo/cli/errors.hpp"
#include "laredo/cli/output.hpp"
#include "laredo/json/decode_text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <set>

namespace laredo::cli {

namespace json = boost::json;

key_value parse_key_argument(const std::string& text) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
        throw usage_error("--key " + text + ": expected COLUMN=VALUE",
                          "for example --key id=42 (repeat --key for a composite key)");
    return {text.substr(0, eq), text.substr(eq + 1)};
}

namespace {

// Whether the server will read `text` as a value of `type` (it reads it as the CLI does).
bool valid_for(const std::string& type, const std::string& text) {
    try {
        laredo::json::decode_text(text, laredo::json::natural_type(type));
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace

std::vector<std::string> typed_values(const json::value& table_json,
                                      const std::vector<key_value>& keys, bool as_primary_key) {
    const auto table = text_at(table_json, "table");
    const auto* columns = find_path(table_json, "columns");
    if (!columns || !columns->is_array())
        throw call_failed(table + " has not received its columns yet",
                          "wait for the source to describe it (`laredo ready`)");
    std::vector<std::pair<std::int64_t, std::string>> primary_key;  // ordinal, name
    std::string names;
    for (const auto& c : columns->as_array()) {
        names += (names.empty() ? "" : ", ") + text_at(c, "name");
        const auto* pk = find_path(c, "primary_key");
        if (pk && pk->is_bool() && pk->as_bool())
            primary_key.emplace_back(c.at("primary_key_ordinal").to_number<std::int64_t>(),
                                     text_at(c, "name"));
    }
    std::set<std::string> given;
    for (const auto& k : keys) {
        const json::value* column = nullptr;
        for (const auto& c : columns->as_array())
            if (text_at(c, "name") == k.column) column = &c;
        if (!column)
            throw usage_error(table + " has no column " + k.column, "its columns: " + names);
        const auto type = text_at(*column, "type");
        if (!valid_for(type, k.value))
            throw usage_error("'" + k.value + "' is not a valid " + type + " for column " +
                              k.column + " of " + table);
        if (!given.insert(k.column).second)
            throw usage_error("--key " + k.column + " is given twice");
    }
    std::sort(primary_key.begin(), primary_key.end());
    std::set<std::string> key_names;
    for (const auto& [_, name] : primary_key) key_names.insert(name);
    const bool partial_key =
        std::includes(key_names.begin(), key_names.end(), given.begin(), given.end()) &&
        given.size() < key_names.size();
    if (as_primary_key && partial_key) {
        std::string missing, all;
        for (const auto& [_, name] : primary_key) {
            all += (all.empty() ? "" : ", ") + name;
            if (!given.count(name)) missing += (missing.empty() ? "" : ", ") + name;
        }
        throw usage_error("the key of " + table + " is (" + all + "): missing " + missing,
                          "give every key column with --key COLUMN=VALUE");
    }
    std::vector<std::string> out;
    if (as_primary_key && !primary_key.empty() && key_names == given) {
        for (const auto& [_, name] : primary_key)
            for (const auto& k : keys)
                if (k.column == name) out.push_back(k.value);
    } else {
        for (const auto& k : keys) out.push_back(k.value);
    }
    return out;
}

}  // namespace laredo::cli
