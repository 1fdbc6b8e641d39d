#include "laredo/server/wiring/wiring.hpp"

#include "laredo/json/values.hpp"
#include "laredo/server/common/describe.hpp"
#include "laredo/server/wiring/delivery_targets.hpp"
#include "laredo/server/wiring/pipelines.hpp"
#include "laredo/sources/testsource/test_source.hpp"

#include <boost/json/serialize.hpp>

#include <map>

namespace laredo::server::wiring {

namespace {

namespace memory = targets::memory;

std::shared_ptr<compiled_target> make_compiled(const config::target_config& t) {
    memory::compiled_target_options<compiled_row> o;
    o.key_fields = t.key_fields;
    o.max_atomic_transaction_rows = t.indexed.max_atomic_transaction_rows;
    o.compiler = [fields = t.fields, key_fields = t.key_fields](const row& r) {
        const auto& schema = *r.schema();
        compiled_row out;
        if (key_fields.empty()) {
            for (const auto i : schema.key_indexes()) out.key.push_back(r[i]);
        } else {
            for (const auto& f : key_fields) out.key.push_back(r.at(f));
        }
        boost::json::object object;
        auto add = [&](std::size_t i) {
            const auto& column = schema.column(i);
            object[column.name] = json::encode_value(r[i], json::natural_type(column));
        };
        if (fields.empty()) {
            for (std::size_t i = 0; i < schema.size(); ++i) add(i);
        } else {
            for (const auto& f : fields) {
                const auto i = schema.index_of(f);
                if (!i)
                    throw error(errc::invalid_config,
                                "compiled-memory: the table has no column " + f);
                add(*i);
            }
        }
        out.json = boost::json::serialize(object);
        return out;
    };
    if (t.compiled_filter) {
        const auto& f = *t.compiled_filter;
        if (f.type == "field-equals") {
            o.filter = [eq = loose_equals(f.field, f.equals)](const row& r) { return eq({}, r); };
        } else {
            o.filter = [field = f.field, prefix = f.prefix](const row& r) {
                const auto* v = r.find(field);
                const auto* text = v ? v->text_if() : nullptr;
                return text && text->rfind(prefix, 0) == 0;
            };
        }
    }
    return std::make_shared<compiled_target>(std::move(o));
}

std::shared_ptr<sync_source> make_testsource(const config::source_config& s,
                                             boost::asio::any_io_executor executor) {
    sources::testsource::test_source_options o;
    o.positions = s.testsource.pair_positions ? sources::testsource::position_mode::pair
                                              : sources::testsource::position_mode::sequence;
    o.supports_resume = s.testsource.supports_resume;
    o.batch_size = s.testsource.batch_size;
    auto source = std::make_shared<sources::testsource::test_source>(executor, o);
    for (const auto& t : s.testsource.tables) {
        const auto schema = source->set_schema(t.table, t.columns);
        for (const auto& values : t.rows) source->add_row(t.table, row(schema, values));
    }
    return source;
}

// The target's type_name(), for the pipeline ids the engine would generate.
std::string engine_type_name(config::target_kind kind) {
    switch (kind) {
        case config::target_kind::indexed_memory:
            return "memory.indexed";
        case config::target_kind::compiled_memory:
            return "memory.compiled";
        case config::target_kind::http_sync:
            return "httpsync";
        case config::target_kind::replication_fanout:
            return "fanout";
    }
    return "unknown";
}

}  // namespace

std::optional<std::size_t> table_target::row_count() const {
    if (indexed) return indexed->count();
    if (compiled) return compiled->count();
    if (fanout) return fanout->count();
    return std::nullopt;
}

std::vector<const table_target*> runtime::find(const table_identifier& table,
                                               const std::string& source_id) const {
    std::vector<const table_target*> out;
    for (const auto& t : targets)
        if (t.table == table && (source_id.empty() || t.source_id == source_id)) out.push_back(&t);
    return out;
}

const table_target* runtime::find_pipeline(const std::string& pipeline_id) const {
    for (const auto& t : targets)
        if (t.pipeline_id == pipeline_id) return &t;
    return nullptr;
}

runtime build(const config::server_config& config, boost::asio::any_io_executor executor,
              boost::asio::any_io_executor blocking, std::shared_ptr<engine_observer> observer) {
    std::vector<std::string> problems;
    engine::builder b;
    std::map<std::string, std::shared_ptr<sync_source>> sources;
    std::map<std::string, std::shared_ptr<sources::postgres::postgres_source>> postgres;

    for (const auto& s : config.sources) {
        try {
            std::shared_ptr<sync_source> source;
            if (s.type == "postgres") {
                auto pg =
                    std::make_shared<sources::postgres::postgres_source>(executor, s.postgres);
                postgres[s.id] = pg;
                source = pg;
            } else {
                source = make_testsource(s, executor);
            }
            sources[s.id] = source;
            b.add_source(s.id, source);
        } catch (const std::exception& e) {
            problems.push_back("sources." + s.id + ": " + describe(e));
        }
    }

    // Made before the targets: an http-sync target files its failed batches here.
    std::shared_ptr<deadletter::local_store> dead_letters;
    if (config.dead_letters.enabled) {
        try {
            deadletter::local_store_options o;
            o.max_bytes = config.dead_letters.max_bytes;
            o.fsync = config.dead_letters.fsync;
            dead_letters = std::make_shared<deadletter::local_store>(config.dead_letters.path, o);
        } catch (const std::exception& e) {
            problems.push_back("dead_letters.path: " + describe(e));
        }
    }

    std::vector<table_target> targets;
    // Pipeline ids as the engine would generate them, set explicitly so the query API can
    // name each target's pipeline: "source:schema.table:type", then ":2", ":3"...
    std::map<std::string, int> generated;
    for (std::size_t i = 0; i < config.tables.size(); ++i) {
        const auto& table = config.tables[i];
        for (std::size_t j = 0; j < table.targets.size(); ++j) {
            const auto& t = table.targets[j];
            const auto key = "tables[" + std::to_string(i) + "].targets[" + std::to_string(j) + "]";
            table_target entry;
            entry.source_id = table.source;
            entry.table = table.table;
            entry.kind = t.kind;
            auto options = make_pipeline_options(table, t, key, problems);
            if (options.id.empty()) {
                const auto base =
                    table.source + ":" + table.table.to_string() + ":" + engine_type_name(t.kind);
                const int n = ++generated[base];
                options.id = n == 1 ? base : base + ":" + std::to_string(n);
            }
            entry.pipeline_id = options.id;
            const auto source = sources.count(table.source) ? sources.at(table.source) : nullptr;
            std::shared_ptr<sync_target> target;
            try {
                switch (t.kind) {
                    case config::target_kind::indexed_memory:
                        entry.indexed = std::make_shared<memory::indexed_target>(t.indexed);
                        entry.lookup_fields = t.indexed.lookup_fields;
                        entry.indexes = t.indexed.indexes;
                        target = entry.indexed;
                        break;
                    case config::target_kind::compiled_memory:
                        entry.compiled = make_compiled(t);
                        target = entry.compiled;
                        break;
                    case config::target_kind::http_sync:
                        entry.http_sync = make_http_sync(t, options.id, dead_letters, source);
                        target = entry.http_sync;
                        break;
                    case config::target_kind::replication_fanout:
                        entry.fanout = make_fanout(t, options.id, executor, observer, source);
                        target = entry.fanout;
                        break;
                }
            } catch (const std::exception& e) {
                problems.push_back(key + ": " + describe(e));
                continue;
            }
            b.add_pipeline(table.source, table.table, target, std::move(options));
            targets.push_back(std::move(entry));
        }
    }

    engine_options eo;
    eo.shutdown_timeout = config.runtime.shutdown_timeout;
    for (const auto& s : config.sources) {
        if (!s.reconnect) continue;
        eo.source_retry.attempts = s.reconnect->max_attempts;
        eo.source_retry.initial = s.reconnect->initial_backoff;
        eo.source_retry.max = s.reconnect->max_backoff;
        break;
    }
    eo.observer = std::move(observer);
    eo.dead_letters = dead_letters;
    std::shared_ptr<snapshots::local_store> snapshot_store;
    if (config.snapshot.enabled) {
        try {
            std::filesystem::create_directories(config.snapshot.path);
            snapshot_store = std::make_shared<snapshots::local_store>(config.snapshot.path);
            eo.snapshots = snapshot_store;
            eo.snapshot_interval = config.snapshot.interval;
            eo.snapshot_retention = config.snapshot.keep_count;
            eo.snapshot_on_shutdown = config.snapshot.on_shutdown;
            eo.restore_from_snapshot = config.snapshot.restore;
            eo.snapshot_executor = blocking;
        } catch (const std::exception& e) {
            problems.push_back("snapshot.store_config.path: " + describe(e));
        }
    }
    b.with_options(std::move(eo));

    if (!problems.empty()) throw config_error(std::move(problems));
    // The builder's own checks (ids given twice, a shared target...) throw config_error too.
    runtime rt{b.build(executor),   std::move(targets),      std::move(sources),
               std::move(postgres), std::move(dead_letters), std::move(snapshot_store)};
    return rt;
}

}  // namespace laredo::server::wiring
