#pragma once

#include "laredo/change_event.hpp"
#include "laredo/column_definition.hpp"
#include "laredo/position.hpp"
#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/value.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::targets::httpsync::detail {

// The JSON of each payload (docs/httpsync.md; a JSON Schema of each under docs/httpsync/).
// Values take laredo's JSON form (laredo/json/values.hpp), positions the source's string
// form. Sans-io: strings in, strings out.
class payload_encoder {
  public:
    using position_formatter = std::function<std::string(const position&)>;

    // A null formatter writes sequences in decimal, pairs as "major:minor", text as is.
    payload_encoder(const table_identifier& table, position_formatter format);

    // {"table":"s.t","columns":[...]} for POST /baseline/start.
    std::string baseline_start(const std::vector<column_definition>& columns) const;
    // {"table":"s.t","rows":[ and ]}: the frame of POST /baseline/batch around rows.
    const std::string& baseline_batch_prefix() const noexcept { return batch_prefix_; }
    static constexpr std::string_view baseline_batch_suffix = "]}";
    // One row: {"column": value, ...}.
    std::string row(const laredo::row& r);
    // {"table":"s.t","position":"...","rows":N} for POST /baseline/complete.
    std::string baseline_complete(const position& pos, std::uint64_t rows) const;

    // One change of POST /changes (a JSON array) without its commit position: the object is
    // left open so the position can be added once the transaction's end is known
    // (close_change). `position_json` is position_json(change.pos).
    std::string open_change(const change_event& change, std::string_view position_json);
    // Ends an open change: ,"commit_position":<commit>} where commit is a JSON string or null.
    static void close_change(std::string& open, std::string_view commit_json);
    // The bytes close_change adds.
    static std::size_t close_size(std::string_view commit_json) noexcept;

    // The position's string form ("" for an empty position), and as JSON ("null" then).
    std::string position_text(const position& pos) const;
    std::string position_json(const position& pos) const;

  private:
    // Columns' natural JSON types, cached per schema (a table's schema rarely changes).
    const std::vector<value::type>& naturals(const schema_ptr& schema);
    // Appends {"column": value, ...} (unchanged values skipped) to out.
    void append_row(std::string& out, const laredo::row& r);
    // Appends {"key column": value, ...}: the columns that identify the row.
    void append_identity(std::string& out, const laredo::row& r);

    std::string table_json_;  // "public.users", quoted
    std::string batch_prefix_;
    position_formatter format_;
    schema_ptr cached_schema_;
    std::vector<value::type> cached_naturals_;
};

}  // namespace laredo::targets::httpsync::detail
