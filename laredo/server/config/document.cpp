#include "laredo/server/config/document.hpp"

#include <charconv>
#include <optional>
#include <sstream>
#include <variant>

namespace laredo::server::config::detail {

namespace {

void merge_into(toml::table& into, toml::table& from) {
    for (auto&& [k, v] : from) {
        auto* existing = into.get(k);
        if (existing && existing->is_table() && v.is_table()) {
            merge_into(*existing->as_table(), *v.as_table());
            continue;
        }
        if (existing && existing->is_array_of_tables() && v.is_array_of_tables()) {
            auto& target = *existing->as_array();
            for (auto& element : *v.as_array()) target.push_back(std::move(*element.as_table()));
            continue;
        }
        v.visit([&, key = k](auto& concrete) { into.insert_or_assign(key, std::move(concrete)); });
    }
}

using segment = std::variant<std::string, std::size_t>;

std::optional<std::size_t> as_index(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return n;
}

// "a.b[0].c", "a.\"x.y\".c", "tables.0.type" -> segments; a numeric bare segment is kept as a
// string and becomes an index only where the document has an array.
std::optional<std::vector<segment>> parse_key(std::string_view key, std::string* why) {
    std::vector<segment> out;
    std::size_t i = 0;
    while (i < key.size()) {
        std::string name;
        if (key[i] == '"') {
            const auto close = key.find('"', i + 1);
            if (close == std::string_view::npos) {
                *why = "unterminated quote in key '" + std::string(key) + "'";
                return std::nullopt;
            }
            name = std::string(key.substr(i + 1, close - i - 1));
            i = close + 1;
        } else {
            const auto end = key.find_first_of(".[", i);
            name = std::string(
                key.substr(i, end == std::string_view::npos ? key.size() - i : end - i));
            i = end == std::string_view::npos ? key.size() : end;
            if (name.empty()) {
                *why = "empty segment in key '" + std::string(key) + "'";
                return std::nullopt;
            }
        }
        out.emplace_back(std::move(name));
        while (i < key.size() && key[i] == '[') {
            const auto close = key.find(']', i);
            const auto index = close == std::string_view::npos
                                   ? std::nullopt
                                   : as_index(key.substr(i + 1, close - i - 1));
            if (!index) {
                *why = "bad array index in key '" + std::string(key) + "'";
                return std::nullopt;
            }
            out.emplace_back(*index);
            i = close + 1;
        }
        if (i < key.size()) {
            if (key[i] != '.') {
                *why =
                    "unexpected '" + std::string(1, key[i]) + "' in key '" + std::string(key) + "'";
                return std::nullopt;
            }
            ++i;
            if (i == key.size()) {
                *why = "key '" + std::string(key) + "' ends with '.'";
                return std::nullopt;
            }
        }
    }
    if (out.empty()) {
        *why = "empty key";
        return std::nullopt;
    }
    return out;
}

}  // namespace

void merge_text(toml::table& into, const std::string& text, const std::string& name,
                std::vector<problem>& problems) {
    try {
        auto doc = toml::parse(text, std::string_view(name));
        merge_into(into, doc);
    } catch (const toml::parse_error& e) {
        problems.push_back({"", name + ":" + std::to_string(e.source().begin.line),
                            "TOML syntax error: " + std::string(e.description())});
    }
}

std::string apply_override(toml::table& root, const std::string& assignment,
                           std::vector<problem>& problems) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
        problems.push_back(
            {"", "--set", "invalid override '" + assignment + "': expected key=value"});
        return {};
    }
    const std::string key = assignment.substr(0, eq);
    const std::string text = assignment.substr(eq + 1);
    std::string why;
    const auto segments = parse_key(key, &why);
    if (!segments) {
        problems.push_back({key, "--set", why});
        return {};
    }

    // The value: TOML when it parses as one, otherwise the text itself.
    toml::table holder;
    try {
        holder = toml::parse("v = " + text);
    } catch (const toml::parse_error&) {
        holder.insert_or_assign("v", text);
    }
    toml::node& new_value = *holder.get("v");

    std::string normalized;
    toml::node* current = &root;
    for (std::size_t i = 0; i < segments->size(); ++i) {
        const bool last = i + 1 == segments->size();
        const auto& seg = (*segments)[i];
        if (auto* array = current->as_array()) {
            std::optional<std::size_t> index;
            if (const auto* n = std::get_if<std::size_t>(&seg))
                index = *n;
            else
                index = as_index(std::get<std::string>(seg));
            if (!index || *index > array->size() || (*index == array->size() && last)) {
                problems.push_back(
                    {key, "--set",
                     "no element " + (index ? std::to_string(*index) : std::string("?")) + " in " +
                         (normalized.empty() ? "the document" : normalized) + " (it has " +
                         std::to_string(array->size()) + ")"});
                return {};
            }
            normalized += "[" + std::to_string(*index) + "]";
            if (*index == array->size()) array->push_back(toml::table{});
            if (last) {
                new_value.visit([&](auto& v) {
                    array->replace(array->begin() + static_cast<std::ptrdiff_t>(*index),
                                   std::move(v));
                });
                return normalized;
            }
            current = array->get(*index);
            continue;
        }
        auto* table = current->as_table();
        if (!table) {
            problems.push_back({key, "--set", normalized + " is not a table"});
            return {};
        }
        const std::string name = std::holds_alternative<std::string>(seg)
                                     ? std::get<std::string>(seg)
                                     : std::to_string(std::get<std::size_t>(seg));
        normalized += (normalized.empty() ? "" : ".") + name;
        if (last) {
            new_value.visit([&](auto& v) { table->insert_or_assign(name, std::move(v)); });
            return normalized;
        }
        auto* next = table->get(name);
        if (!next) {
            table->insert_or_assign(name, toml::table{});
            next = table->get(name);
        }
        current = next;
    }
    return normalized;
}

std::string masked_toml(const toml::table& root, const std::set<std::string>& secret_paths) {
    toml::table copy = root;
    std::vector<problem> ignored;
    for (const auto& path : secret_paths) {
        std::string why;
        const auto segments = parse_key(path, &why);
        if (!segments) continue;
        toml::node* current = &copy;
        for (std::size_t i = 0; current && i < segments->size(); ++i) {
            const auto& seg = (*segments)[i];
            toml::node* next = nullptr;
            if (auto* array = current->as_array()) {
                const auto* n = std::get_if<std::size_t>(&seg);
                if (n && *n < array->size()) next = array->get(*n);
            } else if (auto* table = current->as_table()) {
                if (const auto* name = std::get_if<std::string>(&seg)) {
                    next = table->get(*name);
                    if (next && i + 1 == segments->size()) {
                        if (next->is_array()) {
                            toml::array masked;
                            for (std::size_t k = 0; k < next->as_array()->size(); ++k)
                                masked.push_back("***");
                            table->insert_or_assign(*name, std::move(masked));
                        } else {
                            table->insert_or_assign(*name, "***");
                        }
                        next = nullptr;
                    }
                }
            }
            current = next;
        }
    }
    std::ostringstream out;
    out << copy << "\n";
    return out.str();
}

}  // namespace laredo::server::config::detail
