#include "laredo/server/ws/row_watch.hpp"

#include "laredo/json/values.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace laredo::server::ws {

namespace json = boost::json;

namespace {

bool passes(const row_filter_spec& f, const row* r) {
    if (f.equals.empty() && f.prefixes.empty()) return true;
    if (!r) return true;  // truncate
    for (const auto& [column, expected] : f.equals) {
        const auto* v = r->find(column);
        if (!v || v->is_null()) return false;
        const auto* text = v->text_if();
        if ((text ? *text : v->to_string()) != expected) return false;
    }
    for (const auto& [column, prefix] : f.prefixes) {
        const auto* v = r->find(column);
        if (!v || v->is_null()) return false;
        const auto* text = v->text_if();
        const auto s = text ? *text : v->to_string();
        if (s.rfind(prefix, 0) != 0) return false;
    }
    return true;
}

json::value row_or_null(const row* r) {
    if (!r) return nullptr;
    return laredo::json::encode_row(*r);
}

struct watch_state {
    targets::memory::subscription subscription;
};

}  // namespace

bool parse_row_filter(const std::vector<std::string>& eq, const std::vector<std::string>& prefix,
                      row_filter_spec& out, std::string* why) {
    auto split = [&](const std::string& text, const char* name,
                     std::vector<std::pair<std::string, std::string>>& into) {
        const auto colon = text.find(':');
        if (colon == std::string::npos || colon == 0) {
            *why = std::string(name) + "=" + text + ": expected column:value";
            return false;
        }
        into.emplace_back(text.substr(0, colon), text.substr(colon + 1));
        return true;
    };
    for (const auto& e : eq)
        if (!split(e, "eq", out.equals)) return false;
    for (const auto& p : prefix)
        if (!split(p, "prefix", out.prefixes)) return false;
    return true;
}

std::shared_ptr<http::message_feed> watch_rows(boost::asio::any_io_executor executor,
                                               std::uint64_t max_bytes,
                                               const wiring::table_target& target, bool replay,
                                               row_filter_spec filter) {
    auto feed = std::make_shared<http::message_feed>(std::move(executor), max_bytes);
    const auto table = target.table.to_string();
    const auto subscribed = json::serialize(json::object{{"type", "subscribed"},
                                                         {"table", table},
                                                         {"pipeline", target.pipeline_id},
                                                         {"replay", replay}});
    if (!replay) feed->push(subscribed);

    std::weak_ptr<http::message_feed> weak = feed;
    auto listener = [weak, filter, table](const row* old_row, const row* new_row) {
        auto f = weak.lock();
        if (!f) return;
        const char* action = old_row && new_row ? "UPDATE"
                             : new_row          ? "INSERT"
                             : old_row          ? "DELETE"
                                                : "TRUNCATE";
        if (!passes(filter, new_row ? new_row : old_row)) return;
        f->push(json::serialize(json::object{{"type", "change"},
                                             {"action", action},
                                             {"table", table},
                                             {"old", row_or_null(old_row)},
                                             {"new", row_or_null(new_row)}}));
    };
    auto state = std::make_shared<watch_state>();
    state->subscription = target.indexed->listen(std::move(listener));
    feed->on_end([state] { state->subscription.unsubscribe(); });

    if (replay) {
        // Read after the listener is registered: no change falls between the two.
        auto rows = std::make_shared<std::vector<row>>(target.indexed->rows());
        std::size_t next = 0;
        std::size_t sent = 0;
        bool first = true;
        bool finished = false;
        auto batches = [rows, next, sent, first, finished, filter, subscribed]() mutable {
            std::vector<std::string> out;
            if (finished) return out;
            if (first) {
                out.push_back(subscribed);
                first = false;
            }
            constexpr std::size_t batch = 256;
            for (std::size_t n = 0; n < batch && next < rows->size(); ++next) {
                const auto& r = (*rows)[next];
                if (!passes(filter, &r)) continue;
                out.push_back(json::serialize(
                    json::object{{"type", "snapshot"}, {"row", laredo::json::encode_row(r)}}));
                ++sent;
                ++n;
            }
            if (next >= rows->size()) {
                out.push_back(
                    json::serialize(json::object{{"type", "snapshot_end"}, {"rows", sent}}));
                finished = true;
                rows->clear();
            }
            return out;
        };
        feed->set_prefix(std::move(batches));
    }
    return feed;
}

}  // namespace laredo::server::ws
