#include "laredo/server/config/reader.hpp"

#include "laredo/server/config/units.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace laredo::server::config::detail {

namespace {

std::string type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a number";
        case toml::node_type::boolean:
            return "a boolean";
        default:
            return "a date or time";
    }
}

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        auto item = trim(text.substr(0, comma));
        if (!item.empty()) out.push_back(std::move(item));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

std::optional<bool> parse_bool(std::string_view text) {
    if (text == "true" || text == "1") return true;
    if (text == "false" || text == "0") return false;
    return std::nullopt;
}

}  // namespace

std::string origin_of(const toml::node& node) {
    const auto& src = node.source();
    if (!src.path || src.begin.line == 0) return "--set";
    return *src.path + ":" + std::to_string(src.begin.line);
}

std::string environment_name(std::string_view path) {
    std::string out = "LAREDO_";
    for (const char c : path) {
        if (c == ']') continue;
        out += std::isalnum(static_cast<unsigned char>(c))
                   ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                   : '_';
    }
    return out;
}

node_reader::node_reader(read_context& ctx, toml::table* table, std::string path,
                         std::string origin)
    : ctx_(&ctx), table_(table), path_(std::move(path)), origin_(std::move(origin)) {}

std::string node_reader::key_path(std::string_view key) const {
    if (path_.empty()) return std::string(key);
    return path_ + "." + std::string(key);
}

const std::string* node_reader::override_for(std::string_view key, std::string* name) {
    const auto path = key_path(key);
    *name = environment_name(path);
    ctx_->env_known.push_back(*name);
    const auto it = ctx_->environment->find(*name);
    if (it == ctx_->environment->end()) return nullptr;
    // A known key: not reported as unknown even when --set wins over it.
    ctx_->env_used.insert(*name);
    if (ctx_->set_paths.count(path)) return nullptr;
    return &it->second;
}

const toml::node* node_reader::node_for(std::string_view key) {
    known_.insert(std::string(key));
    if (!table_) return nullptr;
    return table_->get(key);
}

std::string node_reader::origin_for(std::string_view key) const {
    if (table_)
        if (const auto* n = table_->get(key)) return origin_of(*n);
    return origin_;
}

void node_reader::problem(std::string_view key, std::string message) {
    ctx_->problems->push_back({key_path(key), origin_for(key), std::move(message)});
}

void node_reader::problem_here(std::string message) {
    ctx_->problems->push_back({path_, origin_, std::move(message)});
}

void node_reader::type_problem(std::string_view key, const toml::node& node,
                               std::string_view expected) {
    problem(key, "expected " + std::string(expected) + ", got " + type_name(node));
}

std::optional<std::string> node_reader::string(std::string_view key) {
    const auto* n = node_for(key);
    std::string env;
    if (const auto* v = override_for(key, &env)) return *v;
    if (!n) return std::nullopt;
    if (const auto* s = n->as_string()) return s->get();
    type_problem(key, *n, "a string");
    return std::nullopt;
}

std::optional<bool> node_reader::boolean(std::string_view key) {
    const auto* n = node_for(key);
    std::string env;
    if (const auto* v = override_for(key, &env)) {
        if (auto b = parse_bool(*v)) return b;
        ctx_->problems->push_back({key_path(key), "environment " + env,
                                   "expected true, false, 1 or 0, got '" + *v + "'"});
        return std::nullopt;
    }
    if (!n) return std::nullopt;
    if (const auto* b = n->as_boolean()) return b->get();
    type_problem(key, *n, "a boolean");
    return std::nullopt;
}

std::optional<std::int64_t> node_reader::integer(std::string_view key, std::int64_t min,
                                                 std::int64_t max) {
    const auto* n = node_for(key);
    std::string env;
    std::optional<std::int64_t> result;
    std::string where;
    if (const auto* v = override_for(key, &env)) {
        where = "environment " + env;
        std::int64_t x = 0;
        const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
        if (ec != std::errc{} || end != v->data() + v->size() || v->empty()) {
            ctx_->problems->push_back(
                {key_path(key), where, "expected an integer, got '" + *v + "'"});
            return std::nullopt;
        }
        result = x;
    } else {
        if (!n) return std::nullopt;
        const auto* i = n->as_integer();
        if (!i) {
            type_problem(key, *n, "an integer");
            return std::nullopt;
        }
        where = origin_of(*n);
        result = i->get();
    }
    if (*result < min || *result > max) {
        ctx_->problems->push_back({key_path(key), where,
                                   "must be between " + std::to_string(min) + " and " +
                                       std::to_string(max) + ", got " + std::to_string(*result)});
        return std::nullopt;
    }
    return result;
}

std::optional<double> node_reader::number(std::string_view key) {
    const auto* n = node_for(key);
    std::string env;
    if (const auto* v = override_for(key, &env)) {
        double x = 0;
        const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
        if (ec != std::errc{} || end != v->data() + v->size() || v->empty()) {
            ctx_->problems->push_back(
                {key_path(key), "environment " + env, "expected a number, got '" + *v + "'"});
            return std::nullopt;
        }
        return x;
    }
    if (!n) return std::nullopt;
    if (const auto* f = n->as_floating_point()) return f->get();
    if (const auto* i = n->as_integer()) return static_cast<double>(i->get());
    type_problem(key, *n, "a number");
    return std::nullopt;
}

std::optional<std::chrono::milliseconds> node_reader::duration(std::string_view key) {
    const auto* n = node_for(key);
    std::string env;
    std::string text;
    std::string where;
    if (const auto* v = override_for(key, &env)) {
        text = *v;
        where = "environment " + env;
    } else {
        if (!n) return std::nullopt;
        if (const auto* s = n->as_string()) {
            text = s->get();
        } else if (const auto* i = n->as_integer(); i && i->get() == 0) {
            return std::chrono::milliseconds{0};
        } else {
            type_problem(key, *n, "a duration string such as \"500ms\" or \"24h\"");
            return std::nullopt;
        }
        where = origin_of(*n);
    }
    std::string why;
    auto d = parse_duration(text, &why);
    if (!d)
        ctx_->problems->push_back({key_path(key), where, why});
    else if (d->count() < 0)
        ctx_->problems->push_back({key_path(key), where, "must not be negative"});
    return d;
}

std::optional<std::uint64_t> node_reader::size(std::string_view key) {
    const auto* n = node_for(key);
    std::string env;
    std::string text;
    std::string where;
    if (const auto* v = override_for(key, &env)) {
        text = *v;
        where = "environment " + env;
    } else {
        if (!n) return std::nullopt;
        if (const auto* i = n->as_integer()) {
            if (i->get() < 0) {
                problem(key, "must not be negative");
                return std::nullopt;
            }
            return static_cast<std::uint64_t>(i->get());
        }
        const auto* s = n->as_string();
        if (!s) {
            type_problem(key, *n, "a size such as 4096 or \"64MiB\"");
            return std::nullopt;
        }
        text = s->get();
        where = origin_of(*n);
    }
    std::string why;
    auto result = parse_size(text, &why);
    if (!result) ctx_->problems->push_back({key_path(key), where, why});
    return result;
}

std::optional<std::vector<std::string>> node_reader::strings(std::string_view key) {
    const auto* n = node_for(key);
    std::string env;
    if (const auto* v = override_for(key, &env)) {
        std::string_view text = *v;
        if (!text.empty() && text.front() == '[') {
            try {
                auto doc = toml::parse("v = " + *v, std::string_view("environment"));
                std::vector<std::string> out;
                for (const auto& item : *doc["v"].as_array()) {
                    const auto* s = item.as_string();
                    if (!s) throw std::runtime_error("not a string");
                    out.push_back(s->get());
                }
                return out;
            } catch (const std::exception&) {
                ctx_->problems->push_back({key_path(key), "environment " + env,
                                           "expected a list of strings, got '" + *v + "'"});
                return std::nullopt;
            }
        }
        return split_list(text);
    }
    if (!n) return std::nullopt;
    if (const auto* s = n->as_string()) return split_list(s->get());
    const auto* a = n->as_array();
    if (!a) {
        type_problem(key, *n, "an array of strings");
        return std::nullopt;
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < a->size(); ++i) {
        const auto* s = a->get(i)->as_string();
        if (!s) {
            ctx_->problems->push_back({key_path(key) + "[" + std::to_string(i) + "]",
                                       origin_of(*a->get(i)),
                                       "expected a string, got " + type_name(*a->get(i))});
            return std::nullopt;
        }
        out.push_back(s->get());
    }
    return out;
}

std::optional<std::string> node_reader::choice(std::string_view key,
                                               std::initializer_list<std::string_view> choices) {
    auto text = string(key);
    if (!text) return std::nullopt;
    for (const auto c : choices)
        if (c == *text) return text;
    std::vector<std::string> names(choices.begin(), choices.end());
    std::string list;
    for (const auto& c : names) list += (list.empty() ? "" : ", ") + c;
    std::string message = "unknown value '" + *text + "' (expected one of " + list + ")";
    if (auto best = closest(*text, names); !best.empty())
        message += "; did you mean '" + best + "'?";
    const auto env = environment_name(key_path(key));
    const bool from_env = ctx_->env_used.count(env) && !ctx_->set_paths.count(key_path(key));
    ctx_->problems->push_back(
        {key_path(key), from_env ? "environment " + env : origin_for(key), std::move(message)});
    return std::nullopt;
}

std::vector<secret> node_reader::secrets(std::string_view key, bool list) {
    std::vector<secret> out;
    const std::string k(key);
    ctx_->secret_paths.insert(key_path(k));
    if (list) {
        if (auto items = strings(k))
            for (auto& item : *items) out.push_back({std::move(item), "inline"});
    } else if (auto s = string(k)) {
        out.push_back({std::move(*s), "inline"});
    }
    if (auto var = string(k + "_env")) {
        ctx_->env_used.insert(*var);
        const char* v = std::getenv(var->c_str());
        if (!v || !*v) {
            problem(k + "_env", "environment variable " + *var + " is not set");
        } else if (list) {
            for (auto& item : split_list(v))
                out.push_back({std::move(item), "environment " + *var});
        } else {
            out.push_back({v, "environment " + *var});
        }
    }
    if (auto path = string(k + "_file")) {
        std::ifstream in(*path);
        if (!in) {
            problem(k + "_file", "cannot read " + *path);
        } else {
            std::stringstream buffer;
            buffer << in.rdbuf();
            const std::string text = buffer.str();
            if (list) {
                std::istringstream lines(text);
                std::string line;
                while (std::getline(lines, line))
                    if (auto t = trim(line); !t.empty() && t.front() != '#')
                        out.push_back({std::move(t), "file " + *path});
            } else {
                auto t = trim(text);
                if (t.empty())
                    problem(k + "_file", *path + " is empty");
                else
                    out.push_back({std::move(t), "file " + *path});
            }
        }
    }
    if (!list && out.size() > 1)
        problem(k, "given more than once (" + k + ", " + k + "_env, " + k + "_file): keep one");
    for (const auto& s : out)
        if (s.value.empty()) problem(k, "must not be empty");
    return out;
}

node_reader::secret_reference node_reader::secret_reference_of(std::string_view key) {
    secret_reference out;
    const std::string k(key);
    mark_secret(k);
    if (auto v = string(k)) {
        out.inline_value = std::move(*v);
        if (out.inline_value.empty()) problem(k, "must not be empty");
    }
    if (auto var = string(k + "_env")) {
        ctx_->env_used.insert(*var);
        const char* v = std::getenv(var->c_str());
        if (!v || !*v) problem(k + "_env", "environment variable " + *var + " is not set");
        out.env = std::move(*var);
    }
    if (auto path = string(k + "_file")) {
        if (!std::ifstream(*path)) problem(k + "_file", "cannot read " + *path);
        out.file = std::move(*path);
    }
    return out;
}

void node_reader::mark_secret(std::string_view key) { ctx_->secret_paths.insert(key_path(key)); }

const toml::node* node_reader::raw(std::string_view key) { return node_for(key); }

std::optional<node_reader> node_reader::table(std::string_view key) {
    const auto* n = node_for(key);
    if (!n) return std::nullopt;
    auto* t = const_cast<toml::node*>(n)->as_table();
    if (!t) {
        type_problem(key, *n, "a table");
        return std::nullopt;
    }
    return node_reader(*ctx_, t, key_path(key), origin_of(*n));
}

node_reader node_reader::section(std::string_view key) {
    if (auto t = table(key)) return std::move(*t);
    return node_reader(*ctx_, nullptr, key_path(key), origin_);
}

std::vector<node_reader> node_reader::array_of_tables(std::string_view key) {
    std::vector<node_reader> out;
    const auto* n = node_for(key);
    if (!n) return out;
    auto* a = const_cast<toml::node*>(n)->as_array();
    if (!a) {
        type_problem(key, *n, "an array of tables");
        return out;
    }
    for (std::size_t i = 0; i < a->size(); ++i) {
        const auto item_path = key_path(key) + "[" + std::to_string(i) + "]";
        auto* t = a->get(i)->as_table();
        if (!t) {
            ctx_->problems->push_back({item_path, origin_of(*a->get(i)),
                                       "expected a table, got " + type_name(*a->get(i))});
            continue;
        }
        out.emplace_back(*ctx_, t, item_path, origin_of(*t));
    }
    return out;
}

std::vector<std::pair<std::string, node_reader>> node_reader::entries() {
    std::vector<std::pair<std::string, node_reader>> out;
    if (!table_) return out;
    for (auto& [k, v] : *table_) {
        const std::string name(k.str());
        known_.insert(name);
        auto* t = v.as_table();
        if (!t) {
            type_problem(name, v, "a table");
            continue;
        }
        out.emplace_back(name, node_reader(*ctx_, t, key_path(name), origin_of(v)));
    }
    return out;
}

std::vector<std::string> node_reader::keys() const {
    std::vector<std::string> out;
    if (table_)
        for (auto& [k, v] : *table_) out.emplace_back(k.str());
    return out;
}

void node_reader::finish() {
    if (!table_) return;
    std::vector<std::string> known(known_.begin(), known_.end());
    for (auto& [k, v] : *table_) {
        const std::string name(k.str());
        if (known_.count(name)) continue;
        std::string message = "unknown key '" + name + "'";
        if (auto best = closest(name, known); !best.empty())
            message += "; did you mean '" + best + "'?";
        ctx_->problems->push_back({key_path(name), origin_of(v), std::move(message)});
    }
}

std::optional<value> scalar_value(const toml::node& node) {
    if (const auto* s = node.as_string()) return value(s->get());
    if (const auto* i = node.as_integer()) return value(i->get());
    if (const auto* f = node.as_floating_point()) return value(f->get());
    if (const auto* b = node.as_boolean()) return value(b->get());
    if (node.is_date() || node.is_time() || node.is_date_time()) {
        std::ostringstream text;
        node.visit([&](const auto& n) { text << n; });
        return value(text.str());
    }
    return std::nullopt;
}

}  // namespace laredo::server::config::detail
