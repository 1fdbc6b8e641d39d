#include "laredo/server/config/parse.hpp"
#include "laredo/server/config/units.hpp"

namespace laredo::server::config::detail {

namespace {

std::optional<filter_config> parse_filter(node_reader& f, bool compiled) {
    filter_config out;
    if (compiled) {
        // The compiled target's own filter: { field, prefix } or { field, value }.
        out.type = "field-prefix";
    } else if (auto type = f.choice("type", {"field-equals", "field-prefix", "field-regex"})) {
        out.type = *type;
    } else {
        if (!f.raw("type"))
            f.problem_here("a filter needs a `type` (field-equals, field-prefix, field-regex)");
        f.finish();
        return std::nullopt;
    }
    if (auto v = f.string("field"))
        out.field = *v;
    else
        f.problem_here("a filter needs a `field`");
    if (const auto* v = f.raw("value")) {
        if (auto parsed = scalar_value(*v)) {
            out.equals = std::move(*parsed);
            if (compiled) out.type = "field-equals";
        } else {
            f.problem("value", "expected a string, number or boolean");
        }
    }
    if (auto v = f.string("prefix")) out.prefix = *v;
    if (auto v = f.string("pattern")) out.pattern = *v;
    if (out.type == "field-equals" && !f.raw("value"))
        f.problem_here("a field-equals filter needs a `value`");
    if (out.type == "field-prefix" && !f.raw("prefix") && !(compiled && f.raw("value")))
        f.problem_here(compiled ? "the filter needs a `prefix` or a `value`"
                                : "a field-prefix filter needs a `prefix`");
    if (out.type == "field-regex" && !f.raw("pattern"))
        f.problem_here("a field-regex filter needs a `pattern`");
    f.finish();
    return out;
}

std::optional<transform_config> parse_transform(node_reader& t) {
    transform_config out;
    auto type = t.choice("type", {"drop-fields", "rename-fields", "add-timestamp"});
    if (!type) {
        if (!t.raw("type"))
            t.problem_here(
                "a transform needs a `type` (drop-fields, rename-fields, add-timestamp)");
        t.finish();
        return std::nullopt;
    }
    out.type = *type;
    if (out.type == "drop-fields") {
        if (auto v = t.strings("fields"); v && !v->empty())
            out.fields = *v;
        else
            t.problem_here("drop-fields needs `fields`, the columns to drop");
    } else if (out.type == "rename-fields") {
        if (auto renames = t.table("fields")) {
            for (const auto& from : renames->keys())
                if (auto to = renames->string(from)) out.renames.emplace_back(from, *to);
            renames->finish();
        }
        if (out.renames.empty())
            t.problem_here("rename-fields needs `fields`, a table of old = \"new\" names");
    } else {
        if (auto v = t.string("field"))
            out.field = *v;
        else
            t.problem_here("add-timestamp needs `field`, the column to write");
    }
    t.finish();
    return out;
}

void parse_common(node_reader& t, target_config& out) {
    if (auto b = t.table("buffer")) {
        if (auto v = b->integer("max_size", 1, 100'000'000))
            out.buffer_size = static_cast<std::size_t>(*v);
        if (auto v = b->size("max_bytes")) out.buffer_bytes = *v;
        if (auto v = b->choice("policy", {"block", "drop_oldest", "error"}))
            out.buffer = parse_buffer_policy(*v);
        b->finish();
    }
    if (auto e = t.table("error_handling")) {
        if (auto v = e->integer("max_retries", 0, 1'000'000))
            out.max_retries = static_cast<int>(*v);
        if (auto v = e->integer("retry_backoff_ms", 0, 86'400'000))
            out.retry_initial_backoff = milliseconds{*v};
        if (auto v = e->integer("retry_backoff_max_ms", 0, 86'400'000))
            out.retry_max_backoff = milliseconds{*v};
        if (auto v = e->choice("on_persistent_failure", {"isolate", "stop_source", "stop_all"}))
            out.on_error = parse_error_policy(*v);
        if (auto v = e->duration("recover_after")) out.recover_after = *v;
        if (auto v = e->duration("recover_max_backoff")) out.recover_max_backoff = *v;
        if (auto dl = e->table("dead_letter")) {
            // Dead letters are engine-wide ([dead_letters]); a target can only confirm it.
            if (auto v = dl->boolean("enabled"); v && !*v)
                dl->problem("enabled",
                            "dead letters are configured for every pipeline at once in "
                            "[dead_letters]; one target cannot turn them off");
            else if (v)
                out.dead_letter_required = true;
            dl->finish();
        }
        e->finish();
    }
    for (auto& f : t.array_of_tables("filters"))
        if (auto parsed = parse_filter(f, false)) out.filters.push_back(std::move(*parsed));
    for (auto& x : t.array_of_tables("transforms"))
        if (auto parsed = parse_transform(x)) out.transforms.push_back(std::move(*parsed));
}

std::optional<target_config> parse_target(node_reader& t) {
    target_config out;
    out.origin = t.origin();
    auto type = t.string("type");
    if (!type) {
        t.problem_here(
            "a target needs a `type` (indexed-memory, compiled-memory, http-sync or "
            "replication-fanout)");
        t.finish();
        return std::nullopt;
    }
    if (*type == "indexed-memory") {
        out.kind = target_kind::indexed_memory;
        auto& o = out.indexed;
        if (auto v = t.strings("lookup_fields")) o.lookup_fields = *v;
        for (auto& idx : t.array_of_tables("additional_indexes")) {
            index_definition def;
            if (auto v = idx.string("name"))
                def.name = *v;
            else
                idx.problem_here("an index needs a `name`");
            if (auto v = idx.strings("fields"); v && !v->empty())
                def.fields = *v;
            else
                idx.problem_here("an index needs `fields`");
            def.unique = idx.boolean("unique").value_or(false);
            idx.finish();
            o.indexes.push_back(std::move(def));
        }
        if (auto v = t.strings("key_fields")) o.key_columns = *v;
        if (auto v = t.choice("rebuild", {"shadow", "reset"}))
            o.rebuild = *v == "reset" ? targets::memory::rebuild_mode::reset
                                      : targets::memory::rebuild_mode::shadow;
        if (auto v = t.integer("max_atomic_transaction_rows", 1, 100'000'000))
            o.max_atomic_transaction_rows = static_cast<std::size_t>(*v);
    } else if (*type == "compiled-memory") {
        out.kind = target_kind::compiled_memory;
        if (auto v = t.choice("compiler", {"json"}); !v && !t.raw("compiler"))
            t.problem_here(
                "a compiled-memory target needs `compiler` (this build offers \"json\")");
        if (auto v = t.strings("key_fields")) out.key_fields = *v;
        if (auto v = t.strings("fields")) out.fields = *v;
        if (auto f = t.table("filter")) out.compiled_filter = parse_filter(*f, true);
        if (auto v = t.integer("max_atomic_transaction_rows", 1, 100'000'000))
            out.indexed.max_atomic_transaction_rows = static_cast<std::size_t>(*v);
    } else if (*type == "http-sync") {
        out.kind = target_kind::http_sync;
        parse_http_sync(t, out);
    } else if (*type == "replication-fanout") {
        out.kind = target_kind::replication_fanout;
        parse_replication_fanout(t, out);
    } else {
        std::string message = "target type '" + *type +
                              "' is not available in this build (available: indexed-memory, "
                              "compiled-memory, http-sync, replication-fanout)";
        if (auto best = closest(
                *type, {"indexed-memory", "compiled-memory", "http-sync", "replication-fanout"});
            !best.empty())
            message += "; did you mean '" + best + "'?";
        t.problem("type", message);
        t.finish();
        return std::nullopt;
    }
    if (auto v = t.string("id")) out.id = *v;
    parse_common(t, out);
    t.finish();
    return out;
}

}  // namespace

void parse_tables(node_reader& root, server_config& out) {
    const auto tables = root.array_of_tables("tables");
    if (tables.empty() && !root.raw("tables")) {
        root.problem_here("no [[tables]]: at least one table is needed");
        return;
    }
    for (auto t : tables) {
        table_config table;
        table.origin = t.origin();
        if (auto v = t.string("source"))
            table.source = *v;
        else
            t.problem_here("a table needs `source`, the id of one of [sources]");
        const auto schema = t.string("schema");
        const auto name = t.string("table");
        if (!schema) t.problem_here("a table needs `schema`");
        if (!name) t.problem_here("a table needs `table`");
        if (schema && name) table.table = table_identifier(*schema, *name);
        for (auto& target : t.array_of_tables("targets"))
            if (auto parsed = parse_target(target)) table.targets.push_back(std::move(*parsed));
        if (table.targets.empty() && !t.raw("targets"))
            t.problem_here("a table needs at least one entry in `targets`");
        if (auto ttl = t.table("ttl")) {
            // Only field-based expiry exists; `mode` may say so.
            ttl->choice("mode", {"field"});
            if (auto v = ttl->string("field"))
                table.ttl_field = *v;
            else
                ttl->problem_here("ttl needs `field`, the column holding the expiry time");
            if (auto v = ttl->duration("check_interval")) table.ttl_check_interval = *v;
            ttl->finish();
        }
        if (auto val = t.table("validation")) {
            if (auto v = val->boolean("post_baseline_row_count"); v && !*v)
                val->problem("post_baseline_row_count",
                             "the row count is always checked after a baseline (when the "
                             "target can count); it cannot be turned off");
            if (auto periodic = val->table("periodic_row_count")) {
                const bool enabled = periodic->boolean("enabled").value_or(true);
                auto interval = periodic->duration("interval");
                if (enabled && !interval)
                    periodic->problem_here("periodic_row_count needs `interval`");
                if (enabled && interval) table.validation_interval = *interval;
                periodic->finish();
            }
            if (auto v = val->choice("on_mismatch", {"warn", "re_baseline"}))
                table.on_validation_mismatch =
                    *v == "warn" ? validation_action::warn : validation_action::rebaseline;
            val->finish();
        }
        t.finish();
        out.tables.push_back(std::move(table));
    }
}

}  // namespace laredo::server::config::detail
