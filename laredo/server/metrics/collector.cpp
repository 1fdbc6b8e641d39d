#include "laredo/server/metrics/collector.hpp"

#include "laredo/server/metrics/delivery_metrics.hpp"
#include "laredo/server/wiring/wiring.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

#ifndef LAREDO_SERVER_VERSION
#define LAREDO_SERVER_VERSION "unknown"
#endif

namespace laredo::server::metrics {

namespace {

constexpr std::array<change_action, 4> actions{change_action::insert, change_action::update,
                                               change_action::delete_, change_action::truncate};

std::size_t index_of(change_action a) { return static_cast<std::size_t>(a) & 3u; }

double seconds(engine_observer::duration d) { return std::chrono::duration<double>(d).count(); }

using counter = std::atomic<std::uint64_t>;

void add(counter& c, std::uint64_t n = 1) noexcept { c.fetch_add(n, std::memory_order_relaxed); }
std::uint64_t get(const counter& c) noexcept { return c.load(std::memory_order_relaxed); }

}  // namespace

struct collector::pipeline_metrics {
    std::array<counter, 4> received{};
    std::array<counter, 4> applied{};
    std::array<counter, 4> errors{};
    counter dead_letters{0};
    counter expired{0};
    counter buffer_policy{0};
    counter validation_match{0};
    counter validation_mismatch{0};
    std::atomic<std::uint64_t> validation_target_rows{0};
    counter baseline_rows{0};
    std::atomic<std::uint64_t> baseline_last{0};  // rows_so_far of the running baseline
    std::atomic<std::int64_t> baseline_estimate{-1};
    std::atomic<bool> baseline_running{false};
    std::array<std::unique_ptr<histogram>, 4> apply;
    histogram baseline{histogram::long_seconds()};
    pipeline_metrics() {
        for (auto& h : apply) h = std::make_unique<histogram>(histogram::default_seconds());
    }
};

struct collector::source_metrics {
    counter rebaselines{0};
    counter disconnects{0};
    std::atomic<bool> connected{false};
};

collector::collector()
    : snapshot_duration_(std::make_unique<histogram>(histogram::long_seconds())) {}
collector::~collector() = default;

collector::pipeline_metrics& collector::pipeline(const std::string& id) {
    // The engine passes the same string object for a pipeline on every call: a one-entry
    // cache per thread skips the map on the per-change path.
    struct cache_entry {
        const collector* owner = nullptr;
        const std::string* key = nullptr;
        pipeline_metrics* value = nullptr;
    };
    thread_local cache_entry cache;
    if (cache.owner == this && cache.key == &id && cache.value) return *cache.value;
    pipeline_metrics* found = nullptr;
    {
        std::shared_lock lock(mutex_);
        if (auto it = pipelines_.find(id); it != pipelines_.end()) found = it->second.get();
    }
    if (!found) {
        std::unique_lock lock(mutex_);
        auto& slot = pipelines_[id];
        if (!slot) slot = std::make_unique<pipeline_metrics>();
        found = slot.get();
    }
    cache = {this, &id, found};
    return *found;
}

collector::source_metrics& collector::source(const std::string& id) {
    {
        std::shared_lock lock(mutex_);
        if (auto it = sources_.find(id); it != sources_.end()) return *it->second;
    }
    std::unique_lock lock(mutex_);
    auto& slot = sources_[id];
    if (!slot) slot = std::make_unique<source_metrics>();
    return *slot;
}

void collector::count_request(unsigned status) noexcept {
    std::lock_guard lock(requests_mutex_);
    ++requests_[status];
}

void collector::on_source_connected(const std::string& id, const std::string&) {
    source(id).connected = true;
}
void collector::on_source_disconnected(const std::string& id, const std::string&) {
    auto& s = source(id);
    s.connected = false;
    add(s.disconnects);
}
void collector::on_rebaseline_triggered(const std::string& id, const std::string&) {
    add(source(id).rebaselines);
}
void collector::on_baseline_started(const std::string& id, const table_identifier&) {
    auto& p = pipeline(id);
    p.baseline_running = true;
    p.baseline_last = 0;
}
void collector::on_baseline_estimate(const std::string& id, const table_identifier&,
                                     std::uint64_t rows) {
    pipeline(id).baseline_estimate = static_cast<std::int64_t>(rows);
}
void collector::on_baseline_row_loaded(const std::string& id, const table_identifier&,
                                       std::uint64_t rows_so_far) {
    auto& p = pipeline(id);
    const auto before = p.baseline_last.exchange(rows_so_far, std::memory_order_relaxed);
    if (rows_so_far > before) add(p.baseline_rows, rows_so_far - before);
}
void collector::on_baseline_completed(const std::string& id, const table_identifier&,
                                      std::uint64_t rows, duration elapsed) {
    auto& p = pipeline(id);
    const auto before = p.baseline_last.exchange(0, std::memory_order_relaxed);
    if (rows > before) add(p.baseline_rows, rows - before);
    p.baseline_running = false;
    p.baseline.observe(seconds(elapsed));
}
void collector::on_change_received(const std::string& id, const table_identifier&,
                                   change_action action, const position&) {
    add(pipeline(id).received[index_of(action)]);
}
void collector::on_change_applied(const std::string& id, const table_identifier&,
                                  change_action action, duration elapsed) {
    auto& p = pipeline(id);
    add(p.applied[index_of(action)]);
    p.apply[index_of(action)]->observe(seconds(elapsed));
}
void collector::on_change_error(const std::string& id, const table_identifier&,
                                change_action action, const std::string&) {
    add(pipeline(id).errors[index_of(action)]);
}
void collector::on_buffer_policy_triggered(const std::string& id, buffer_policy) {
    add(pipeline(id).buffer_policy);
}
void collector::on_dead_letter_written(const std::string& id, const table_identifier&,
                                       change_action) {
    add(pipeline(id).dead_letters);
}
void collector::on_row_expired(const std::string& id, const table_identifier&, const std::string&) {
    add(pipeline(id).expired);
}
void collector::on_validation_result(const std::string& id, const table_identifier&, std::uint64_t,
                                     std::uint64_t actual, bool match) {
    auto& p = pipeline(id);
    add(match ? p.validation_match : p.validation_mismatch);
    p.validation_target_rows = actual;
}
void collector::on_snapshot_completed(const std::string&, std::size_t, std::uint64_t, std::uint64_t,
                                      duration elapsed) {
    add(snapshots_created_);
    snapshot_duration_->observe(seconds(elapsed));
}
void collector::on_snapshot_failed(const std::string&, const std::string&) {
    add(snapshots_failed_);
}
void collector::on_snapshot_restore_completed(const std::string&, std::uint64_t, duration) {
    add(snapshots_restored_);
}

namespace {

// Process metrics from /proc (the standard process_* names).
void process_metrics(exposition& out) {
    static const auto start = std::chrono::system_clock::now();
    std::ifstream stat("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close != std::string::npos) {
        std::istringstream fields(text.substr(close + 2));
        std::vector<std::string> f((std::istream_iterator<std::string>(fields)),
                                   std::istream_iterator<std::string>());
        // Fields after the command: state(0) ... utime(11) stime(12) ... vsize(20) rss(21).
        if (f.size() > 21) {
            const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
            out.family("process_cpu_seconds_total", "counter",
                       "User and system CPU time, in seconds.");
            out.sample("process_cpu_seconds_total", {},
                       (std::stod(f[11]) + std::stod(f[12])) / ticks);
            out.family("process_virtual_memory_bytes", "gauge", "Virtual memory size, in bytes.");
            out.sample("process_virtual_memory_bytes", {}, std::stod(f[20]));
            out.family("process_resident_memory_bytes", "gauge", "Resident memory size, in bytes.");
            out.sample("process_resident_memory_bytes", {},
                       std::stod(f[21]) * static_cast<double>(::sysconf(_SC_PAGESIZE)));
        }
    }
    std::size_t fds = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++fds;
    out.family("process_open_fds", "gauge", "Open file descriptors.");
    out.sample("process_open_fds", {}, static_cast<std::uint64_t>(fds));
    out.family("process_start_time_seconds", "gauge",
               "Start time of the process since the epoch, in seconds.");
    out.sample("process_start_time_seconds", {},
               std::chrono::duration<double>(start.time_since_epoch()).count());
}

}  // namespace

std::string collector::render(const wiring::runtime& rt, const server_gauges& gauges) const {
    exposition out;
    out.family("laredo_build_info", "gauge", "Always 1; the version label says which build runs.");
    out.sample("laredo_build_info", {{"version", LAREDO_SERVER_VERSION}}, std::uint64_t{1});
    out.family("laredo_ready", "gauge",
               "1 when every pipeline streams and the server is not draining.");
    out.sample("laredo_ready", {}, std::uint64_t{gauges.ready ? 1u : 0u});
    out.family("laredo_draining", "gauge", "1 while the server drains before stopping.");
    out.sample("laredo_draining", {}, std::uint64_t{gauges.draining ? 1u : 0u});

    const auto infos = rt.eng.pipelines();
    auto pipeline_labels = [](const pipeline_info& p) {
        return labels{{"pipeline", p.id}, {"source", p.source_id}, {"table", p.table.to_string()}};
    };
    std::map<std::string, pipeline_metrics*> metrics;
    {
        std::shared_lock lock(mutex_);
        for (const auto& [id, m] : pipelines_) metrics[id] = m.get();
    }
    auto find = [&](const std::string& id) -> const pipeline_metrics* {
        auto it = metrics.find(id);
        return it == metrics.end() ? nullptr : it->second;
    };

    out.family(
        "laredo_pipeline_state", "gauge",
        "Pipeline state: 0 initializing, 1 baselining, 2 streaming, 3 paused, 4 error, 5 stopped.");
    for (const auto& p : infos)
        out.sample("laredo_pipeline_state", pipeline_labels(p),
                   static_cast<std::uint64_t>(p.state));
    out.family("laredo_pipeline_buffer_depth", "gauge",
               "Changes waiting in the pipeline's buffer.");
    for (const auto& p : infos)
        out.sample("laredo_pipeline_buffer_depth", pipeline_labels(p),
                   static_cast<std::uint64_t>(p.buffer_depth));
    out.family("laredo_pipeline_buffer_capacity", "gauge",
               "Changes the pipeline's buffer holds at most.");
    for (const auto& p : infos)
        out.sample("laredo_pipeline_buffer_capacity", pipeline_labels(p),
                   static_cast<std::uint64_t>(p.buffer_capacity));
    out.family("laredo_pipeline_stale", "gauge",
               "1 when the pipeline dropped changes and needs a reload.");
    for (const auto& p : infos)
        out.sample("laredo_pipeline_stale", pipeline_labels(p), std::uint64_t{p.stale ? 1u : 0u});
    out.family("laredo_pipeline_rows", "gauge", "Rows the pipeline's target holds.");
    for (const auto& p : infos)
        if (const auto* t = rt.find_pipeline(p.id); t && t->row_count())
            out.sample("laredo_pipeline_rows", pipeline_labels(p),
                       static_cast<std::uint64_t>(*t->row_count()));

    auto per_action = [&](std::string_view name, std::string_view help,
                          std::array<counter, 4> pipeline_metrics::*field) {
        out.family(name, "counter", help);
        for (const auto& p : infos) {
            const auto* m = find(p.id);
            for (const auto a : actions) {
                auto l = pipeline_labels(p);
                l.emplace_back("action", std::string(to_string(a)));
                out.sample(name, l, m ? get((m->*field)[index_of(a)]) : 0);
            }
        }
    };
    per_action("laredo_changes_received_total", "Changes that reached the pipeline.",
               &pipeline_metrics::received);
    per_action("laredo_changes_applied_total", "Changes the target applied.",
               &pipeline_metrics::applied);
    per_action("laredo_change_errors_total", "Changes whose apply failed (each attempt).",
               &pipeline_metrics::errors);

    auto per_pipeline = [&](std::string_view name, std::string_view help,
                            counter pipeline_metrics::*field) {
        out.family(name, "counter", help);
        for (const auto& p : infos) {
            const auto* m = find(p.id);
            out.sample(name, pipeline_labels(p), m ? get(m->*field) : 0);
        }
    };
    per_pipeline("laredo_dead_letters_total", "Changes written to the dead-letter store.",
                 &pipeline_metrics::dead_letters);
    per_pipeline("laredo_rows_expired_total", "Rows removed by the TTL scanner.",
                 &pipeline_metrics::expired);
    per_pipeline("laredo_buffer_policy_triggered_total",
                 "Times a full buffer's drop_oldest or error policy applied.",
                 &pipeline_metrics::buffer_policy);
    per_pipeline("laredo_baseline_rows_loaded_total", "Baseline rows delivered to the pipeline.",
                 &pipeline_metrics::baseline_rows);

    out.family("laredo_validation_runs_total", "counter", "Row-count validations, by result.");
    for (const auto& p : infos) {
        const auto* m = find(p.id);
        auto l = pipeline_labels(p);
        l.emplace_back("result", "match");
        out.sample("laredo_validation_runs_total", l, m ? get(m->validation_match) : 0);
        l.back().second = "mismatch";
        out.sample("laredo_validation_runs_total", l, m ? get(m->validation_mismatch) : 0);
    }
    out.family("laredo_validation_target_rows", "gauge",
               "Rows the target held at the last validation.");
    for (const auto& p : infos)
        if (const auto* m = find(p.id))
            out.sample("laredo_validation_target_rows", pipeline_labels(p),
                       m->validation_target_rows.load());
    out.family("laredo_baseline_in_progress", "gauge",
               "1 while the pipeline's table is being baselined.");
    for (const auto& p : infos) {
        const auto* m = find(p.id);
        out.sample("laredo_baseline_in_progress", pipeline_labels(p),
                   std::uint64_t{m && m->baseline_running ? 1u : 0u});
    }
    out.family("laredo_baseline_rows_estimated", "gauge",
               "The source's estimate of the baseline's rows.");
    for (const auto& p : infos)
        if (const auto* m = find(p.id); m && m->baseline_estimate >= 0)
            out.sample("laredo_baseline_rows_estimated", pipeline_labels(p),
                       static_cast<std::uint64_t>(m->baseline_estimate.load()));
    out.family("laredo_change_apply_duration_seconds", "histogram",
               "Time to apply a change to the target.");
    for (const auto& p : infos)
        if (const auto* m = find(p.id))
            for (const auto a : actions) {
                auto l = pipeline_labels(p);
                l.emplace_back("action", std::string(to_string(a)));
                m->apply[index_of(a)]->write(out, "laredo_change_apply_duration_seconds", l);
            }
    out.family("laredo_baseline_duration_seconds", "histogram", "Time a baseline took.");
    for (const auto& p : infos)
        if (const auto* m = find(p.id))
            m->baseline.write(out, "laredo_baseline_duration_seconds", pipeline_labels(p));

    // Sources.
    std::map<std::string, source_metrics*> smetrics;
    {
        std::shared_lock lock(mutex_);
        for (const auto& [id, m] : sources_) smetrics[id] = m.get();
    }
    const auto ids = rt.eng.source_ids();
    std::vector<std::optional<source_info>> sinfo;
    for (const auto& id : ids) sinfo.push_back(rt.eng.source(id));
    out.family("laredo_source_connected", "gauge", "1 when the source is connected.");
    for (const auto& id : ids) {
        auto it = smetrics.find(id);
        out.sample("laredo_source_connected", {{"source", id}},
                   std::uint64_t{it != smetrics.end() && it->second->connected ? 1u : 0u});
    }
    out.family("laredo_source_lag_bytes", "gauge",
               "How far the source is behind its upstream, in bytes.");
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (sinfo[i] && sinfo[i]->lag.lag_bytes)
            out.sample("laredo_source_lag_bytes", {{"source", ids[i]}},
                       static_cast<double>(*sinfo[i]->lag.lag_bytes));
    out.family("laredo_source_lag_seconds", "gauge",
               "How far the source is behind its upstream, in seconds.");
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (sinfo[i] && sinfo[i]->lag.lag_time)
            out.sample("laredo_source_lag_seconds", {{"source", ids[i]}},
                       static_cast<double>(sinfo[i]->lag.lag_time->count()) / 1e6);
    out.family("laredo_source_rebaseline_total", "counter", "Re-baselines the source asked for.");
    for (const auto& id : ids) {
        auto it = smetrics.find(id);
        out.sample("laredo_source_rebaseline_total", {{"source", id}},
                   it != smetrics.end() ? get(it->second->rebaselines) : 0);
    }
    out.family("laredo_source_disconnects_total", "counter",
               "Times the source lost its connection or failed.");
    for (const auto& id : ids) {
        auto it = smetrics.find(id);
        out.sample("laredo_source_disconnects_total", {{"source", id}},
                   it != smetrics.end() ? get(it->second->disconnects) : 0);
    }

    // PostgreSQL replication slots.
    out.family("laredo_postgres_slot_retained_wal_bytes", "gauge",
               "WAL the server keeps for the slot, in bytes.");
    for (const auto& [id, pg] : rt.postgres)
        if (auto h = pg->health(); h.known)
            out.sample("laredo_postgres_slot_retained_wal_bytes",
                       {{"source", id}, {"slot", pg->options().slot_name}},
                       static_cast<double>(h.retained_wal_bytes));
    out.family("laredo_postgres_slot_lag_bytes", "gauge",
               "WAL written that the slot has not confirmed, in bytes.");
    for (const auto& [id, pg] : rt.postgres)
        if (auto h = pg->health(); h.known)
            out.sample("laredo_postgres_slot_lag_bytes",
                       {{"source", id}, {"slot", pg->options().slot_name}},
                       static_cast<double>(h.lag_bytes));
    out.family(
        "laredo_postgres_slot_safe_wal_bytes", "gauge",
        "WAL that may still be written before the slot is in danger (max_slot_wal_keep_size).");
    for (const auto& [id, pg] : rt.postgres)
        if (auto h = pg->health(); h.known && h.safe_wal_size)
            out.sample("laredo_postgres_slot_safe_wal_bytes",
                       {{"source", id}, {"slot", pg->options().slot_name}},
                       static_cast<double>(*h.safe_wal_size));
    out.family("laredo_postgres_slot_spilled_bytes", "gauge",
               "Bytes logical decoding spilled to disk for the slot since the statistics reset.");
    for (const auto& [id, pg] : rt.postgres)
        if (auto h = pg->health(); h.known)
            out.sample("laredo_postgres_slot_spilled_bytes",
                       {{"source", id}, {"slot", pg->options().slot_name}},
                       static_cast<double>(h.spill_bytes));
    out.family("laredo_postgres_slot_wal_status", "gauge",
               "1 for the slot's current wal_status (reserved, extended, unreserved, lost).");
    for (const auto& [id, pg] : rt.postgres)
        if (auto h = pg->health(); h.known)
            for (const char* st : {"reserved", "extended", "unreserved", "lost"})
                out.sample("laredo_postgres_slot_wal_status",
                           {{"source", id}, {"slot", pg->options().slot_name}, {"status", st}},
                           std::uint64_t{h.wal_status == st ? 1u : 0u});
    out.family("laredo_postgres_slot_active", "gauge", "1 when a process streams from the slot.");
    for (const auto& [id, pg] : rt.postgres)
        if (auto h = pg->health(); h.known)
            out.sample("laredo_postgres_slot_active",
                       {{"source", id}, {"slot", pg->options().slot_name}},
                       std::uint64_t{h.active ? 1u : 0u});

    // Snapshots and dead letters.
    out.family("laredo_snapshots_total", "counter", "Snapshots taken, by outcome.");
    out.sample("laredo_snapshots_total", {{"outcome", "created"}}, get(snapshots_created_));
    out.sample("laredo_snapshots_total", {{"outcome", "failed"}}, get(snapshots_failed_));
    out.family("laredo_snapshots_restored_total", "counter", "Snapshots restored at start.");
    out.sample("laredo_snapshots_restored_total", {}, get(snapshots_restored_));
    out.family("laredo_snapshot_duration_seconds", "histogram", "Time to take a snapshot.");
    snapshot_duration_->write(out, "laredo_snapshot_duration_seconds", {});
    if (rt.dead_letters) {
        out.family("laredo_dead_letter_store_bytes", "gauge", "Bytes the dead-letter files take.");
        out.sample("laredo_dead_letter_store_bytes", {}, rt.dead_letters->bytes_used());
        out.family("laredo_dead_letter_store_limit_bytes", "gauge",
                   "The dead-letter store's byte limit (0 = none).");
        out.sample("laredo_dead_letter_store_limit_bytes", {}, rt.dead_letters->max_bytes());
    }

    write_delivery_metrics(out, rt);

    // The server itself.
    out.family("laredo_websocket_clients", "gauge", "Open WebSocket streams.");
    out.sample("laredo_websocket_clients", {},
               static_cast<std::uint64_t>(gauges.websocket_clients));
    out.family("laredo_websocket_queue_bytes", "gauge", "Bytes queued for WebSocket clients.");
    out.sample("laredo_websocket_queue_bytes", {}, gauges.websocket_queue_bytes);
    out.family("laredo_websocket_slow_clients_total", "counter",
               "WebSocket clients closed for falling behind.");
    out.sample("laredo_websocket_slow_clients_total", {}, get(slow_clients_));
    out.family("laredo_http_connections", "gauge", "Open HTTP connections.");
    out.sample("laredo_http_connections", {}, static_cast<std::uint64_t>(gauges.http_connections));
    out.family("laredo_http_requests_total", "counter", "HTTP requests answered, by status code.");
    {
        std::lock_guard lock(requests_mutex_);
        for (const auto& [code, n] : requests_)
            out.sample("laredo_http_requests_total", {{"code", std::to_string(code)}}, n);
    }
    process_metrics(out);
    return out.text();
}

}  // namespace laredo::server::metrics
