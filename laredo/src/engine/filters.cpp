// The built-in filters and transforms, and the names of pipeline option values.
#include "laredo/error.hpp"
#include "laredo/pipeline_options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <regex>

namespace laredo {

std::string_view to_string(validation_action a) noexcept {
    switch (a) {
        case validation_action::warn:
            return "warn";
        case validation_action::rebaseline:
            return "rebaseline";
    }
    return "unknown";
}

validation_action parse_validation_action(std::string_view text) {
    if (text == "warn") return validation_action::warn;
    if (text == "rebaseline" || text == "re-baseline") return validation_action::rebaseline;
    throw error(errc::invalid_argument,
                fmt::format("unknown validation action \"{}\": expected warn or rebaseline", text));
}

namespace filters {

row_filter field_equals(std::string column, value v) {
    return [column = std::move(column), v = std::move(v)](const table_identifier&, const row& r) {
        const value* actual = r.find(column);
        return actual && *actual == v;
    };
}

row_filter field_prefix(std::string column, std::string prefix) {
    return [column = std::move(column), prefix = std::move(prefix)](const table_identifier&,
                                                                    const row& r) {
        const value* actual = r.find(column);
        const auto* text = actual ? actual->get_if<std::string>() : nullptr;
        return text && text->starts_with(prefix);
    };
}

row_filter field_regex(std::string column, const std::string& pattern) {
    std::shared_ptr<const std::regex> re;
    try {
        re = std::make_shared<const std::regex>(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        throw error(errc::invalid_argument,
                    fmt::format("invalid regular expression \"{}\": {}", pattern, e.what()));
    }
    return [column = std::move(column), re](const table_identifier&, const row& r) {
        const value* actual = r.find(column);
        const auto* text = actual ? actual->get_if<std::string>() : nullptr;
        return text && std::regex_search(*text, *re);
    };
}

}  // namespace filters

namespace transforms {

namespace {

// Rows of one input schema all map to one output schema: build it once and reuse it, so rows
// and the columns the pipeline declares to the target share one schema object. A transform
// object may serve several pipelines (on several strands): the cache is locked.
class schema_cache {
  public:
    using make_fn = std::function<schema_ptr(const schema_ptr&)>;
    explicit schema_cache(make_fn make) : make_(std::move(make)) {}

    schema_ptr get(const schema_ptr& in) {
        std::lock_guard lock(mutex_);
        if (in != last_in_) {
            last_out_ = make_(in);
            last_in_ = in;
        }
        return last_out_;
    }

  private:
    make_fn make_;
    std::mutex mutex_;
    schema_ptr last_in_;
    schema_ptr last_out_;
};

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

}  // namespace

row_transform drop_fields(std::vector<std::string> columns) {
    auto keep = [columns](const std::string& name) {
        return std::find(columns.begin(), columns.end(), name) == columns.end();
    };
    auto cache = std::make_shared<schema_cache>([keep](const schema_ptr& in) {
        std::vector<column_definition> cols;
        for (const auto& c : in->columns())
            if (keep(c.name)) cols.push_back(c);
        return row_schema::make(std::move(cols));
    });
    auto apply = [keep, cache](const table_identifier&, row r) -> std::optional<row> {
        const auto out_schema = cache->get(r.schema());
        std::vector<value> values;
        values.reserve(out_schema->size());
        for (std::size_t i = 0; i < r.size(); ++i)
            if (keep(r.schema()->column(i).name)) values.push_back(r[i]);
        return row(out_schema, std::move(values));
    };
    return row_transform(fmt::format("drop_fields({})", joined(columns)), std::move(apply),
                         [cache](const schema_ptr& in) { return cache->get(in); });
}

row_transform rename_fields(std::vector<std::pair<std::string, std::string>> renames) {
    std::vector<std::string> names;
    for (const auto& [from, to] : renames) names.push_back(from + " -> " + to);
    auto cache = std::make_shared<schema_cache>([renames](const schema_ptr& in) {
        auto cols = in->columns();
        for (auto& c : cols)
            for (const auto& [from, to] : renames)
                if (c.name == from) {
                    c.name = to;
                    break;
                }
        return row_schema::make(std::move(cols));
    });
    auto apply = [cache](const table_identifier&, row r) -> std::optional<row> {
        return row(cache->get(r.schema()), r.values());
    };
    return row_transform(fmt::format("rename_fields({})", joined(names)), std::move(apply),
                         [cache](const schema_ptr& in) { return cache->get(in); });
}

row_transform add_timestamp(std::string column) {
    auto cache = std::make_shared<schema_cache>([column](const schema_ptr& in) {
        if (in->index_of(column)) return in;  // the existing column holds the timestamp
        auto cols = in->columns();
        column_definition c;
        c.name = column;
        c.type = "timestamptz";
        c.ordinal_position = static_cast<int>(cols.size()) + 1;
        cols.push_back(std::move(c));
        return row_schema::make(std::move(cols));
    });
    auto apply = [column, cache](const table_identifier&, row r) -> std::optional<row> {
        const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        const auto out_schema = cache->get(r.schema());
        std::vector<value> values = r.values();
        if (values.size() < out_schema->size()) values.emplace_back();
        values[*out_schema->index_of(column)] = value(timestamptz_value{now});
        return row(out_schema, std::move(values));
    };
    return row_transform(fmt::format("add_timestamp({})", column), std::move(apply),
                         [cache](const schema_ptr& in) { return cache->get(in); });
}

}  // namespace transforms

}  // namespace laredo
