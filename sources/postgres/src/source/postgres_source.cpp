// postgres_source: construction, init and validation, positions, resume, pause, state, close
// and reset. The baseline lives in source_baseline.cpp, the stream in source_stream.cpp.

#include "source_impl.hpp"

#include "laredo/error.hpp"
#include "laredo/sources/postgres/lsn.hpp"
#include "laredo/sources/postgres/pg_error.hpp"
#include "laredo/sources/postgres/sql_quote.hpp"

#include <boost/asio/strand.hpp>

#include <fmt/format.h>

#include <array>

namespace laredo::sources::postgres {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

// What a failure leaves the source in: the engine retries what is not fatal.
source_state state_after(const std::exception_ptr& failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const boost::system::system_error& e) {
        return is_fatal(e.code()) ? source_state::error : source_state::reconnecting;
    } catch (...) {
        return source_state::error;
    }
}

source_options validated(source_options options) {
    options.validate();
    return options;
}

}  // namespace

postgres_source::impl::impl(asio::any_io_executor executor, source_options opts)
    : strand(asio::make_strand(executor)),
      options(validated(std::move(opts))),
      query(strand),
      replication(strand),
      monitor(strand),
      query_lock(strand),
      send_lock(strand),
      monitor_lock(strand),
      decoder(types, change_decoder_options{.only_catalog_tables = true}),
      batcher(decoder, options.change_batch_size),
      status_timer(strand),
      health_timer(strand) {}

connection_params postgres_source::impl::query_params() const {
    auto p = options.connection;
    p.replication = false;
    if (p.application_name.empty()) p.application_name = "laredo:" + options.slot_name;
    return p;
}

connection_params postgres_source::impl::replication_params() const {
    auto p = query_params();
    p.replication = true;
    return p;
}

awaitable<void> postgres_source::impl::connect_replication() {
    end_replication();
    co_await replication.connect(replication_params());
    auto id = co_await replication.identify_system();
    if (id.dbname.empty()) {
        throw error(errc::invalid_config,
                    "the replication connection is not attached to a database (a physical "
                    "walsender): the connection must name a database");
    }
    if (identity && (identity->system_id != id.system_id || identity->timeline != id.timeline)) {
        // Another server (a failover, a restore): positions of the old one mean nothing here.
        const auto why = fmt::format(
            "PostgreSQL changed under the source: system {} timeline {} before, system {} "
            "timeline {} now (failover or restore); the slot's positions do not carry over",
            identity->system_id, identity->timeline, id.system_id, id.timeline);
        identity = std::move(id);
        slot_usable = false;
        throw error(errc::rebaseline_required, why);
    }
    identity = std::move(id);
}

awaitable<table_schemas> postgres_source::impl::initialize(const source_config& config) {
    // A new init (a retry after a failure) starts from scratch.
    end_replication();
    acked.reset();
    query.close();
    initialized = false;
    tables.clear();
    co_await query.connect(query_params());
    server = co_await detail::check_server(query);

    const auto name = options.publication_name();
    publication = co_await detail::read_publication(query, name, server.version);
    const auto columns = detail::effective_tables(publication, options, config.tables);
    std::vector<detail::table_catalog> described;
    for (const auto& t : config.tables) {
        std::vector<std::string> keys;
        if (const auto k = options.key_columns.find(t); k != options.key_columns.end())
            keys = k->second;
        described.push_back(co_await detail::describe_table(query, t, columns.at(t).columns, keys));
    }
    co_await detail::register_column_types(query, described, types);
    publication =
        co_await detail::sync_publication(query, options, described, publication, server.version);
    published = detail::effective_tables(publication, options, config.tables);

    const auto slot = co_await detail::read_slot(query, options.slot_name);
    detail::check_slot_is_usable(slot, options.slot_name, server.database);
    slot_confirmed_at_init.reset();
    if (options.mode == slot_mode::ephemeral) {
        if (slot.exists) {
            throw error(
                errc::invalid_config,
                fmt::format("replication slot {} already exists ({}{}), and an ephemeral "
                            "source creates its own temporary slot: choose another "
                            "slot_name",
                            options.slot_name, slot.temporary ? "temporary" : "persistent",
                            slot.active ? fmt::format(", held by process {}", slot.active_pid)
                                        : std::string()));
        }
        detail::check_free_slot(server);
        slot_usable = false;
    } else {
        slot_usable = slot.exists && !slot.lost();
        if (slot_usable) {
            slot_confirmed_at_init = slot.confirmed_flush;
        } else if (!slot.exists) {
            detail::check_free_slot(server);
        }
    }

    co_await connect_replication();

    table_schemas out;
    for (auto& t : described) {
        decoder.relations().set_catalog_schema(t.table, t.schema);
        schemas[t.table] = t.schema;
        out[t.table] = t.columns;
        tables[t.table] = std::move(t);
    }
    initialized = true;
    co_return out;
}

// ---------------------------------------------------------------------------------------

postgres_source::postgres_source(asio::any_io_executor executor, source_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(options))) {}

postgres_source::~postgres_source() = default;

asio::any_io_executor postgres_source::get_executor() const { return impl_->strand; }

const source_options& postgres_source::options() const noexcept { return impl_->options; }

awaitable<table_schemas> postgres_source::init(const source_config& config) {
    auto self = impl_;
    auto lock = co_await self->query_lock.acquire();
    self->state = source_state::connecting;
    self->closed = false;
    try {
        auto schemas = co_await self->initialize(config);
        self->state = source_state::connected;
        co_return schemas;
    } catch (...) {
        self->state = state_after(std::current_exception());
        throw;
    }
}

awaitable<std::vector<validation_error>> postgres_source::validate_tables(
    const std::vector<table_identifier>& tables) {
    auto self = impl_;
    auto lock = co_await self->query_lock.acquire();
    std::vector<validation_error> problems;
    if (!self->initialized || !self->query.is_open()) {
        throw error(errc::not_started, "PostgreSQL source: validate_tables before init");
    }
    for (const auto& t : tables) {
        const auto it = self->tables.find(t);
        if (it == self->tables.end()) {
            problems.push_back(
                {t, "TABLE_NOT_FOUND", "the table was not among those init described"});
            continue;
        }
        const auto oid = std::to_string(it->second.oid);
        const std::array<query_param, 1> params{oid};
        const auto r = co_await self->query.query(
            "SELECT pg_catalog.has_table_privilege($1::oid, 'SELECT')", params);
        if (r.value(0, 0) != "t") {
            problems.push_back(
                {t, "PERMISSION_DENIED",
                 fmt::format("role {} may not read the table (the baseline needs it): GRANT "
                             "SELECT ON {} TO {}",
                             quote_identifier(self->server.user), detail::qualified_name(t),
                             quote_identifier(self->server.user))});
        }
    }
    co_return problems;
}

bool postgres_source::supports_resume() const { return impl_->options.mode == slot_mode::stateful; }

awaitable<std::optional<position>> postgres_source::last_acked_position() {
    auto self = impl_;
    if (self->options.mode != slot_mode::stateful || self->options.always_baseline)
        co_return std::nullopt;
    if (self->acked) co_return *self->acked;
    if (self->initialized) {
        if (self->slot_confirmed_at_init) co_return make_position(*self->slot_confirmed_at_init);
        co_return std::nullopt;
    }
    // Not initialized: ask the server.
    auto lock = co_await self->query_lock.acquire();
    connection conn(self->strand);
    co_await conn.connect(self->query_params());
    const auto slot = co_await detail::read_slot(conn, self->options.slot_name);
    conn.close();
    if (!slot.exists || slot.lost() || !slot.confirmed_flush) co_return std::nullopt;
    co_return make_position(*slot.confirmed_flush);
}

awaitable<bool> postgres_source::can_resume_from(const position& pos) {
    auto self = impl_;
    if (self->options.mode != slot_mode::stateful || self->options.always_baseline || pos.empty())
        co_return false;
    auto lock = co_await self->query_lock.acquire();
    if (!self->query.is_open()) co_await self->query.connect(self->query_params());
    const auto slot = co_await detail::read_slot(self->query, self->options.slot_name);
    // Lost: the WAL after its position is gone. Confirmed past `pos`: the changes in between
    // were released and will not come again.
    co_return slot.exists && !slot.lost() && slot.confirmed_flush &&
        *slot.confirmed_flush <= pos.major();
}

int postgres_source::compare_positions(const position& a, const position& b) const {
    return postgres::compare_positions(a, b);
}

std::string postgres_source::position_to_string(const position& pos) const {
    return postgres::position_to_string(pos);
}

position postgres_source::position_from_string(std::string_view text) const {
    return postgres::position_from_string(text);
}

awaitable<void> postgres_source::pause() {
    auto self = impl_;
    self->paused = true;
    if (self->state == source_state::streaming) self->state = source_state::paused;
    co_return;
}

awaitable<void> postgres_source::resume() {
    auto self = impl_;
    self->paused = false;
    if (self->state == source_state::paused) self->state = source_state::streaming;
    co_return;
}

source_state postgres_source::state() const { return impl_->state.load(); }

lag_info postgres_source::lag() const {
    std::lock_guard lock(impl_->shared_mutex);
    return impl_->lag;
}

slot_health postgres_source::health() const {
    std::lock_guard lock(impl_->shared_mutex);
    auto h = impl_->health;
    h.reconnects = impl_->reconnects;
    h.last_disconnect = impl_->last_disconnect;
    return h;
}

std::vector<baseline_progress> postgres_source::progress() const {
    std::lock_guard lock(impl_->shared_mutex);
    return impl_->progress;
}

awaitable<void> postgres_source::close() {
    auto self = impl_;
    self->closed = true;
    self->stop_tasks();
    if (self->replicating && self->replication.is_open()) {
        // The last word on the flush position before Terminate (a clean stop confirms what
        // the engine acknowledged last).
        try {
            co_await self->send_status();
        } catch (const std::exception&) {
            // the connection is going away anyway
        }
    }
    self->end_replication();
    self->query.close();
    self->monitor.close();
    self->initialized = false;
    self->state = source_state::closed;
}

awaitable<void> postgres_source::reset_source(bool drop_publication) {
    auto self = impl_;
    auto lock = co_await self->query_lock.acquire();
    // Our own replication session holds the slot: let it go first.
    self->stop_tasks();
    const int own_pid = self->replication.backend_pid();
    self->end_replication();
    self->slot_usable = false;
    self->slot_confirmed_at_init.reset();
    const bool was_open = self->query.is_open();
    if (!was_open) co_await self->query.connect(self->query_params());
    const auto version =
        self->server.version != 0 ? self->server.version : self->query.server_version();
    const auto name = self->options.publication_name();
    if (drop_publication) {
        // Refuse before changing anything when the publication is not ours.
        const auto pub = co_await detail::read_publication(self->query, name, version);
        if (pub.exists && !pub.ours) {
            throw error(errc::invalid_config,
                        fmt::format("publication {} was not created by laredo: laredo does not "
                                    "drop it (reset without dropping the publication)",
                                    quote_identifier(name)));
        }
    }
    co_await detail::drop_slot(self->query, self->options.slot_name, own_pid);
    if (drop_publication) co_await detail::drop_publication(self->query, name, version);
    if (!was_open) self->query.close();
}

}  // namespace laredo::sources::postgres
