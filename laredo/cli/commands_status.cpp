// Read-only views of the server: status, ready, pipelines, tables, schema, source.

#include "laredo/cli/errors.hpp"
#include "laredo/cli/session.hpp"

#include <CLI/CLI.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <iostream>

namespace laredo::cli {

namespace json = boost::json;

namespace {

const json::array& array_at(const json::value& v, std::string_view path) {
    static const json::array empty;
    const auto* at = find_path(v, path);
    return at && at->is_array() ? at->as_array() : empty;
}

std::string baseline_text(const json::value& p) {
    const auto* b = find_path(p, "baseline");
    if (!b || !b->is_object()) return "-";
    const auto done = text_at(*b, "rows_done");
    if (text_at(*b, "done") == "yes") return "done (" + done + " rows)";
    const auto* total = find_path(*b, "rows_total");
    if (total && total->is_number() && total->to_number<double>() > 0) {
        const double pct =
            100.0 * find_path(*b, "rows_done")->to_number<double>() / total->to_number<double>();
        return std::to_string(static_cast<int>(std::min(pct, 100.0))) + "% of " + text_of(*total);
    }
    return done + " rows";
}

std::vector<column> pipeline_columns() {
    return {field("PIPELINE", "id"),
            field("STATE", "state"),
            field("ROWS", "row_count"),
            {"BUFFER",
             [](const json::value& p) {
                 return text_at(p, "buffer.depth") + "/" + text_at(p, "buffer.capacity");
             }},
            field("POSITION", "applied_position"),
            {"BASELINE", baseline_text},
            field("ERROR", "last_error")};
}

std::string lag_text(const json::value& s) {
    std::string out = text_at(s, "lag.bytes");
    if (out != "-") out += " B";
    const auto secs = text_at(s, "lag.seconds");
    if (secs != "-") out += " / " + secs + " s";
    return out;
}

std::vector<column> source_columns() {
    return {field("SOURCE", "id"),
            field("TYPE", "type"),
            field("STATE", "state"),
            field("CONNECTED", "connected"),
            field("READY", "ready"),
            {"LAG", lag_text},
            field("ACKED", "last_acked_position")};
}

std::string render_status(const json::value& v, std::size_t width) {
    std::string out =
        fit("state " + text_at(v, "state") + "  ready " + text_at(v, "ready") + "  draining " +
                text_at(v, "draining"),
            width) +
        "\n" +
        fit("version " + text_at(v, "version") + "  started " + text_at(v, "started_at"), width) +
        "\n\n";
    out += render_table(source_columns(), array_at(v, "sources"), width) + "\n";
    out += render_table(pipeline_columns(), array_at(v, "pipelines"), width);
    return out;
}

// Why the server is not ready, one reason a line.
std::vector<std::string> not_ready_reasons(const json::value& status) {
    std::vector<std::string> out;
    if (text_at(status, "draining") == "yes") out.push_back("the server is draining");
    for (const auto& s : array_at(status, "sources"))
        if (text_at(s, "ready") != "yes")
            out.push_back("source " + text_at(s, "id") + " is " + text_at(s, "state"));
    for (const auto& p : array_at(status, "pipelines")) {
        const auto state = text_at(p, "state");
        if (state != "STREAMING" && state != "PAUSED")
            out.push_back("pipeline " + text_at(p, "id") + " is " + state);
    }
    return out;
}

void add_status(CLI::App& app, session& s) {
    auto* cmd = app.add_subcommand("status", "the engine's state, its sources and pipelines");
    s.on_run(cmd, [&s] {
        s.print(s.client().get("/v1/status"), render_status);
        return exit_ok;
    });
}

void add_ready(CLI::App& app, session& s) {
    auto* cmd = app.add_subcommand(
        "ready", "exit 0 when the server is ready (every pipeline streams), 1 when not");
    auto source = std::make_shared<std::string>();
    cmd->add_option("--source", *source, "only this source's readiness");
    s.on_run(cmd, [&s, source] {
        const auto v = source->empty() ? s.client().get("/v1/status")
                                       : s.client().get("/v1/sources/" + url_encode(*source));
        // A draining server still has its pipelines streaming, yet it is not ready.
        const bool ready = text_at(v, "ready") == "yes" && text_at(v, "draining") != "yes";
        auto render = [ready, &source](const json::value& x, std::size_t) {
            if (ready) return std::string("ready\n");
            std::string out = "not ready\n";
            if (source->empty())
                for (const auto& r : not_ready_reasons(x)) out += "  " + r + "\n";
            else
                out += "  source " + *source + " is " + text_at(x, "state") + "\n";
            return out;
        };
        s.print(v, render);
        return ready ? exit_ok : exit_failed;
    });
}

void add_pipelines(CLI::App& app, session& s) {
    auto* cmd =
        app.add_subcommand("pipelines", "every pipeline (or one): state, rows, buffer, baseline");
    auto id = std::make_shared<std::string>();
    cmd->add_option("pipeline", *id, "one pipeline's id");
    s.on_run(cmd, [&s, id] {
        if (!id->empty()) {
            s.print(s.client().get("/v1/pipelines/" + url_encode(*id)), render_fields);
        } else {
            auto render = [](const json::value& v, std::size_t width) {
                return render_table(pipeline_columns(), array_at(v, "pipelines"), width);
            };
            s.print(s.client().get("/v1/pipelines"), render);
        }
        return exit_ok;
    });
}

void add_tables(CLI::App& app, session& s) {
    auto* cmd = app.add_subcommand("tables", "the tables served, their sources and pipelines");
    s.on_run(cmd, [&s] {
        auto targets = [](const json::value& t) {
            std::string out;
            for (const auto& x : array_at(t, "targets"))
                out += (out.empty() ? "" : ", ") + text_at(x, "pipeline");
            return out;
        };
        auto render = [targets](const json::value& v, std::size_t width) {
            return render_table(
                {field("TABLE", "table"), field("SOURCE", "source"), {"PIPELINES", targets}},
                array_at(v, "tables"), width);
        };
        s.print(s.client().get("/v1/tables"), render);
        return exit_ok;
    });
}

void add_schema(CLI::App& app, session& s) {
    auto* cmd = app.add_subcommand("schema", "a table's columns, types and key");
    auto table = std::make_shared<std::string>();
    auto source = std::make_shared<std::string>();
    cmd->add_option("table", *table, "schema.table")->required();
    cmd->add_option("--source", *source, "the source, when several serve the table");
    s.on_run(cmd, [&s, table, source] {
        std::string target = "/v1/tables/" + table_path(*table);
        if (!source->empty()) target += "?source=" + url_encode(*source);
        auto render = [](const json::value& v, std::size_t width) {
            const auto* columns = find_path(v, "columns");
            if (!columns || !columns->is_array())
                return text_at(v, "table") +
                       ": no columns received yet (the source has not "
                       "described the table)\n";
            auto key = [](const json::value& c) {
                const auto* pk = find_path(c, "primary_key");
                if (!pk || !pk->is_bool() || !pk->as_bool()) return std::string();
                return "key " + text_at(c, "primary_key_ordinal");
            };
            return text_at(v, "table") + " (source " + text_at(v, "source") + ")\n" +
                   render_table({field("COLUMN", "name"),
                                 field("TYPE", "type"),
                                 field("NULLABLE", "nullable"),
                                 {"KEY", key}},
                                columns->as_array(), width);
        };
        s.print(s.client().get(target), render);
        return exit_ok;
    });
}

void add_source(CLI::App& app, session& s) {
    auto* cmd =
        app.add_subcommand("source", "every source (or one): state, lag, slot, ACKed position");
    auto id = std::make_shared<std::string>();
    cmd->add_option("source", *id, "one source's id");
    s.on_run(cmd, [&s, id] {
        if (!id->empty()) {
            s.print(s.client().get("/v1/sources/" + url_encode(*id)), render_fields);
        } else {
            auto render = [](const json::value& v, std::size_t width) {
                return render_table(source_columns(), array_at(v, "sources"), width);
            };
            s.print(s.client().get("/v1/sources"), render);
        }
        return exit_ok;
    });
}

}  // namespace

void add_status_commands(CLI::App& app, session& s) {
    add_status(app, s);
    add_ready(app, s);
    add_pipelines(app, s);
    add_tables(app, s);
    add_schema(app, s);
    add_source(app, s);
}

}  // namespace laredo::cli
