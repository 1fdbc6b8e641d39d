#include "laredo/row.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace laredo {

namespace {
// FNV-1a, 64 bit: stable across runs and builds (std::hash is not), for on-disk fingerprints.
void mix(std::uint64_t& h, std::string_view bytes) {
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    h ^= 0xff;  // separator, so ("ab","c") and ("a","bc") differ
    h *= 0x100000001b3ULL;
}
}  // namespace

row_schema::row_schema(std::vector<column_definition> columns) : columns_(std::move(columns)) {
    by_name_.reserve(columns_.size());
    fingerprint_ = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        const auto& c = columns_[i];
        if (c.name.empty()) {
            throw error(errc::invalid_argument, fmt::format("column {} has an empty name", i + 1));
        }
        if (!by_name_.emplace(c.name, i).second) {
            throw error(errc::invalid_argument,
                        fmt::format("column \"{}\" appears twice in the schema", c.name));
        }
        if (c.primary_key_ordinal > 0 || c.primary_key) key_indexes_.push_back(i);
        mix(fingerprint_, c.name);
        mix(fingerprint_, c.type);
        mix(fingerprint_, std::to_string(c.primary_key_ordinal));
    }
    std::stable_sort(key_indexes_.begin(), key_indexes_.end(), [&](std::size_t a, std::size_t b) {
        return columns_[a].primary_key_ordinal < columns_[b].primary_key_ordinal;
    });
}

std::shared_ptr<const row_schema> row_schema::make(std::vector<column_definition> columns) {
    return std::make_shared<const row_schema>(std::move(columns));
}

std::optional<std::size_t> row_schema::index_of(std::string_view name) const noexcept {
    const auto it = by_name_.find(name);
    if (it == by_name_.end()) return std::nullopt;
    return it->second;
}

row::row(schema_ptr schema, std::vector<value> values)
    : schema_(std::move(schema)), values_(std::move(values)) {
    if (!schema_) throw error(errc::invalid_argument, "a row needs a schema");
    if (values_.size() != schema_->size()) {
        throw error(errc::schema_mismatch,
                    fmt::format("row has {} values but its schema has {} columns", values_.size(),
                                schema_->size()));
    }
}

const value* row::find(std::string_view column) const noexcept {
    if (!schema_) return nullptr;
    const auto i = schema_->index_of(column);
    return i ? &values_[*i] : nullptr;
}

const value& row::at(std::string_view column) const {
    if (const value* v = find(column)) return *v;
    throw error(errc::invalid_argument, fmt::format("row has no column \"{}\"", column));
}

std::vector<value> row::key() const {
    std::vector<value> out;
    if (!schema_) return out;
    out.reserve(schema_->key_indexes().size());
    for (std::size_t i : schema_->key_indexes()) out.push_back(values_[i]);
    return out;
}

bool row::is_complete() const noexcept {
    return schema_ && std::none_of(values_.begin(), values_.end(),
                                   [](const value& v) { return v.is_unchanged(); });
}

std::size_t row::raw_size() const noexcept {
    std::size_t n = 0;
    for (const auto& v : values_) n += v.raw_size();
    return n;
}

std::string row::debug_string() const {
    if (!schema_) return "{}";
    std::string out = "{";
    for (std::size_t i = 0; i < values_.size(); ++i) {
        if (i) out += ", ";
        out += schema_->column(i).name + "=" + values_[i].to_string();
    }
    return out + "}";
}

bool operator==(const row& a, const row& b) noexcept {
    if (a.schema_ == b.schema_) return a.values_ == b.values_;
    if (!a.schema_ || !b.schema_) return false;
    return *a.schema_ == *b.schema_ && a.values_ == b.values_;
}

row_builder::row_builder(schema_ptr schema) : schema_(std::move(schema)) {
    if (!schema_) throw error(errc::invalid_argument, "row_builder needs a schema");
    values_.resize(schema_->size());
}

row_builder& row_builder::set(std::string_view column, value v) {
    const auto i = schema_->index_of(column);
    if (!i) throw error(errc::invalid_argument, fmt::format("schema has no column \"{}\"", column));
    values_[*i] = std::move(v);
    return *this;
}

row row_builder::build() && { return row(std::move(schema_), std::move(values_)); }
row row_builder::build() const& { return row(schema_, values_); }

}  // namespace laredo
