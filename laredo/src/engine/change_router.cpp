#include "change_router.hpp"

#include <algorithm>

namespace laredo::detail {

namespace {

position last_commit_of(const std::vector<change_event>& events) {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
        if (it->ends_transaction) return it->pos;
    return {};
}

}  // namespace

position confirmable_position(const std::vector<change_event>& events,
                              const position& then_reached) {
    if (!then_reached.empty()) return then_reached;
    return last_commit_of(events);
}

change_router::change_router(std::set<table_identifier> tables) : tables_(std::move(tables)) {}

void change_router::reset() {
    in_transaction_ = false;
    open_.clear();
    held_.clear();
}

// The common case, without regrouping: every change of the call is of one table, and the open
// transaction (if any) touched only that table.
bool change_router::single_table_path(std::vector<change_event>& batch, routed& out) {
    const table_identifier table = batch.front().table;  // the batch may grow below
    if (!open_.empty() && (open_.size() != 1 || open_.front() != table)) return false;
    for (const auto& e : batch)
        if (e.table != table) return false;
    out.last_commit = last_commit_of(batch);
    in_transaction_ = !batch.back().ends_transaction;
    if (!tables_.count(table)) return true;  // open_ is empty: it holds only wanted tables
    if (const auto it = held_.find(table); it != held_.end()) {
        batch.insert(batch.begin(), std::move(it->second));
        held_.erase(it);
    }
    open_.clear();
    if (!batch.back().ends_transaction) {
        held_.emplace(table, std::move(batch.back()));
        batch.pop_back();
        open_.push_back(table);
    }
    if (!batch.empty()) {
        out.deliveries.push_back({table, std::move(batch), {}});
    }
    return true;
}

change_router::routed change_router::route(std::vector<change_event> batch) {
    routed out;
    if (batch.empty()) return out;
    if (single_table_path(batch, out)) return out;
    in_transaction_ = !batch.back().ends_transaction;

    // Regroup by table, keeping each table's order; held changes come first (they are older).
    auto& groups = out.deliveries;
    auto group_of = [&](const table_identifier& t) -> delivery& {
        for (auto& g : groups)
            if (g.table == t) return g;
        groups.push_back({t, {}, {}});
        return groups.back();
    };
    for (auto& [table, event] : held_) group_of(table).events.push_back(std::move(event));
    held_.clear();
    for (auto& e : batch) {
        const bool ends = e.ends_transaction;
        const position pos = ends ? e.pos : position();
        if (tables_.count(e.table)) {
            if (std::find(open_.begin(), open_.end(), e.table) == open_.end())
                open_.push_back(e.table);
            auto& g = group_of(e.table);
            g.events.push_back(std::move(e));
            g.events.back().ends_transaction = false;  // the commit below decides
        } else if (!ends) {
            continue;
        }
        if (!ends) continue;
        // The commit ends the transaction in every table it touched, at that table's last
        // change in it.
        for (const auto& t : open_) group_of(t).events.back().ends_transaction = true;
        open_.clear();
        out.last_commit = pos;
    }
    // The transaction goes on in the next call: hold each open table's latest change.
    for (const auto& t : open_) {
        auto& g = group_of(t);
        held_.emplace(t, std::move(g.events.back()));
        g.events.pop_back();
    }
    std::erase_if(groups, [](const delivery& g) { return g.events.empty(); });
    for (auto& g : groups) {
        const auto& last = g.events.back();
        if (!out.last_commit.empty() && last.ends_transaction && last.pos != out.last_commit)
            g.then_reached = out.last_commit;
    }
    return out;
}

}  // namespace laredo::detail
