// Changing what the server does: pause, resume, reload, reset-source, drain.

#include "laredo/cli/confirm.hpp"
#include "laredo/cli/errors.hpp"
#include "laredo/cli/session.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <iostream>

namespace laredo::cli {

namespace json = boost::json;

namespace {

// "pause" and "resume": one POST on a source.
void add_source_action(CLI::App& app, session& s, const std::string& name,
                       const std::string& help) {
    auto* cmd = app.add_subcommand(name, help);
    auto id = std::make_shared<std::string>();
    cmd->add_option("source", *id, "the source's id (see `laredo source`)")->required();
    s.on_run(cmd, [&s, id, name] {
        const auto v = s.client().call("POST", "/v1/sources/" + url_encode(*id) + "/" + name);
        auto render = [](const json::value& x, std::size_t) {
            return "source " + text_at(x, "source") + ": " + text_at(x, "state") + "\n";
        };
        s.print(v, render);
        return exit_ok;
    });
}

void add_reload(CLI::App& app, session& s) {
    auto* cmd = app.add_subcommand("reload", "re-baseline one table (its pipelines load it again)");
    auto table = std::make_shared<std::string>();
    auto source = std::make_shared<std::string>();
    cmd->add_option("table", *table, "schema.table")->required();
    cmd->add_option("--source", *source, "the source, when several serve the table");
    s.on_run(cmd, [&s, table, source] {
        json::object body;
        if (!source->empty()) body["source"] = *source;
        const auto v = s.client().call("POST", "/v1/tables/" + table_path(*table) + "/reload",
                                       json::serialize(body));
        auto render = [](const json::value& x, std::size_t) {
            return "reloading " + text_at(x, "table") + " from source " + text_at(x, "source") +
                   "\n";
        };
        s.print(v, render);
        return exit_ok;
    });
}

void add_reset_source(CLI::App& app, session& s) {
    auto* cmd = app.add_subcommand(
        "reset-source",
        "drop a source's replication slot: its pipelines baseline again (asks first)");
    auto id = std::make_shared<std::string>();
    auto yes = std::make_shared<bool>(false);
    auto drop_publication = std::make_shared<bool>(false);
    cmd->add_option("source", *id, "the source's id")->required();
    cmd->add_flag("--yes,-y", *yes, "do not ask (needed without a terminal)");
    cmd->add_flag("--drop-publication", *drop_publication, "drop its publication too");
    s.on_run(cmd, [&s, id, yes, drop_publication] {
        if (!confirm("Reset source '" + *id +
                         "'? This drops its replication slot and every table is loaded again.",
                     *yes)) {
            std::cerr << "laredo: not reset\n";
            return exit_failed;
        }
        const json::object body{{"confirm", true}, {"drop_publication", *drop_publication}};
        const auto v = s.client().call("POST", "/v1/sources/" + url_encode(*id) + "/reset",
                                       json::serialize(body));
        auto render = [](const json::value& x, std::size_t) {
            return "source " + text_at(x, "source") +
                   " reset (publication dropped: " + text_at(x, "drop_publication") + ")\n";
        };
        s.print(v, render);
        return exit_ok;
    });
}

void add_drain(CLI::App& app, session& s) {
    auto* cmd =
        app.add_subcommand("drain", "report not ready and stop gracefully (as SIGTERM does)");
    auto keep_running = std::make_shared<bool>(false);
    auto cancel = std::make_shared<bool>(false);
    cmd->add_flag("--keep-running", *keep_running, "only report not ready; do not stop");
    cmd->add_flag("--cancel", *cancel, "ready again (after --keep-running)")
        ->excludes("--keep-running");
    s.on_run(cmd, [&s, keep_running, cancel] {
        json::value v;
        if (*cancel)
            v = s.client().call("DELETE", "/v1/drain");
        else
            v = s.client().call("POST", "/v1/drain",
                                json::serialize(json::object{{"shutdown", !*keep_running}}));
        auto render = [](const json::value& x, std::size_t) {
            if (text_at(x, "draining") != "yes") return std::string("ready again\n");
            return text_at(x, "shutdown") == "yes"
                       ? std::string("draining: the server stops after its drain grace\n")
                       : std::string("draining: reporting not ready, still serving\n");
        };
        s.print(v, render);
        return exit_ok;
    });
}

}  // namespace

void add_admin_commands(CLI::App& app, session& s) {
    add_source_action(app, s, "pause", "pause a source (nothing is dropped)");
    add_source_action(app, s, "resume", "resume a paused source");
    add_reload(app, s);
    add_reset_source(app, s);
    add_drain(app, s);
}

}  // namespace laredo::cli
