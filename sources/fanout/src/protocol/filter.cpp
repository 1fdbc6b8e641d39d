#include "laredo/replica/filter.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

namespace laredo::replica {

namespace json = boost::json;

filter_spec filter_spec::equals(std::string field, json::value v) {
    return {std::move(field), op::equals, {std::move(v)}};
}

filter_spec filter_spec::prefix(std::string field, std::string text) {
    return {std::move(field), op::prefix, {json::value(text)}};
}

filter_spec filter_spec::in(std::string field, std::vector<json::value> values) {
    return {std::move(field), op::in, std::move(values)};
}

json::value to_json(const filter_spec& f) {
    json::object out;
    out["field"] = f.field;
    switch (f.kind) {
        case filter_spec::op::equals:
            out["equals"] = f.values.empty() ? json::value() : f.values.front();
            break;
        case filter_spec::op::prefix:
            out["prefix"] = f.values.empty() ? json::value() : f.values.front();
            break;
        case filter_spec::op::in:
            out["in"] = json::array(f.values.begin(), f.values.end());
            break;
    }
    return out;
}

filter_spec filter_from_json(const json::value& j, std::size_t index) {
    const auto fail = [&](std::string_view what) {
        throw error(errc::invalid_argument, fmt::format("filter[{}]: {}", index, what));
    };
    const auto* o = j.if_object();
    if (!o) fail("must be an object");
    filter_spec f;
    const auto* field = o->if_contains("field");
    if (!field || !field->is_string() || field->get_string().empty()) fail("field is required");
    f.field = std::string(field->get_string());
    int conditions = 0;
    if (const auto* v = o->if_contains("equals")) {
        ++conditions;
        f.kind = filter_spec::op::equals;
        f.values = {*v};
    }
    if (const auto* v = o->if_contains("prefix")) {
        ++conditions;
        if (!v->is_string()) fail("prefix must be a string");
        f.kind = filter_spec::op::prefix;
        f.values = {*v};
    }
    if (const auto* v = o->if_contains("in")) {
        ++conditions;
        if (!v->is_array() || v->get_array().empty()) fail("in must be a non-empty array");
        f.kind = filter_spec::op::in;
        f.values.assign(v->get_array().begin(), v->get_array().end());
    }
    if (conditions == 0) fail("a match condition (equals, prefix or in) is required");
    if (conditions > 1) fail("only one of equals, prefix and in may be given");
    for (const auto& [key, unused] : *o) {
        if (key != "field" && key != "equals" && key != "prefix" && key != "in") {
            fail(fmt::format("unknown member \"{}\"", std::string_view(key)));
        }
    }
    return f;
}

row_filter::row_filter(const std::vector<filter_spec>& specs, const row_schema& schema) {
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const auto& spec = specs[i];
        const auto column = schema.index_of(spec.field);
        if (!column) {
            throw error(errc::invalid_argument,
                        fmt::format("filter[{}]: the table has no column \"{}\"", i, spec.field));
        }
        if (spec.values.empty()) {
            throw error(errc::invalid_argument, fmt::format("filter[{}]: no value", i));
        }
        term t;
        t.column = *column;
        t.kind = spec.kind;
        const auto& def = schema.column(*column);
        const auto natural = laredo::json::natural_type(def);
        for (const auto& v : spec.values) {
            if (spec.kind == filter_spec::op::prefix) {
                if (!v.is_string()) {
                    throw error(errc::invalid_argument,
                                fmt::format("filter[{}]: prefix must be a string", i));
                }
                t.values.emplace_back(std::string(v.get_string()));
                continue;
            }
            if (v.is_null()) {
                throw error(errc::invalid_argument,
                            fmt::format("filter[{}]: null never matches; give a value", i));
            }
            try {
                // A number for a float column, or an integral double for an integer column,
                // reads as the column's type.
                if (natural == value::type::int64 && v.is_double() &&
                    v.get_double() ==
                        static_cast<double>(static_cast<std::int64_t>(v.get_double()))) {
                    t.values.emplace_back(static_cast<std::int64_t>(v.get_double()));
                } else if (natural == value::type::float64 && (v.is_int64() || v.is_uint64())) {
                    t.values.emplace_back(v.to_number<double>());
                } else {
                    t.values.push_back(laredo::json::decode_value(v, natural));
                }
            } catch (const std::exception&) {
                throw error(errc::invalid_argument,
                            fmt::format("filter[{}]: {} is not a value of column \"{}\" ({})", i,
                                        json::serialize(v), def.name, def.type));
            }
        }
        terms_.push_back(std::move(t));
    }
}

namespace {

bool same(const value& a, const value& b) {
    if (a.get_type() == b.get_type()) return a == b;
    // Rows may carry an integer where the column is a float (or the other way round).
    const auto number = [](const value& v) -> std::optional<double> {
        if (const auto* i = v.get_if<std::int64_t>()) return static_cast<double>(*i);
        if (const auto* d = v.get_if<double>()) return *d;
        return std::nullopt;
    };
    const auto x = number(a);
    const auto y = number(b);
    return x && y && *x == *y;
}

}  // namespace

bool row_filter::term::matches(const value& v) const {
    if (v.is_null() || v.is_unchanged()) return false;
    if (kind == filter_spec::op::prefix) {
        const std::string* text = v.text_if();
        return text && text->starts_with(values.front().get<std::string>());
    }
    for (const auto& want : values) {
        if (same(v, want)) return true;
    }
    return false;
}

}  // namespace laredo::replica
