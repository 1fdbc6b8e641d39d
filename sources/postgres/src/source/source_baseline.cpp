// postgres_source::baseline: every row of the tables, read with COPY in one REPEATABLE READ
// snapshot that the stream continues from (docs/postgres-source.md, "Baseline and stream").

#include "source_impl.hpp"

#include "laredo/error.hpp"
#include "laredo/sources/postgres/copy_text.hpp"
#include "laredo/sources/postgres/lsn.hpp"
#include "laredo/sources/postgres/pg_error.hpp"
#include "laredo/sources/postgres/sql_quote.hpp"

#include <fmt/format.h>

#include <functional>

namespace laredo::sources::postgres {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

// Parses COPY chunks of one table into rows and hands them to the sink in batches.
class copy_reader {
  public:
    copy_reader(const table_identifier& table, schema_ptr schema, const value_converter& types,
                baseline_sink& sink, std::size_t batch_rows,
                std::function<void(std::uint64_t)> on_progress)
        : table_(table),
          schema_(std::move(schema)),
          sink_(sink),
          batch_rows_(batch_rows),
          on_progress_(std::move(on_progress)) {
        for (const auto& c : schema_->columns()) kinds_.push_back(types.kind_of(c.type_oid));
        batch_.reserve(batch_rows_);
    }

    awaitable<void> on_chunk(copy_chunk chunk) {
        std::string_view rest = chunk.data;
        while (auto line = copy_text_parser::take_line(rest)) {
            batch_.push_back(to_row(*line));
            if (batch_.size() == batch_rows_) co_await flush();
        }
    }

    awaitable<void> flush() {
        if (batch_.empty()) co_return;
        rows_ += batch_.size();
        std::vector<row> rows = std::move(batch_);
        batch_ = {};
        batch_.reserve(batch_rows_);
        // Suspends while the pipelines' buffers are full: COPY waits with us (backpressure).
        co_await sink_.on_rows(table_, std::move(rows));
        on_progress_(rows_);
    }

    std::uint64_t rows() const noexcept { return rows_; }

  private:
    row to_row(std::string_view line) {
        const auto& fields = parser_.parse(line, kinds_.size());
        std::vector<value> values;
        values.reserve(fields.size());
        for (std::size_t i = 0; i < fields.size(); ++i) {
            if (!fields[i]) {
                values.emplace_back();
                continue;
            }
            try {
                values.push_back(convert_text(kinds_[i], *fields[i]));
            } catch (const error& e) {
                throw error(e.code(), fmt::format("baseline of {}, row {}, column \"{}\": {}",
                                                  table_.to_string(), rows_ + batch_.size() + 1,
                                                  schema_->column(i).name, e.what()));
            }
        }
        return row(schema_, std::move(values));
    }

    const table_identifier& table_;
    const schema_ptr schema_;
    baseline_sink& sink_;
    const std::size_t batch_rows_;
    std::function<void(std::uint64_t)> on_progress_;
    std::vector<value_kind> kinds_;
    copy_text_parser parser_;
    std::vector<row> batch_;
    std::uint64_t rows_ = 0;
};

}  // namespace

awaitable<void> postgres_source::impl::estimate_sizes(const std::vector<table_identifier>& list,
                                                      baseline_sink& sink) {
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto oid = tables.at(list[i]).oid;
        double estimate = co_await detail::estimate_rows(query, oid);
        if (estimate < 0) {
            // Never analyzed (a table just loaded): a sampled ANALYZE is quick, and without it
            // there is no total for the progress. Not allowed to everyone: then no total.
            try {
                co_await query.query("ANALYZE " + detail::qualified_name(list[i]));
                estimate = co_await detail::estimate_rows(query, oid);
            } catch (const pg_error&) {
            }
        }
        if (estimate >= 0) {
            const auto rows = static_cast<std::uint64_t>(estimate + 0.5);
            {
                std::lock_guard lock(shared_mutex);
                progress[i].rows_estimated = rows;
            }
            sink.on_estimate(list[i], rows);
        }
    }
}

awaitable<void> postgres_source::impl::copy_table(const table_identifier& table,
                                                  baseline_sink& sink, std::size_t index) {
    const auto schema = schemas.at(table);
    std::string columns;
    for (const auto& c : schema->columns())
        columns += (columns.empty() ? "" : ", ") + quote_identifier(c.name);
    std::string sql =
        fmt::format("COPY (SELECT {} FROM {}", columns, detail::qualified_name(table));
    if (const auto p = published.find(table); p != published.end() && !p->second.row_filter.empty())
        sql += " WHERE (" + p->second.row_filter + ")";
    sql += ") TO STDOUT";

    auto on_progress = [this, index](std::uint64_t rows) {
        std::lock_guard lock(shared_mutex);
        progress[index].rows_done = rows;
    };
    copy_reader reader(table, schema, types, sink, options.baseline_batch_rows,
                       std::move(on_progress));
    connection::chunk_handler handler = [&reader](copy_chunk chunk) {
        return reader.on_chunk(chunk);
    };
    co_await query.copy_out(sql, std::move(handler));
    co_await reader.flush();
    std::lock_guard lock(shared_mutex);
    progress[index].rows_done = reader.rows();
    progress[index].done = true;
}

awaitable<position> postgres_source::impl::take_baseline(const std::vector<table_identifier>& list,
                                                         baseline_sink& sink) {
    if (!initialized) throw error(errc::not_started, "PostgreSQL source: baseline before init");
    for (const auto& t : list) {
        if (!tables.contains(t)) {
            throw error(errc::unknown_table,
                        fmt::format("PostgreSQL source: table {} was not described at init",
                                    t.to_string()));
        }
    }
    {
        std::lock_guard lock(shared_mutex);
        progress.clear();
        for (const auto& t : list) progress.push_back({t, 0, std::nullopt, false});
    }
    if (!query.is_open()) co_await query.connect(query_params());
    // Before the snapshot transaction (ANALYZE cannot run in a read-only one) and before a
    // new slot (its exported snapshot must be imported next).
    co_await estimate_sizes(list, sink);

    // Beside a running stream (a reload, a table added since the last run) there is no exact
    // hand-off point: the snapshot is newer than everything delivered so far, so the stream's
    // last delivered position is one the snapshot contains.
    const bool beside_stream = replicating;
    bool fresh = false;
    if (!beside_stream && !slot_usable) {
        if (options.mode == slot_mode::stateful) {
            // A lost slot of ours (or one an earlier run left half-made) makes way.
            const auto slot = co_await detail::read_slot(query, options.slot_name);
            if (slot.exists)
                co_await detail::drop_slot(query, options.slot_name, 0, std::chrono::seconds(5));
        }
        if (!replication.is_open()) co_await connect_replication();
        exported = co_await detail::create_slot(replication, query, options.slot_name,
                                                options.mode == slot_mode::ephemeral,
                                                server.version, options.slot_creation_timeout);
        slot_usable = true;
        fresh = true;
    }

    position at;
    co_await query.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    std::exception_ptr failure;
    try {
        if (fresh) {
            // Nothing ran on the replication connection since the slot was made, so the
            // snapshot is still valid; once imported, this transaction holds it.
            const auto snapshot = std::move(exported);
            exported.reset();
            co_await query.query("SET TRANSACTION SNAPSHOT " +
                                 quote_literal(snapshot->snapshot_name));
            at = make_position(snapshot->consistent_point);
        } else if (beside_stream) {
            co_await query.query("SELECT 1");  // the snapshot is taken now
            at = last_delivered.value_or(stream_from);
        } else {
            // An existing slot: the stream starts at its confirmed position, which this
            // snapshot already contains; the overlap is delivered again.
            const auto slot = co_await detail::read_slot(query, options.slot_name);
            if (!slot.exists || slot.lost() || !slot.confirmed_flush) {
                slot_usable = false;
                throw error(errc::transient,
                            fmt::format("replication slot {} {} during the baseline",
                                        options.slot_name, slot.exists ? "was lost" : "vanished"));
            }
            at = make_position(*slot.confirmed_flush);
        }
        for (std::size_t i = 0; i < list.size(); ++i) co_await copy_table(list[i], sink, i);
        co_await query.query("COMMIT");
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        if (query.is_open()) {
            try {
                co_await query.query("ROLLBACK");
            } catch (const std::exception&) {
                query.close();
            }
        }
        std::rethrow_exception(failure);
    }
    co_return at;
}

awaitable<position> postgres_source::baseline(const std::vector<table_identifier>& tables,
                                              baseline_sink& sink) {
    auto self = impl_;
    auto lock = co_await self->query_lock.acquire();
    co_return co_await self->take_baseline(tables, sink);
}

}  // namespace laredo::sources::postgres
