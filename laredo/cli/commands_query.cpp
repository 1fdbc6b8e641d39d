// Reading rows: query get, lookup, list, count.

#include "laredo/cli/errors.hpp"
#include "laredo/cli/session.hpp"
#include "laredo/cli/typed_keys.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace laredo::cli {

namespace json = boost::json;

namespace {

// What every query takes: the table and which source and pipeline serve it.
struct query_target {
    std::string table;
    std::string source;
    std::string pipeline;

    void add_to(CLI::App* cmd) {
        cmd->add_option("table", table, "schema.table")->required();
        cmd->add_option("--source", source, "the source, when several serve the table");
        cmd->add_option("--pipeline", pipeline, "the pipeline (default: the indexed one)");
    }
    std::string base() const { return "/v1/tables/" + table_path(table); }
    // "?source=..&pipeline=.." (or "" / with `first` already used).
    std::string params(bool first = true) const {
        std::string out;
        auto add = [&](const char* name, const std::string& v) {
            if (v.empty()) return;
            out += (out.empty() && first ? "?" : "&") + std::string(name) + "=" + url_encode(v);
        };
        add("source", source);
        add("pipeline", pipeline);
        return out;
    }
    json::value columns(session& s) const {
        return s.client().get(base() + (source.empty() ? "" : "?source=" + url_encode(source)));
    }
};

std::string key_path(const std::vector<std::string>& values) {
    std::string out;
    for (const auto& v : values) out += "/" + url_encode(v);
    return out;
}

std::vector<key_value> parse_keys(const std::vector<std::string>& args) {
    std::vector<key_value> out;
    for (const auto& a : args) out.push_back(parse_key_argument(a));
    return out;
}

// Rows as a table: one column per field, in the first row's order.
std::string render_rows(const json::array& rows, std::size_t width) {
    std::vector<std::string> names;
    for (const auto& r : rows)
        if (r.is_object())
            for (const auto& [k, _] : r.as_object())
                if (std::find(names.begin(), names.end(), k) == names.end()) names.emplace_back(k);
    std::vector<column> columns;
    for (const auto& n : names)
        columns.push_back({n, [n](const json::value& r) {
                               const auto* v =
                                   r.is_object() ? r.as_object().if_contains(n) : nullptr;
                               return v ? text_of(*v) : std::string("-");
                           }});
    return render_table(columns, rows, width);
}

std::string stale_note(const json::value& v) {
    return text_at(v, "stale") == "yes"
               ? "(stale: the pipeline dropped changes and waits for `laredo reload`)\n"
               : "";
}

}  // namespace

void add_query_commands(CLI::App& app, session& s) {
    auto* group = app.add_subcommand("query", "read a table's rows");
    group->require_subcommand(1);

    auto* get = group->add_subcommand("get", "one row by its key");
    auto get_target = std::make_shared<query_target>();
    auto get_keys = std::make_shared<std::vector<std::string>>();
    get_target->add_to(get);
    get->add_option("--key,-k", *get_keys,
                    "COLUMN=VALUE of a key column (repeat for a composite key)")
        ->required();
    s.on_run(get, [&s, get_target, get_keys] {
        const auto values = typed_values(get_target->columns(s), parse_keys(*get_keys), true);
        const auto v =
            s.client().get(get_target->base() + "/rows" + key_path(values) + get_target->params());
        auto render = [](const json::value& x, std::size_t width) {
            return render_fields(x.at("row"), width) + stale_note(x);
        };
        s.print(v, render);
        return exit_ok;
    });

    auto* lookup =
        group->add_subcommand("lookup", "rows by the table's lookup_fields (or by --index NAME)");
    auto lookup_target = std::make_shared<query_target>();
    auto lookup_keys = std::make_shared<std::vector<std::string>>();
    auto index = std::make_shared<std::string>();
    lookup_target->add_to(lookup);
    lookup
        ->add_option("--key,-k", *lookup_keys,
                     "COLUMN=VALUE, one per field, in the fields' configured order")
        ->required();
    lookup->add_option("--index", *index, "a secondary index (additional_indexes) by name");
    s.on_run(lookup, [&s, lookup_target, lookup_keys, index] {
        const auto values =
            typed_values(lookup_target->columns(s), parse_keys(*lookup_keys), false);
        const auto route = index->empty() ? "/lookup" : "/indexes/" + url_encode(*index);
        const auto v = s.client().get(lookup_target->base() + route + key_path(values) +
                                      lookup_target->params());
        auto render = [](const json::value& x, std::size_t width) {
            return render_rows(x.at("rows").as_array(), width);
        };
        s.print(v, render);
        return exit_ok;
    });

    auto* list = group->add_subcommand("list", "rows in key order, a page at a time");
    auto list_target = std::make_shared<query_target>();
    auto limit = std::make_shared<std::size_t>(100);
    auto cursor = std::make_shared<std::string>();
    auto all = std::make_shared<bool>(false);
    list_target->add_to(list);
    list->add_option("--limit", *limit, "rows per page")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    list->add_option("--cursor", *cursor, "continue after a page (its next_cursor)");
    list->add_flag("--all", *all, "every page, one after the other");
    s.on_run(list, [&s, list_target, limit, cursor, all] {
        auto page = [&](const std::string& after) {
            std::string target = list_target->base() + "/rows?limit=" + std::to_string(*limit) +
                                 list_target->params(false);
            if (!after.empty()) target += "&cursor=" + url_encode(after);
            return s.client().get(target);
        };
        auto v = page(*cursor);
        // --all: the pages' rows in one answer of the same shape.
        while (*all && v.at("next_cursor").is_string()) {
            auto next = page(std::string(v.at("next_cursor").as_string()));
            auto& rows = v.as_object()["rows"].as_array();
            for (auto& r : next.at("rows").as_array()) rows.push_back(std::move(r));
            v.as_object()["next_cursor"] = next.at("next_cursor");
            v.as_object()["stale"] = next.at("stale");
        }
        auto render = [](const json::value& x, std::size_t width) {
            std::string out = render_rows(x.at("rows").as_array(), width) + stale_note(x);
            if (x.at("next_cursor").is_string())
                out += "more: --cursor " + std::string(x.at("next_cursor").as_string()) + "\n";
            return out;
        };
        s.print(v, render);
        return exit_ok;
    });

    auto* count = group->add_subcommand("count", "how many rows the table holds");
    auto count_target = std::make_shared<query_target>();
    count_target->add_to(count);
    s.on_run(count, [&s, count_target] {
        auto render = [](const json::value& x, std::size_t) {
            return text_at(x, "count") + "\n" + stale_note(x);
        };
        s.print(s.client().get(count_target->base() + "/count" + count_target->params()), render);
        return exit_ok;
    });
}

}  // namespace laredo::cli
