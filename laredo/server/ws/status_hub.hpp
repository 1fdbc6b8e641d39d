#pragma once

#include "laredo/observer.hpp"
#include "laredo/server/http/feed.hpp"

#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace laredo::server::ws {

// Which status events a client wants (empty = all).
struct status_filter {
    std::optional<std::string> source;
    std::optional<std::string> pipeline;
    std::optional<std::string> table;  // "schema.table"
};

// The live status stream: an engine observer that turns state changes into JSON messages
// and pushes them to every subscribed client's feed whose filter matches. Events:
// pipeline_state, source_connected, source_disconnected, rebaseline, baseline_started,
// baseline_completed, schema_change, snapshot_completed, snapshot_failed, server (drain).
// No per-change callback is taken (the stream is for state, not rows).
class status_hub final : public engine_observer {
  public:
    struct pipeline_ref {
        std::string source;
        std::string table;
    };
    // Which source and table each pipeline serves (for filters); set once after wiring.
    void set_pipelines(std::map<std::string, pipeline_ref> pipelines);

    void subscribe(std::shared_ptr<http::message_feed> feed, status_filter filter);
    std::size_t subscribers() const;
    // Bytes queued over every subscriber's feed (a metric).
    std::uint64_t queued_bytes() const;

    // A server event (drain started, stopping) to every subscriber.
    void server_event(const std::string& what);

    void on_source_connected(const std::string& source_id, const std::string& type) override;
    void on_source_disconnected(const std::string& source_id, const std::string& reason) override;
    void on_rebaseline_triggered(const std::string& source_id, const std::string& reason) override;
    void on_schema_change(const std::string& pipeline_id, const table_identifier& table,
                          const std::string& description) override;
    void on_pipeline_state_changed(const std::string& pipeline_id, pipeline_state old_state,
                                   pipeline_state new_state) override;
    void on_baseline_started(const std::string& pipeline_id,
                             const table_identifier& table) override;
    void on_baseline_completed(const std::string& pipeline_id, const table_identifier& table,
                               std::uint64_t rows, duration elapsed) override;
    void on_snapshot_completed(const std::string& snapshot_id, std::size_t tables,
                               std::uint64_t rows, std::uint64_t size_bytes,
                               duration elapsed) override;
    void on_snapshot_failed(const std::string& snapshot_id, const std::string& message) override;

  private:
    struct subscriber {
        std::weak_ptr<http::message_feed> feed;
        status_filter filter;
    };
    void publish(boost::json::object event, const std::string& source, const std::string& pipeline);

    mutable std::mutex mutex_;
    std::vector<subscriber> subscribers_;
    std::map<std::string, pipeline_ref> pipelines_;
};

}  // namespace laredo::server::ws
