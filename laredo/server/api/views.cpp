#include "laredo/server/api/views.hpp"

#include "laredo/json/values.hpp"
#include "laredo/server/common/describe.hpp"

#include <boost/json/array.hpp>

#include <charconv>
#include <set>

namespace laredo::server::api {

namespace json = boost::json;

std::string format_time(std::chrono::system_clock::time_point t) {
    return laredo::json::format_time_point(t);
}

std::string position_text(const context& ctx, const std::string& source_id, const position& pos) {
    const auto it = ctx.rt->sources.find(source_id);
    if (it == ctx.rt->sources.end()) return {};
    try {
        return it->second->position_to_string(pos);
    } catch (const std::exception&) {
        return {};
    }
}

std::string engine_state(const context& ctx) {
    if (ctx.app->draining) return "DRAINING";
    if (!ctx.app->engine_started) return "STARTING";
    bool paused = false;
    bool error = false;
    bool stopped = true;
    const auto pipelines = ctx.rt->eng.pipelines();
    for (const auto& p : pipelines) {
        paused |= p.state == pipeline_state::paused;
        error |= p.state == pipeline_state::error;
        stopped &= p.state == pipeline_state::stopped;
    }
    if (error) return "ERROR";
    if (!pipelines.empty() && stopped) return "STOPPED";
    if (paused) return "PAUSED";
    if (!ctx.rt->eng.is_ready()) return "BASELINING";
    return "STREAMING";
}

boost::json::object pipeline_json(const context& ctx, const pipeline_info& p) {
    json::object out;
    out["id"] = p.id;
    out["source"] = p.source_id;
    out["table"] = p.table.to_string();
    out["target_type"] = p.target_type;
    out["state"] = std::string(to_string(p.state));
    out["stale"] = p.stale;
    out["buffer"] = json::object{{"depth", p.buffer_depth}, {"capacity", p.buffer_capacity}};
    if (p.applied_position)
        out["applied_position"] = position_text(ctx, p.source_id, *p.applied_position);
    else
        out["applied_position"] = nullptr;
    if (p.last_error.empty())
        out["last_error"] = nullptr;
    else
        out["last_error"] = p.last_error;
    if (const auto* t = ctx.rt->find_pipeline(p.id)) {
        if (auto n = t->row_count()) out["row_count"] = *n;
    }
    if (auto b = ctx.tracker->baseline(p.id)) {
        json::object baseline;
        baseline["running"] = b->running;
        baseline["done"] = b->done;
        baseline["rows_done"] = b->rows_done;
        if (b->rows_total)
            baseline["rows_total"] = *b->rows_total;
        else
            baseline["rows_total"] = nullptr;
        baseline["rows_per_second"] = b->rate();
        baseline["started_at"] = format_time(b->started_at);
        if (b->done) baseline["elapsed_seconds"] = static_cast<double>(b->elapsed.count()) / 1000.0;
        out["baseline"] = std::move(baseline);
    } else {
        out["baseline"] = nullptr;
    }
    return out;
}

boost::json::object source_json(const context& ctx, const std::string& source_id) {
    json::object out;
    const auto info = ctx.rt->eng.source(source_id);
    if (!info) return out;
    out["id"] = info->id;
    out["type"] = info->source_type;
    out["state"] = std::string(to_string(info->state));
    out["ready"] = ctx.rt->eng.is_source_ready(source_id);
    out["supports_resume"] = info->supports_resume;
    out["ordering"] = std::string(to_string(info->ordering));
    json::object lag;
    if (info->lag.lag_bytes)
        lag["bytes"] = *info->lag.lag_bytes;
    else
        lag["bytes"] = nullptr;
    if (info->lag.lag_time)
        lag["seconds"] = static_cast<double>(info->lag.lag_time->count()) / 1e6;
    else
        lag["seconds"] = nullptr;
    out["lag"] = std::move(lag);
    if (info->last_acked)
        out["last_acked_position"] = position_text(ctx, source_id, *info->last_acked);
    else
        out["last_acked_position"] = nullptr;
    const auto sources = ctx.tracker->sources();
    if (auto it = sources.find(source_id); it != sources.end()) {
        out["connected"] = it->second.connected;
        if (!it->second.last_disconnect_reason.empty())
            out["last_error"] = it->second.last_disconnect_reason;
        else
            out["last_error"] = nullptr;
    } else {
        out["connected"] = false;
        out["last_error"] = nullptr;
    }
    if (auto pg = ctx.rt->postgres.find(source_id); pg != ctx.rt->postgres.end()) {
        const auto h = pg->second->health();
        json::object slot;
        slot["name"] = pg->second->options().slot_name;
        slot["mode"] = std::string(sources::postgres::to_string(pg->second->options().mode));
        slot["known"] = h.known;
        if (h.known) {
            slot["read_at"] = format_time(h.read_at);
            slot["lag_bytes"] = h.lag_bytes;
            slot["retained_wal_bytes"] = h.retained_wal_bytes;
            slot["wal_status"] = h.wal_status;
            if (h.safe_wal_size)
                slot["safe_wal_bytes"] = *h.safe_wal_size;
            else
                slot["safe_wal_bytes"] = nullptr;
            slot["spill_bytes"] = h.spill_bytes;
            slot["active"] = h.active;
        }
        out["slot"] = std::move(slot);
        json::array progress;
        for (const auto& p : pg->second->progress()) {
            json::object entry{
                {"table", p.table.to_string()}, {"rows_done", p.rows_done}, {"done", p.done}};
            if (p.rows_estimated)
                entry["rows_total"] = *p.rows_estimated;
            else
                entry["rows_total"] = nullptr;
            progress.push_back(std::move(entry));
        }
        out["baseline"] = std::move(progress);
    }
    return out;
}

boost::json::object snapshot_json(const snapshot_descriptor& d) {
    json::object out;
    out["id"] = d.id;
    out["created_at"] = format_time(d.created_at);
    json::object labels;
    for (const auto& [k, v] : d.labels) labels[k] = v;
    out["labels"] = std::move(labels);
    json::object positions;
    for (const auto& [k, v] : d.source_positions) positions[k] = v;
    out["source_positions"] = std::move(positions);
    json::array tables;
    for (const auto& t : d.tables)
        tables.push_back(json::object{{"pipeline", t.pipeline_id},
                                      {"source", t.source_id},
                                      {"table", t.table.to_string()},
                                      {"target_type", t.target_type},
                                      {"position", t.position},
                                      {"row_count", t.row_count},
                                      {"size_bytes", t.size_bytes}});
    out["tables"] = std::move(tables);
    out["row_count"] = d.row_count;
    out["size_bytes"] = d.size_bytes;
    out["format"] = d.format;
    return out;
}

boost::json::object dead_letter_json(const dead_letter& d) {
    json::object out;
    out["sequence"] = d.sequence;
    out["pipeline"] = d.pipeline_id;
    out["written_at"] = format_time(d.written_at);
    out["position"] = d.position;
    out["error_code"] = d.error_code;
    out["error_message"] = d.error_message;
    out["attempts"] = d.attempts;
    out["change"] = laredo::json::encode_change(d.change);
    return out;
}

table_identifier table_arg(const std::string& text) {
    try {
        return table_identifier::parse(text);
    } catch (const std::exception& e) {
        throw api_error(400, "bad_table", describe(e));
    }
}

boost::json::object body_object(const http::request& req) {
    if (req.body.empty()) return {};
    json::value v;
    try {
        v = laredo::json::parse(req.body);
    } catch (const std::exception& e) {
        throw api_error(400, "invalid_json", "the body is not valid JSON: " + describe(e));
    }
    if (!v.is_object()) throw api_error(400, "invalid_json", "the body must be a JSON object");
    return std::move(v.as_object());
}

std::size_t size_param(const http::request& req, std::string_view name, std::size_t fallback,
                       std::size_t max) {
    const auto text = req.param(name);
    if (!text) return fallback;
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (ec != std::errc{} || end != text->data() + text->size() || n == 0 || n > max)
        throw api_error(
            400, "bad_parameter",
            std::string(name) + " must be a whole number from 1 to " + std::to_string(max));
    return n;
}

std::string source_for_table(const context& ctx, const table_identifier& table,
                             const std::optional<std::string>& source) {
    std::set<std::string> sources;
    for (const auto* t : ctx.rt->find(table, source.value_or(""))) sources.insert(t->source_id);
    if (sources.empty())
        throw api_error(404, "unknown_table",
                        "no pipeline serves " + table.to_string() +
                            (source ? " from source " + *source : std::string()));
    if (sources.size() > 1) {
        std::string list;
        for (const auto& s : sources) list += (list.empty() ? "" : ", ") + s;
        throw api_error(
            400, "ambiguous_table",
            table.to_string() + " is served by sources " + list + ": choose one with ?source=");
    }
    return *sources.begin();
}

}  // namespace laredo::server::api
