// `laredo watch`: a live view of the pipelines. The status WebSocket says when something
// happens (a baseline starts or ends, a state changes); the row streams of the tables count
// changes (changes/s); a poll of /v1/pipelines and /v1/sources every --interval gives rows,
// lag and baseline progress. On a terminal the view is redrawn in place; into a pipe it is
// printed as lines, each time a line changes, plus a line per event and per change.

#include "laredo/cli/errors.hpp"
#include "laredo/cli/session.hpp"
#include "laredo/cli/watch_view.hpp"
#include "laredo/cli/ws_stream.hpp"

#include "laredo/json/values.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <deque>
#include <map>
#include <set>

namespace laredo::cli {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using asio::use_awaitable;
using clock_type = std::chrono::steady_clock;

namespace {

struct watch_options {
    double interval_seconds = 1;
    double for_seconds = 0;  // 0: until Ctrl-C
    std::string table;
    std::string pipeline;
    bool changes = true;
};

class watcher {
  public:
    watcher(session& s, const watch_options& o)
        : s_(s), options_(o), tty_(::isatty(STDOUT_FILENO) != 0) {}

    int run() {
        const auto& client = s_.client();
        refresh();  // fails early (exit 1) when the server cannot be reached
        asio::signal_set signals(ioc_, SIGINT, SIGTERM);
        signals.async_wait([this](const boost::system::error_code& ec, int) {
            if (!ec) ioc_.stop();
        });
        asio::steady_timer deadline(ioc_);
        if (options_.for_seconds > 0) {
            deadline.expires_after(std::chrono::milliseconds(
                static_cast<std::int64_t>(std::llround(options_.for_seconds * 1000))));
            deadline.async_wait([this](const boost::system::error_code& ec) {
                if (!ec) ioc_.stop();
            });
        }
        auto ended = [this](std::exception_ptr e) { stream_ended(e); };
        std::string status_target = "/v1/watch/status" + filter_params();
        auto on_event = [this](const std::string& text) { on_status_event(text); };
        asio::co_spawn(ioc_, read_websocket(client, status_target, on_event), ended);
        subscribe_changes();
        asio::co_spawn(ioc_, poll_loop(), ended);
        ioc_.run();
        if (tty_) std::fputs("\n", stdout);
        std::fflush(stdout);
        if (failure_) std::rethrow_exception(failure_);
        return exit_ok;
    }

  private:
    void stream_ended(std::exception_ptr e) {
        if (e && !failure_) failure_ = e;
        if (e) ioc_.stop();
    }

    // Follows the changes of each watched table once its baseline is over: a baseline's
    // rows would reach the row stream as inserts, and sending them would slow the baseline.
    void subscribe_changes() {
        if (!options_.changes) return;
        for (const auto& table : watched_tables()) {
            if (subscribed_.count(table) || table_baselining(table)) continue;
            subscribed_.insert(table);
            auto on_change = [this, table](const std::string& text) { on_row_event(table, text); };
            auto ended = [this](std::exception_ptr e) { stream_ended(e); };
            asio::co_spawn(
                ioc_,
                read_websocket(s_.client(), "/v1/watch/tables/" + table_path(table), on_change),
                ended);
        }
    }

    std::string filter_params() const {
        std::string out;
        if (!options_.table.empty()) out += "?table=" + url_encode(options_.table);
        if (!options_.pipeline.empty())
            out +=
                std::string(out.empty() ? "?" : "&") + "pipeline=" + url_encode(options_.pipeline);
        return out;
    }

    bool shown(const json::value& p) const {
        return (options_.table.empty() || text_at(p, "table") == options_.table) &&
               (options_.pipeline.empty() || text_at(p, "id") == options_.pipeline);
    }

    // Tables with an indexed target (the row stream needs one) among those shown.
    std::set<std::string> watched_tables() const {
        std::set<std::string> out;
        for (const auto& [_, p] : pipelines_)
            if (text_at(p, "target_type").find("indexed") != std::string::npos)
                out.insert(text_at(p, "table"));
        return out;
    }

    awaitable<void> poll_loop() {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        const auto interval = std::chrono::milliseconds(
            static_cast<std::int64_t>(std::llround(options_.interval_seconds * 1000)));
        while (true) {
            timer.expires_after(interval);
            co_await timer.async_wait(use_awaitable);
            refresh();
        }
    }

    // Reads the pipelines and sources (blocking: short calls on the one thread) and draws.
    void refresh() {
        const auto pipelines = s_.client().get("/v1/pipelines");
        const auto sources = s_.client().get("/v1/sources");
        const auto now = clock_type::now();
        const double elapsed = std::chrono::duration<double>(now - last_poll_).count();
        for (auto& [table, counter] : changes_) {
            counter.rate =
                last_poll_ == clock_type::time_point{} || elapsed <= 0
                    ? 0
                    : static_cast<double>(counter.total - counter.at_last_poll) / elapsed;
            counter.at_last_poll = counter.total;
        }
        last_poll_ = now;
        pipelines_.clear();
        for (const auto& p : pipelines.at("pipelines").as_array())
            if (shown(p)) pipelines_[text_at(p, "id")] = p;
        sources_.clear();
        for (const auto& src : sources.at("sources").as_array()) sources_[text_at(src, "id")] = src;
        for (const auto& [id, p] : pipelines_) {
            const auto b = baseline_of(p);
            if (b && !b->done) baselining_.insert(id);
        }
        subscribe_changes();
        draw();
    }

    double rate_of(const json::value& p) const {
        const auto it = changes_.find(text_at(p, "table"));
        return it == changes_.end() ? 0 : it->second.rate;
    }

    const json::value* source_of(const json::value& p) const {
        const auto it = sources_.find(text_at(p, "source"));
        return it == sources_.end() ? nullptr : &it->second;
    }

    // A pipeline's baseline line, while it runs (or it ran during this watch).
    std::optional<std::string> progress_line(const std::string& id, const json::value& p) const {
        if (!baselining_.count(id)) return std::nullopt;
        const auto b = baseline_of(p);
        if (!b) return std::nullopt;
        return progress_text(*b);
    }

    void draw() {
        if (tty_)
            draw_frame();
        else
            print_changed_lines();
    }

    void print_line(const std::string& text) {
        std::fputs((fit(text, width_) + "\n").c_str(), stdout);
        std::fflush(stdout);
    }

    void print_changed_lines() {
        for (const auto& [id, p] : pipelines_) {
            const auto line = "pipeline " + id + "  " + pipeline_text(p, rate_of(p), source_of(p));
            if (printed_[id] != line) print_line(line);
            printed_[id] = line;
            if (const auto progress = progress_line(id, p)) {
                const auto key = id + "#baseline";
                const auto text = "baseline " + id + "  " + *progress;
                if (printed_[key] != text) print_line(text);
                printed_[key] = text;
                if (baseline_of(p)->done) baselining_.erase(id);
            }
        }
    }

    void draw_frame() {
        std::string frame = "laredo watch  " + s_.client().address().text + "  (Ctrl-C to quit)\n";
        json::array rows;
        for (const auto& [id, p] : pipelines_) {
            json::object row{
                {"id", id}, {"state", text_at(p, "state")}, {"rows", text_at(p, "row_count")}};
            char rate[32];
            std::snprintf(rate, sizeof rate, "%.1f", rate_of(p));
            row["rate"] = rate;
            const auto* src = source_of(p);
            row["lag"] = src ? text_at(*src, "lag.bytes") + " B" : "-";
            rows.push_back(std::move(row));
        }
        frame +=
            render_table({field("PIPELINE", "id"), field("STATE", "state"), field("ROWS", "rows"),
                          field("CHANGES/S", "rate"), field("LAG", "lag")},
                         rows, width_);
        for (const auto& [id, p] : pipelines_)
            if (const auto progress = progress_line(id, p))
                frame += fit("baseline " + id + "  " + *progress, width_) + "\n";
        for (const auto& e : recent_) frame += fit(e, width_) + "\n";
        // Back to the frame's first line, clear to the end, draw.
        std::string out;
        if (frame_lines_ > 0) out += "\x1b[" + std::to_string(frame_lines_) + "F\x1b[J";
        out += frame;
        frame_lines_ = static_cast<std::size_t>(std::count(frame.begin(), frame.end(), '\n'));
        std::fputs(out.c_str(), stdout);
        std::fflush(stdout);
    }

    void note(const std::string& line) {
        if (!tty_) {
            print_line(line);
            return;
        }
        recent_.push_back(line);
        while (recent_.size() > 5) recent_.pop_front();
    }

    void on_status_event(const std::string& text) {
        json::value e;
        try {
            e = laredo::json::parse(text);
        } catch (const std::exception&) {
            return;
        }
        const auto type = text_at(e, "type");
        if (type == "subscribed") return;
        std::string line = "event " + type;
        for (const auto& [k, v] : e.as_object())
            if (k != "type" && k != "time") line += " " + std::string(k) + "=" + text_of(v);
        note(line);
        const auto pipeline = text_at(e, "pipeline");
        if (type == "baseline_started") {
            baselining_.insert(pipeline);
            if (auto it = pipelines_.find(pipeline); it != pipelines_.end())
                it->second.as_object()["state"] = "BASELINING";
        }
        if (type == "pipeline_state")
            if (auto it = pipelines_.find(pipeline); it != pipelines_.end())
                it->second.as_object()["state"] = e.at("to");
        if (type == "baseline_completed" && pipelines_.count(pipeline)) {
            // The poll may have missed a short baseline: show its end from the event.
            auto& p = pipelines_[pipeline].as_object();
            p["baseline"] = json::object{{"done", true},
                                         {"rows_done", e.at("rows")},
                                         {"rows_total", e.at("rows")},
                                         {"rows_per_second", 0},
                                         {"elapsed_seconds", e.at("elapsed_seconds")}};
            const double secs = e.at("elapsed_seconds").to_number<double>();
            if (secs > 0)
                p["baseline"].as_object()["rows_per_second"] =
                    e.at("rows").to_number<double>() / secs;
            baselining_.insert(pipeline);
        }
        draw();
    }

    bool table_baselining(const std::string& table) const {
        for (const auto& [_, p] : pipelines_) {
            if (text_at(p, "table") != table) continue;
            const auto b = baseline_of(p);
            if (text_at(p, "state") == "BASELINING" || (b && !b->done)) return true;
        }
        return false;
    }

    void on_row_event(const std::string& table, const std::string& text) {
        json::value e;
        try {
            e = laredo::json::parse(text);
        } catch (const std::exception&) {
            return;
        }
        if (text_at(e, "type") != "change") return;
        // A baseline's rows reach the row stream as inserts: they are not changes.
        if (table_baselining(table)) return;
        ++changes_[table].total;
        const auto* row = find_path(e, "new");
        if (!row || row->is_null()) row = find_path(e, "old");
        note("change " + table + " " + text_at(e, "action") + " " +
             (row && !row->is_null() ? json::serialize(*row) : std::string()));
        if (tty_) draw();
    }

    struct change_counter {
        std::uint64_t total = 0;
        std::uint64_t at_last_poll = 0;
        double rate = 0;
    };

    session& s_;
    watch_options options_;
    bool tty_;
    std::size_t width_ = terminal_width();
    asio::io_context ioc_;
    std::exception_ptr failure_;
    clock_type::time_point last_poll_{};
    std::map<std::string, json::value> pipelines_;
    std::map<std::string, json::value> sources_;
    std::map<std::string, change_counter> changes_;
    std::set<std::string> baselining_;
    std::set<std::string> subscribed_;  // tables whose row stream is open
    std::map<std::string, std::string> printed_;
    std::deque<std::string> recent_;
    std::size_t frame_lines_ = 0;
};

}  // namespace

void add_watch_command(CLI::App& app, session& s) {
    auto* cmd = app.add_subcommand(
        "watch",
        "a live view: a line per pipeline (state, rows, changes/s, lag) and baseline progress; "
        "redrawn on a terminal, printed as lines into a pipe; Ctrl-C ends it");
    auto options = std::make_shared<watch_options>();
    cmd->add_option("--interval", options->interval_seconds, "seconds between refreshes")
        ->check(CLI::Range(0.05, 3600.0))
        ->capture_default_str();
    cmd->add_option("--for", options->for_seconds, "stop after this many seconds (0: never)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--table", options->table, "only this table's pipelines (schema.table)");
    cmd->add_option("--pipeline", options->pipeline, "only this pipeline");
    auto no_changes = std::make_shared<bool>(false);
    cmd->add_flag("--no-changes", *no_changes, "do not follow the tables' changes");
    s.on_run(cmd, [&s, options, no_changes] {
        options->changes = !*no_changes;
        if (s.format() == output_format::json)
            throw usage_error("watch has no --output json",
                              "for events as JSON, read the /v1/watch/status WebSocket");
        watcher w(s, *options);
        return w.run();
    });
}

}  // namespace laredo::cli
