#include "laredo/sources/postgres/pgoutput_relations.hpp"

#include "error_text.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

namespace laredo::sources::postgres {

std::string_view to_string(relation_change change) noexcept {
    switch (change) {
        case relation_change::added:
            return "added";
        case relation_change::unchanged:
            return "unchanged";
        case relation_change::changed:
            return "changed";
    }
    return "unknown";
}

namespace {

// The catalog schema itself when its columns are the relation's (names and type OIDs in
// order; a catalog type OID of 0 matches any).
bool catalog_matches(const row_schema& catalog, const std::vector<relation_column_info>& columns) {
    if (catalog.size() != columns.size()) return false;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto& c = catalog.column(i);
        if (c.name != columns[i].name) return false;
        if (c.type_oid != 0 && c.type_oid != columns[i].type_oid) return false;
    }
    return true;
}

schema_ptr build_schema(const std::vector<relation_column_info>& columns, const schema_ptr* catalog,
                        const value_converter& types) {
    if (catalog && catalog_matches(**catalog, columns)) return *catalog;

    std::vector<column_definition> defs;
    defs.reserve(columns.size());
    bool catalog_key_complete = catalog && !(*catalog)->key_indexes().empty();
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto& col = columns[i];
        column_definition d;
        const auto from_catalog = catalog ? (*catalog)->index_of(col.name) : std::nullopt;
        if (from_catalog) d = (*catalog)->column(*from_catalog);
        d.name = col.name;
        d.type_oid = col.type_oid;
        if (!from_catalog || (*catalog)->column(*from_catalog).type_oid != col.type_oid) {
            d.type = types.type_name(col.type_oid);
        }
        d.ordinal_position = static_cast<int>(i + 1);
        defs.push_back(std::move(d));
    }
    if (catalog_key_complete) {
        // Every key column of the catalog must still be there, else its key is not usable.
        for (std::size_t k : (*catalog)->key_indexes()) {
            const auto& name = (*catalog)->column(k).name;
            bool found = false;
            for (const auto& col : columns) found = found || col.name == name;
            catalog_key_complete = catalog_key_complete && found;
        }
    }
    if (!catalog_key_complete) {
        int ordinal = 0;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            defs[i].primary_key = columns[i].key;
            defs[i].primary_key_ordinal = columns[i].key ? ++ordinal : 0;
        }
    }
    return row_schema::make(std::move(defs));
}

[[noreturn]] void column_count_mismatch(const relation_info& relation, const char* what,
                                        std::size_t got) {
    throw error(
        errc::corrupt_data,
        fmt::format("{} for relation {} ({}) has {} columns, its Relation message has {}", what,
                    relation.id, relation.table.to_string(), got, relation.columns.size()));
}

// Converts `tuple`; a 'u' column takes the value of the same column of `fill` when `fill` is
// given and has a value there.
row convert_tuple(const relation_info& relation, const tuple_data& tuple, const tuple_data* fill,
                  const char* what) {
    if (tuple.size() != relation.columns.size())
        column_count_mismatch(relation, what, tuple.size());
    if (fill && fill->size() != relation.columns.size()) {
        column_count_mismatch(relation, "old tuple", fill->size());
    }
    std::vector<value> values;
    values.reserve(tuple.size());
    auto col = relation.columns.begin();
    tuple_data::iterator old;
    if (fill) old = fill->begin();
    for (const tuple_column& c : tuple) {
        try {
            switch (c.k) {
                case tuple_column::kind::null:
                    values.emplace_back();
                    break;
                case tuple_column::kind::text:
                    values.push_back(convert_text(col->kind, c.data));
                    break;
                case tuple_column::kind::unchanged:
                    if (fill && old->k == tuple_column::kind::text) {
                        values.push_back(convert_text(col->kind, old->data));
                    } else {
                        values.push_back(value::unchanged());
                    }
                    break;
                case tuple_column::kind::binary:
                    throw error(errc::unsupported,
                                "binary tuple values are not supported (the stream must be "
                                "started without binary 'true')");
            }
        } catch (const error& e) {
            detail::rethrow_with_context(e, fmt::format("{} of {}, column \"{}\"", what,
                                                        relation.table.to_string(), col->name));
        }
        ++col;
        if (fill) ++old;
    }
    return row(relation.schema, std::move(values));
}

void check_relation(const relation_info& relation, std::uint32_t message_relation_id) {
    if (relation.id != message_relation_id) {
        throw error(errc::invalid_argument,
                    fmt::format("the message is for relation {}, the relation given is {} ({})",
                                message_relation_id, relation.id, relation.table.to_string()));
    }
}

}  // namespace

relation_cache::update_result relation_cache::apply(const relation_message& message,
                                                    const value_converter& types) {
    relation_info next;
    next.id = message.relation_id;
    next.table =
        table_identifier(message.namespace_name.empty() ? std::string("pg_catalog")
                                                        : std::string(message.namespace_name),
                         std::string(message.relation_name));
    next.identity = static_cast<replica_identity>(message.replica_identity);
    next.columns.reserve(message.columns.size());
    for (const relation_column& c : message.columns) {
        next.columns.push_back(relation_column_info{std::string(c.name), c.type_oid,
                                                    c.type_modifier, c.is_key(),
                                                    types.kind_of(c.type_oid)});
    }

    const auto it = relations_.find(next.id);
    if (it != relations_.end() && it->second.table == next.table &&
        it->second.identity == next.identity && it->second.columns == next.columns) {
        return {it->second, relation_change::unchanged};
    }
    next.has_catalog_schema = catalog_schema(next.table) != nullptr;
    try {
        next.schema = build_schema(next.columns, catalog_schema(next.table), types);
    } catch (const error& e) {
        throw error(errc::corrupt_data,
                    fmt::format("Relation message for relation {} ({}): {}", next.id,
                                next.table.to_string(), detail::message_of(e)));
    }
    if (it != relations_.end()) {
        it->second = std::move(next);
        return {it->second, relation_change::changed};
    }
    const auto [ins, _] = relations_.emplace(next.id, std::move(next));
    return {ins->second, relation_change::added};
}

void relation_cache::set_catalog_schema(const table_identifier& table, schema_ptr schema) {
    if (!schema) {
        throw error(errc::invalid_argument,
                    fmt::format("no schema given for {}", table.to_string()));
    }
    catalog_[table] = std::move(schema);
    for (auto& [id, relation] : relations_)
        if (relation.table == table) relation.has_catalog_schema = true;
}

void relation_cache::rebuild_schemas(const table_identifier& table, const value_converter& types) {
    for (auto& [id, relation] : relations_) {
        if (relation.table != table) continue;
        relation.schema = build_schema(relation.columns, catalog_schema(table), types);
    }
}

const schema_ptr* relation_cache::catalog_schema(const table_identifier& table) const noexcept {
    const auto it = catalog_.find(table);
    return it == catalog_.end() ? nullptr : &it->second;
}

const relation_info* relation_cache::find(std::uint32_t relation_id) const noexcept {
    const auto it = relations_.find(relation_id);
    return it == relations_.end() ? nullptr : &it->second;
}

const relation_info& relation_cache::at(std::uint32_t relation_id) const {
    if (const auto* r = find(relation_id)) return *r;
    throw error(
        errc::corrupt_data,
        fmt::format("change for relation {} before any Relation message for it", relation_id));
}

row tuple_to_row(const relation_info& relation, const tuple_data& tuple) {
    return convert_tuple(relation, tuple, nullptr, "tuple");
}

change_rows insert_rows(const relation_info& relation, const insert_message& message) {
    check_relation(relation, message.relation_id);
    return {convert_tuple(relation, message.new_tuple, nullptr, "Insert"), row()};
}

change_rows update_rows(const relation_info& relation, const update_message& message) {
    check_relation(relation, message.relation_id);
    change_rows rows;
    const bool full = message.old_kind == old_tuple_kind::full;
    rows.new_values =
        convert_tuple(relation, message.new_tuple, full ? &message.old_tuple : nullptr, "Update");
    if (message.old_kind != old_tuple_kind::none) {
        rows.old_values = convert_tuple(relation, message.old_tuple, nullptr, "Update old tuple");
    }
    return rows;
}

change_rows delete_rows(const relation_info& relation, const delete_message& message) {
    check_relation(relation, message.relation_id);
    return {row(), convert_tuple(relation, message.old_tuple, nullptr, "Delete")};
}

}  // namespace laredo::sources::postgres
