#include "laredo/server/ws/status_hub.hpp"

#include "laredo/json/values.hpp"

#include <boost/json/serialize.hpp>

#include <chrono>

namespace laredo::server::ws {

namespace json = boost::json;

void status_hub::set_pipelines(std::map<std::string, pipeline_ref> pipelines) {
    std::lock_guard lock(mutex_);
    pipelines_ = std::move(pipelines);
}

void status_hub::subscribe(std::shared_ptr<http::message_feed> feed, status_filter filter) {
    std::lock_guard lock(mutex_);
    std::erase_if(subscribers_, [](const subscriber& s) { return s.feed.expired(); });
    subscribers_.push_back({feed, std::move(filter)});
}

std::size_t status_hub::subscribers() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& s : subscribers_) n += s.feed.expired() ? 0 : 1;
    return n;
}

std::uint64_t status_hub::queued_bytes() const {
    std::lock_guard lock(mutex_);
    std::uint64_t n = 0;
    for (const auto& s : subscribers_)
        if (auto f = s.feed.lock()) n += f->queued_bytes();
    return n;
}

void status_hub::publish(json::object event, const std::string& source,
                         const std::string& pipeline) {
    event["time"] = laredo::json::format_time_point(std::chrono::system_clock::now());
    std::string table;
    std::string src = source;
    {
        std::lock_guard lock(mutex_);
        if (auto it = pipelines_.find(pipeline); it != pipelines_.end()) {
            table = it->second.table;
            if (src.empty()) src = it->second.source;
        }
    }
    if (!table.empty() && !event.contains("table")) event["table"] = table;
    if (!src.empty() && !event.contains("source")) event["source"] = src;
    const auto text = json::serialize(event);
    std::vector<std::shared_ptr<http::message_feed>> targets;
    {
        std::lock_guard lock(mutex_);
        for (const auto& s : subscribers_) {
            auto f = s.feed.lock();
            if (!f) continue;
            const auto& flt = s.filter;
            // An event about the whole server (no source, no pipeline) reaches everyone.
            if (flt.source && !src.empty() && *flt.source != src) continue;
            if (flt.pipeline && !pipeline.empty() && *flt.pipeline != pipeline) continue;
            if (flt.pipeline && pipeline.empty() && !src.empty()) continue;
            if (flt.table && !table.empty() && *flt.table != table) continue;
            if (flt.table && table.empty() && !src.empty()) continue;
            targets.push_back(std::move(f));
        }
    }
    // Outside the lock: a push that overflows ends that feed (and may call back).
    for (auto& f : targets) f->push(text);
}

void status_hub::server_event(const std::string& what) {
    publish(json::object{{"type", "server"}, {"event", what}}, "", "");
}

void status_hub::on_source_connected(const std::string& source_id, const std::string& type) {
    publish(json::object{{"type", "source_connected"}, {"source_type", type}}, source_id, "");
}

void status_hub::on_source_disconnected(const std::string& source_id, const std::string& reason) {
    publish(json::object{{"type", "source_disconnected"}, {"reason", reason}}, source_id, "");
}

void status_hub::on_rebaseline_triggered(const std::string& source_id, const std::string& reason) {
    publish(json::object{{"type", "rebaseline"}, {"reason", reason}}, source_id, "");
}

void status_hub::on_schema_change(const std::string& pipeline_id, const table_identifier& table,
                                  const std::string& description) {
    publish(json::object{{"type", "schema_change"},
                         {"pipeline", pipeline_id},
                         {"table", table.to_string()},
                         {"description", description}},
            "", pipeline_id);
}

void status_hub::on_pipeline_state_changed(const std::string& pipeline_id, pipeline_state old_state,
                                           pipeline_state new_state) {
    publish(json::object{{"type", "pipeline_state"},
                         {"pipeline", pipeline_id},
                         {"from", std::string(to_string(old_state))},
                         {"to", std::string(to_string(new_state))}},
            "", pipeline_id);
}

void status_hub::on_baseline_started(const std::string& pipeline_id,
                                     const table_identifier& table) {
    publish(
        json::object{
            {"type", "baseline_started"}, {"pipeline", pipeline_id}, {"table", table.to_string()}},
        "", pipeline_id);
}

void status_hub::on_baseline_completed(const std::string& pipeline_id,
                                       const table_identifier& table, std::uint64_t rows,
                                       duration elapsed) {
    publish(json::object{{"type", "baseline_completed"},
                         {"pipeline", pipeline_id},
                         {"table", table.to_string()},
                         {"rows", rows},
                         {"elapsed_seconds", std::chrono::duration<double>(elapsed).count()}},
            "", pipeline_id);
}

void status_hub::on_snapshot_completed(const std::string& snapshot_id, std::size_t tables,
                                       std::uint64_t rows, std::uint64_t size_bytes, duration) {
    publish(json::object{{"type", "snapshot_completed"},
                         {"snapshot", snapshot_id},
                         {"tables", tables},
                         {"rows", rows},
                         {"size_bytes", size_bytes}},
            "", "");
}

void status_hub::on_snapshot_failed(const std::string& snapshot_id, const std::string& message) {
    publish(
        json::object{{"type", "snapshot_failed"}, {"snapshot", snapshot_id}, {"message", message}},
        "", "");
}

}  // namespace laredo::server::ws
