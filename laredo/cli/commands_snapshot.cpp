// Snapshots of the targets: create, list, describe, delete, prune.

#include "laredo/cli/errors.hpp"
#include "laredo/cli/session.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace laredo::cli {

namespace json = boost::json;

namespace {

std::vector<column> snapshot_columns() {
    auto labels = [](const json::value& v) {
        std::string out;
        if (const auto* l = find_path(v, "labels"); l && l->is_object())
            for (const auto& [k, x] : l->as_object())
                out += (out.empty() ? "" : ",") + std::string(k) + "=" + text_of(x);
        return out;
    };
    return {field("SNAPSHOT", "id"),    field("CREATED", "created_at"),
            field("ROWS", "row_count"), field("BYTES", "size_bytes"),
            field("FORMAT", "format"),  {"LABELS", labels}};
}

json::array snapshots_of(const json::value& v) {
    const auto* a = find_path(v, "snapshots");
    return a && a->is_array() ? a->as_array() : json::array{};
}

std::string snapshot_path(const std::string& id) { return "/v1/snapshots/" + url_encode(id); }

}  // namespace

void add_snapshot_commands(CLI::App& app, session& s) {
    auto* group = app.add_subcommand("snapshot", "the targets' snapshots");
    group->require_subcommand(1);

    auto* create = group->add_subcommand("create", "take a snapshot now");
    auto labels = std::make_shared<std::vector<std::string>>();
    create->add_option("--label", *labels, "KEY=VALUE, repeatable");
    s.on_run(create, [&s, labels] {
        json::object l;
        for (const auto& kv : *labels) {
            const auto eq = kv.find('=');
            if (eq == std::string::npos || eq == 0)
                throw usage_error("--label " + kv + ": expected KEY=VALUE");
            l[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
        const auto v = s.client().call("POST", "/v1/snapshots",
                                       json::serialize(json::object{{"labels", std::move(l)}}));
        s.print(v, render_fields);
        return exit_ok;
    });

    auto* list = group->add_subcommand("list", "every snapshot, oldest first");
    s.on_run(list, [&s] {
        auto render = [](const json::value& v, std::size_t width) {
            return render_table(snapshot_columns(), snapshots_of(v), width);
        };
        s.print(s.client().get("/v1/snapshots"), render);
        return exit_ok;
    });

    auto* describe = group->add_subcommand("describe", "one snapshot: its tables and positions");
    auto describe_id = std::make_shared<std::string>();
    describe->add_option("snapshot", *describe_id, "the snapshot's id")->required();
    s.on_run(describe, [&s, describe_id] {
        auto render = [](const json::value& v, std::size_t width) {
            json::value head = v;
            head.as_object().erase("tables");
            const auto* tables = find_path(v, "tables");
            return render_fields(head, width) + "\n" +
                   render_table({field("PIPELINE", "pipeline"), field("TABLE", "table"),
                                 field("POSITION", "position"), field("ROWS", "row_count"),
                                 field("BYTES", "size_bytes")},
                                tables && tables->is_array() ? tables->as_array() : json::array{},
                                width);
        };
        s.print(s.client().get(snapshot_path(*describe_id)), render);
        return exit_ok;
    });

    auto* remove = group->add_subcommand("delete", "delete one snapshot");
    auto delete_id = std::make_shared<std::string>();
    remove->add_option("snapshot", *delete_id, "the snapshot's id")->required();
    s.on_run(remove, [&s, delete_id] {
        const auto v = s.client().call("DELETE", snapshot_path(*delete_id));
        auto render = [](const json::value& x, std::size_t) {
            return "deleted " + text_at(x, "deleted") + "\n";
        };
        s.print(v, render);
        return exit_ok;
    });

    auto* prune = group->add_subcommand("prune", "delete all but the newest --keep snapshots");
    auto keep = std::make_shared<std::size_t>(0);
    prune->add_option("--keep", *keep, "how many of the newest to keep")
        ->required()
        ->check(CLI::NonNegativeNumber);
    s.on_run(prune, [&s, keep] {
        auto snapshots = snapshots_of(s.client().get("/v1/snapshots"));
        // Newest first: RFC 3339 UTC times compare as text.
        std::stable_sort(snapshots.begin(), snapshots.end(), [](const auto& a, const auto& b) {
            return text_at(a, "created_at") > text_at(b, "created_at");
        });
        json::array deleted;
        for (std::size_t i = *keep; i < snapshots.size(); ++i) {
            const auto id = text_at(snapshots[i], "id");
            s.client().call("DELETE", snapshot_path(id));
            deleted.push_back(json::value(id));
        }
        const json::object result{{"deleted", deleted},
                                  {"kept", std::min(*keep, snapshots.size())}};
        auto render = [](const json::value& x, std::size_t) {
            std::string out;
            for (const auto& id : x.at("deleted").as_array())
                out += "deleted " + text_of(id) + "\n";
            return out + "kept " + text_at(x, "kept") + "\n";
        };
        s.print(result, render);
        return exit_ok;
    });
}

}  // namespace laredo::cli
