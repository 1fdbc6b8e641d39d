#pragma once

// The relation cache of a pgoutput stream and the conversion of tuples into laredo rows.
//
// The server sends a Relation message before the first change of a table in each session and
// again after the table's definition changed. relation_cache keeps the last one per relation
// id, says whether a new one changed anything a target cares about (columns, their types and
// key flags, the table's name, its replica identity), and holds the row schema that rows of
// the relation carry. Keep the cache across reconnects: a table altered while the connection
// was down is then still reported as changed when its Relation message comes again.
//
// Rows: 'n' -> null, 't' -> the value converter's value for the column's type, 'u' (an
// unchanged TOASTed value the server did not resend) -> value::unchanged(), filled from the
// old tuple when an Update carries the full old row (REPLICA IDENTITY FULL inlines it).

#include "laredo/sources/postgres/pgoutput.hpp"
#include "laredo/sources/postgres/value_converter.hpp"

#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace laredo::sources::postgres {

enum class replica_identity : char {
    default_ = 'd',  // the primary key
    nothing = 'n',
    full = 'f',   // every column (every column has the key flag)
    index = 'i',  // the columns of a unique index
};

struct relation_column_info {
    std::string name;
    std::uint32_t type_oid = 0;
    std::int32_t type_modifier = -1;
    bool key = false;  // the Relation message's key flag (replica identity column)
    value_kind kind = value_kind::text;
    friend bool operator==(const relation_column_info&, const relation_column_info&) = default;
};

struct relation_info {
    std::uint32_t id = 0;
    table_identifier table;
    replica_identity identity = replica_identity::default_;
    std::vector<relation_column_info> columns;
    // The schema of this relation's rows. Its key: the catalog schema's key when one was set
    // for the table (set_catalog_schema), otherwise the columns with the key flag, in column
    // order (with REPLICA IDENTITY FULL that is every column: set the catalog schema).
    schema_ptr schema;
    // A catalog schema is set for the table (kept here so a change need not look it up).
    bool has_catalog_schema = false;
};

enum class relation_change : std::uint8_t {
    added,      // first Relation message for this id
    unchanged,  // the same definition again (a new session, or a change that is not visible)
    changed,    // columns, types, key flags, name or replica identity differ
};

std::string_view to_string(relation_change change) noexcept;

class relation_cache {
  public:
    struct update_result {
        const relation_info& relation;
        relation_change change;
    };

    // Records a Relation message. Column kinds and type names come from `types` (apply Type
    // messages to it first, as the server sends them first). On `unchanged` the cached
    // relation, and its schema pointer, stay as they were.
    update_result apply(const relation_message& message, const value_converter& types);

    // The schema the source discovered for `table` (its catalog: names, types, nullability,
    // key). A relation of that table whose columns have the same names and type OIDs in the
    // same order uses this very schema, so streamed rows equal baseline rows; one that differs
    // takes the key flags and other metadata of same-named columns from it. Affects Relation
    // messages applied afterwards.
    void set_catalog_schema(const table_identifier& table, schema_ptr schema);
    // Builds the schema of every cached relation of `table` again from its catalog schema (set
    // one first): a table the source described anew after its Relation message changed.
    void rebuild_schemas(const table_identifier& table, const value_converter& types);
    // The catalog schema set for `table`, or nullptr.
    const schema_ptr* catalog_schema(const table_identifier& table) const noexcept;

    // The cached relation, or nullptr.
    const relation_info* find(std::uint32_t relation_id) const noexcept;
    // The cached relation; throws laredo::error(errc::corrupt_data) when no Relation message
    // was received for the id (a protocol violation).
    const relation_info& at(std::uint32_t relation_id) const;

    std::size_t size() const noexcept { return relations_.size(); }
    void clear() noexcept { relations_.clear(); }

  private:
    std::unordered_map<std::uint32_t, relation_info> relations_;
    std::unordered_map<table_identifier, schema_ptr> catalog_;
};

// The row a tuple describes, in the relation's schema. Throws laredo::error: corrupt_data when
// the column count differs from the relation's or a value does not convert (naming the table
// and column), unsupported for a binary ('b') column (the stream is started without
// `binary 'true'`).
row tuple_to_row(const relation_info& relation, const tuple_data& tuple);

// The rows of one change. `old_values` is empty when the message has no old tuple; an Update
// with a key-only old tuple gives an old row whose non-key columns are null (as sent).
struct change_rows {
    row new_values;
    row old_values;
};

// Each throws as tuple_to_row, and errc::invalid_argument when `relation` is not the message's.
change_rows insert_rows(const relation_info& relation, const insert_message& message);
// Columns of the new tuple marked 'u' take the old tuple's value when it is a full one ('O').
change_rows update_rows(const relation_info& relation, const update_message& message);
change_rows delete_rows(const relation_info& relation, const delete_message& message);

}  // namespace laredo::sources::postgres
