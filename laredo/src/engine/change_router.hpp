#pragma once

#include "laredo/change_event.hpp"
#include "laredo/position.hpp"
#include "laredo/table_identifier.hpp"

#include <map>
#include <set>
#include <vector>

namespace laredo::detail {

// Splits a source's change batches by table, so each pipeline gets its table's changes in
// order, and keeps each table's part of a transaction whole even when the source hands the
// transaction over in several calls.
//
// A target applies a table's part of a transaction when it sees the part's end (the
// change with ends_transaction). That end is only known at the commit, which may arrive in a
// later call holding none of the table's changes. So the router remembers, across calls,
// which tables the open transaction touched, and holds back each such table's latest change
// until it knows whether more of that table follows (then the held change goes out as part
// of the middle) or the transaction commits (then it goes out marked as the table's end).
// One change per table is held: memory stays bounded by the number of tables.
//
// Plain data, no I/O: the source runner feeds it on the source's executor.
class change_router {
  public:
    // What one table's pipelines get from one call.
    struct delivery {
        table_identifier table;
        std::vector<change_event> events;
        // The last commit in the call, when it is later than the table's last change and
        // the table has nothing more up to it: after these changes the table has reached it.
        position then_reached;
    };
    struct routed {
        std::vector<delivery> deliveries;
        // The position of the call's last commit: everything up to it is now delivered.
        position last_commit;
    };

    // `tables`: the tables that have pipelines; changes of others are not delivered (their
    // commits still end the open transaction).
    explicit change_router(std::set<table_identifier> tables = {});

    routed route(std::vector<change_event> batch);

    // The source rewinds or restarts its stream: an open transaction will be delivered
    // again from its start, so what was held of it is dropped.
    void reset();

    // Between transactions: the last change routed ended one.
    bool at_boundary() const noexcept { return !in_transaction_; }

  private:
    bool single_table_path(std::vector<change_event>& batch, routed& out);

    std::set<table_identifier> tables_;
    // Tables the open transaction touched, in the order it first touched them.
    std::vector<table_identifier> open_;
    std::map<table_identifier, change_event> held_;
    bool in_transaction_ = false;
};

// The position a pipeline confirms once it has applied `events` followed by `then_reached`:
// then_reached when set, otherwise the last change that ends a transaction (empty when the
// events end in the middle of one: a pipeline confirms only what a restart may resume from).
position confirmable_position(const std::vector<change_event>& events,
                              const position& then_reached);

}  // namespace laredo::detail
