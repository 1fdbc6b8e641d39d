#pragma once

#include "laredo/retry_policy.hpp"
#include "laredo/row.hpp"
#include "laredo/table_identifier.hpp"
#include "laredo/types.hpp"

#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace laredo {

// Decides whether a row belongs in the target. Filters of a pipeline are AND-ed.
using row_filter = std::function<bool(const table_identifier&, const row&)>;

// Rewrites a row on its way to the target, or drops it (nullopt), and says which columns the
// rows it produces have. Transforms of a pipeline run in order.
//
// The pipeline gives the target the columns after the whole chain (at init and at every
// schema change), so a transform that renames, adds or removes columns declares how: its
// `columns` function maps the columns it gets to the columns it produces, and every row it
// returns has those columns. A chain that removes a key column (the target finds rows by
// them) is refused before any row flows: the pipeline goes to ERROR naming the transform
// and the column. A transform built from a plain callable keeps the columns as they are
// (it changes values, or drops rows).
class row_transform {
  public:
    using function = std::function<std::optional<row>(const table_identifier&, row)>;
    using columns_function = std::function<schema_ptr(const schema_ptr& in)>;

    row_transform() = default;
    template <class F>
    requires(!std::same_as<std::decay_t<F>, row_transform> &&
             std::is_invocable_r_v<std::optional<row>, F&, const table_identifier&, row>)
        row_transform(F fn)  // NOLINT(google-explicit-constructor): a callable is a transform
        : fn_(std::move(fn)) {}
    // `name` says what the transform does in errors ("drop_fields(status)").
    row_transform(std::string name, function fn, columns_function columns)
        : name_(std::move(name)), fn_(std::move(fn)), columns_(std::move(columns)) {}

    std::optional<row> operator()(const table_identifier& table, row r) const {
        return fn_(table, std::move(r));
    }
    // The columns of the rows this transform produces from rows with columns `in`.
    schema_ptr columns(const schema_ptr& in) const { return columns_ ? columns_(in) : in; }
    const std::string& name() const noexcept { return name_; }
    explicit operator bool() const noexcept { return static_cast<bool>(fn_); }

  private:
    std::string name_ = "transform";
    function fn_;
    columns_function columns_;
};

// When a row expires, or nullopt for never. Evaluated on the row as the target stores it
// (after transforms).
using row_expiry = std::function<std::optional<std::chrono::system_clock::time_point>(const row&)>;

// What a validation mismatch does.
enum class validation_action : std::uint8_t {
    warn,        // report it (observer) and go on
    rebaseline,  // report it and reload the table
};

// How one pipeline (source table -> filters/transforms -> target) runs. Defaults follow the
// Go original.
struct pipeline_options {
    std::vector<row_filter> filters;
    std::vector<row_transform> transforms;

    // The buffer between the source and the target, bounded in changes and in bytes (values'
    // raw bytes). A batch larger than the buffer is accepted when the buffer is empty.
    std::size_t buffer_size = 10'000;
    std::size_t buffer_bytes = 64u << 20;
    buffer_policy buffer = buffer_policy::block;

    // A batch the target refuses with a retryable error is retried by `retry` (by default
    // 100 ms doubling to 5 s, 5 attempts); a change still failing then goes to the
    // dead-letter store and the error policy applies.
    error_policy on_error = error_policy::isolate;
    retry_policy retry{
        std::chrono::milliseconds(100), 2.0, std::chrono::milliseconds(5'000), 0.0, 5,
        std::chrono::milliseconds(0)};

    // A pipeline that went to ERROR under error policy isolate, or that dropped changes
    // (buffer policies drop_oldest / error), recovers by reloading its table. With
    // recover_after > 0 the engine does it by itself after that long, doubling the wait after
    // each recovery that fails again, up to recover_max_backoff. 0: only async_reload does.
    std::chrono::milliseconds recover_after{0};
    std::chrono::milliseconds recover_max_backoff{300'000};

    // Time to live. A row expires at the time ttl_function returns, or else at the value of
    // column ttl_field (a timestamp/timestamptz value, or RFC 3339 text; anything else never
    // expires). Expired rows are skipped at baseline and insert; an update that expires a row
    // deletes it. With ttl_scan_interval > 0, a scanner removes stored rows as they expire
    // (the target must keep rows) and reports each to the observer.
    std::string ttl_field;
    row_expiry ttl_function;
    std::chrono::milliseconds ttl_scan_interval{0};

    // Validation compares the rows the pipeline expects (what the source sent through the
    // filters) with the target's row_count(): after each baseline when the target can count,
    // and every validation_interval (0 = off; needs a target that keeps rows).
    std::chrono::milliseconds validation_interval{0};
    validation_action on_validation_mismatch = validation_action::warn;

    // Overrides the generated id ("source:schema.table:target_type", then ":2", ":3"... for
    // further pipelines of the same source, table and target type). Must be unique.
    std::string id;
};

// Built-in filters and transforms (the Go set).
namespace filters {
// The column equals `v` (type and value, as value equality).
row_filter field_equals(std::string column, value v);
// The column is text starting with `prefix`.
row_filter field_prefix(std::string column, std::string prefix);
// The column is text matching the ECMAScript regular expression (whole-value search).
row_filter field_regex(std::string column, const std::string& pattern);
}  // namespace filters

std::string_view to_string(validation_action a) noexcept;
validation_action parse_validation_action(std::string_view text);

namespace transforms {
row_transform drop_fields(std::vector<std::string> columns);
row_transform rename_fields(std::vector<std::pair<std::string, std::string>> renames);
// Adds (or overwrites) a timestamptz column holding the time the row passed the pipeline.
row_transform add_timestamp(std::string column);
}  // namespace transforms

}  // namespace laredo
