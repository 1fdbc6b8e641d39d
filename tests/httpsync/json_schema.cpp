#include "json_schema.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>

namespace laredo::testing::httpsync {

namespace json = boost::json;

namespace {

const std::set<std::string> known_keywords = {
    "type",        "properties", "required",  "additionalProperties",
    "items",       "minItems",   "enum",      "const",
    "anyOf",       "oneOf",      "not",       "$ref",
    "$defs",       "minimum",    "minLength", "pattern",
    "$schema",     "$id",        "$comment",  "title",
    "description", "examples"};

bool is_integer(const json::value& v) {
    if (v.is_int64() || v.is_uint64()) return true;
    return v.is_double() && std::isfinite(v.get_double()) &&
           std::floor(v.get_double()) == v.get_double();
}

bool has_type(const json::value& v, std::string_view type) {
    if (type == "null") return v.is_null();
    if (type == "boolean") return v.is_bool();
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "string") return v.is_string();
    if (type == "number") return v.is_number();
    if (type == "integer") return is_integer(v);
    throw std::invalid_argument("unknown type name " + std::string(type));
}

std::string type_of(const json::value& v) {
    switch (v.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return "boolean";
        case json::kind::int64:
        case json::kind::uint64:
            return "integer";
        case json::kind::double_:
            return "number";
        case json::kind::string:
            return "string";
        case json::kind::array:
            return "array";
        case json::kind::object:
            return "object";
    }
    return "?";
}

double number_of(const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    return v.get_double();
}

// Code points, not bytes (minLength counts characters).
std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (const char c : s)
        if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
    return n;
}

}  // namespace

json_schema::json_schema(json::value schema) : root_(std::move(schema)) {
    check_schema(root_, "#");
}

json_schema json_schema::from_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open schema " + path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
        return json_schema(json::parse(text));
    } catch (const std::exception& e) {
        throw std::runtime_error("schema " + path + ": " + e.what());
    }
}

void json_schema::check_schema(const json::value& schema, const std::string& where) const {
    if (schema.is_bool()) return;
    if (!schema.is_object()) throw std::invalid_argument(where + ": a schema must be an object");
    for (const auto& [key, value] : schema.as_object()) {
        const std::string k(key);
        if (!known_keywords.contains(k))
            throw std::invalid_argument(where + ": unsupported keyword " + k);
        if (k == "properties" || k == "$defs") {
            if (!value.is_object())
                throw std::invalid_argument(where + ": " + k + " not an object");
            for (const auto& [name, sub] : value.as_object())
                check_schema(sub, where + "/" + k + "/" + std::string(name));
        } else if (k == "additionalProperties" || k == "items" || k == "not") {
            check_schema(value, where + "/" + k);
        } else if (k == "anyOf" || k == "oneOf") {
            if (!value.is_array() || value.as_array().empty())
                throw std::invalid_argument(where + ": " + k + " needs a non-empty list");
            for (std::size_t i = 0; i < value.as_array().size(); ++i)
                check_schema(value.as_array()[i], where + "/" + k + "/" + std::to_string(i));
        } else if (k == "type") {
            if (value.is_string()) {
                has_type(json::value(), value.as_string());
            } else if (value.is_array()) {
                for (const auto& t : value.as_array()) {
                    if (!t.is_string()) throw std::invalid_argument(where + ": bad type list");
                    has_type(json::value(), t.as_string());
                }
            } else {
                throw std::invalid_argument(where + ": type must be a name or a list");
            }
        } else if (k == "required" || k == "enum") {
            if (!value.is_array()) throw std::invalid_argument(where + ": " + k + " not a list");
        } else if (k == "$ref") {
            if (!value.is_string()) throw std::invalid_argument(where + ": $ref not a string");
            resolve(std::string(value.as_string()));
        } else if (k == "pattern") {
            if (!value.is_string()) throw std::invalid_argument(where + ": pattern not a string");
            regex_of(std::string(value.as_string()));
        } else if (k == "minItems" || k == "minLength" || k == "minimum") {
            if (!value.is_number()) throw std::invalid_argument(where + ": " + k + " not a number");
        }
    }
}

const std::regex& json_schema::regex_of(const std::string& pattern) const {
    auto it = patterns_.find(pattern);
    if (it == patterns_.end())
        it = patterns_.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
    return it->second;
}

const json::value& json_schema::resolve(const std::string& ref) const {
    const std::string prefix = "#/$defs/";
    if (ref.rfind(prefix, 0) != 0)
        throw std::invalid_argument("only #/$defs/name references are supported: " + ref);
    const auto* defs = root_.is_object() ? root_.as_object().if_contains("$defs") : nullptr;
    const auto* target = defs && defs->is_object()
                             ? defs->as_object().if_contains(ref.substr(prefix.size()))
                             : nullptr;
    if (!target) throw std::invalid_argument("unresolved reference " + ref);
    return *target;
}

std::vector<std::string> json_schema::validate(const json::value& instance) const {
    std::vector<std::string> problems;
    validate_at(root_, instance, "$", problems);
    return problems;
}

void json_schema::validate_at(const json::value& schema, const json::value& v,
                              const std::string& path, std::vector<std::string>& problems) const {
    if (schema.is_bool()) {
        if (!schema.get_bool()) problems.push_back(path + ": not allowed here");
        return;
    }
    const auto& s = schema.as_object();
    if (const auto* ref = s.if_contains("$ref"))
        validate_at(resolve(std::string(ref->as_string())), v, path, problems);
    if (const auto* type = s.if_contains("type")) {
        bool ok = false;
        if (type->is_string()) {
            ok = has_type(v, type->as_string());
        } else {
            for (const auto& t : type->as_array()) ok = ok || has_type(v, t.as_string());
        }
        if (!ok) {
            problems.push_back(path + ": expected " + json::serialize(*type) + ", got " +
                               type_of(v));
            return;
        }
    }
    if (const auto* c = s.if_contains("const"); c && *c != v)
        problems.push_back(path + ": expected " + json::serialize(*c));
    if (const auto* e = s.if_contains("enum")) {
        const auto& options = e->as_array();
        if (std::find(options.begin(), options.end(), v) == options.end())
            problems.push_back(path + ": " + json::serialize(v) + " is not one of " +
                               json::serialize(*e));
    }
    if (const auto* any = s.if_contains("anyOf")) {
        bool matched = false;
        for (const auto& option : any->as_array()) {
            std::vector<std::string> sub;
            validate_at(option, v, path, sub);
            matched = matched || sub.empty();
        }
        if (!matched) problems.push_back(path + ": matches none of anyOf");
    }
    if (const auto* one = s.if_contains("oneOf")) {
        int matched = 0;
        for (const auto& option : one->as_array()) {
            std::vector<std::string> sub;
            validate_at(option, v, path, sub);
            matched += sub.empty();
        }
        if (matched != 1)
            problems.push_back(path + ": matches " + std::to_string(matched) +
                               " of oneOf, expected exactly 1");
    }
    if (const auto* n = s.if_contains("not")) {
        std::vector<std::string> sub;
        validate_at(*n, v, path, sub);
        if (sub.empty()) problems.push_back(path + ": matches a schema it must not");
    }
    if (v.is_number()) {
        if (const auto* m = s.if_contains("minimum"); m && number_of(v) < number_of(*m))
            problems.push_back(path + ": below the minimum " + json::serialize(*m));
    }
    if (v.is_string()) {
        const auto& text = v.as_string();
        if (const auto* m = s.if_contains("minLength");
            m && utf8_length(text) < static_cast<std::size_t>(number_of(*m)))
            problems.push_back(path + ": shorter than " + json::serialize(*m));
        if (const auto* p = s.if_contains("pattern")) {
            if (!std::regex_search(text.begin(), text.end(), regex_of(std::string(p->as_string()))))
                problems.push_back(path + ": " + json::serialize(v) + " does not match " +
                                   json::serialize(*p));
        }
    }
    if (v.is_array()) {
        const auto& a = v.as_array();
        if (const auto* m = s.if_contains("minItems");
            m && a.size() < static_cast<std::size_t>(number_of(*m)))
            problems.push_back(path + ": fewer than " + json::serialize(*m) + " items");
        if (const auto* items = s.if_contains("items"))
            for (std::size_t i = 0; i < a.size(); ++i)
                validate_at(*items, a[i], path + "[" + std::to_string(i) + "]", problems);
    }
    if (v.is_object()) {
        const auto& o = v.as_object();
        if (const auto* req = s.if_contains("required"))
            for (const auto& name : req->as_array())
                if (!o.contains(name.as_string()))
                    problems.push_back(path + ": missing " + std::string(name.as_string()));
        const auto* props = s.if_contains("properties");
        const auto* extra = s.if_contains("additionalProperties");
        for (const auto& [key, value] : o) {
            const std::string child = path + "." + std::string(key);
            const json::value* sub = props ? props->as_object().if_contains(key) : nullptr;
            if (sub) {
                validate_at(*sub, value, child, problems);
            } else if (extra) {
                validate_at(*extra, value, child, problems);
            }
        }
    }
}

}  // namespace laredo::testing::httpsync
