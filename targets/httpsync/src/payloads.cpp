#include "payloads.hpp"

#include "laredo/json/values.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

#include <fmt/format.h>

namespace laredo::targets::httpsync::detail {

namespace {

void append_string(std::string& out, std::string_view s) {
    out += boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

// Integers beyond +-2^53 are strings (JSON numbers lose them in most readers).
void append_transaction_id(std::string& out, std::uint64_t id) {
    if (id == 0) {
        out += "null";
    } else if (id <= (std::uint64_t{1} << 53)) {
        out += std::to_string(id);
    } else {
        out += '"';
        out += std::to_string(id);
        out += '"';
    }
}

}  // namespace

payload_encoder::payload_encoder(const table_identifier& table, position_formatter format)
    : format_(std::move(format)) {
    append_string(table_json_, table.to_string());
    batch_prefix_ = "{\"table\":" + table_json_ + ",\"rows\":[";
}

std::string payload_encoder::position_text(const position& pos) const {
    if (pos.empty()) return {};
    if (format_) return format_(pos);
    switch (pos.get_kind()) {
        case position::kind::sequence:
            return std::to_string(pos.sequence());
        case position::kind::pair:
            return fmt::format("{}:{}", pos.major(), pos.minor());
        case position::kind::text:
            return pos.text();
        case position::kind::empty:
            break;
    }
    return {};
}

std::string payload_encoder::position_json(const position& pos) const {
    if (pos.empty()) return "null";
    std::string out;
    append_string(out, position_text(pos));
    return out;
}

const std::vector<value::type>& payload_encoder::naturals(const schema_ptr& schema) {
    if (schema != cached_schema_) {
        cached_naturals_.clear();
        for (const auto& c : schema->columns()) cached_naturals_.push_back(json::natural_type(c));
        cached_schema_ = schema;
    }
    return cached_naturals_;
}

void payload_encoder::append_row(std::string& out, const laredo::row& r) {
    out += '{';
    if (!r.empty()) {
        const auto& types = naturals(r.schema());
        bool first = true;
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (r[i].is_unchanged()) continue;  // listed in "unchanged" instead
            if (!first) out += ',';
            first = false;
            append_string(out, r.schema()->column(i).name);
            out += ':';
            out += boost::json::serialize(json::encode_value(r[i], types[i]));
        }
    }
    out += '}';
}

void payload_encoder::append_identity(std::string& out, const laredo::row& r) {
    if (r.empty()) {
        out += "{}";
        return;
    }
    const auto& keys = r.schema()->key_indexes();
    if (keys.empty()) {
        append_row(out, r);  // a table without a key: the whole row identifies it
        return;
    }
    const auto& types = naturals(r.schema());
    out += '{';
    for (std::size_t k = 0; k < keys.size(); ++k) {
        const auto i = keys[k];
        if (k) out += ',';
        append_string(out, r.schema()->column(i).name);
        out += ':';
        out += boost::json::serialize(json::encode_value(r[i], types[i]));
    }
    out += '}';
}

std::string payload_encoder::baseline_start(const std::vector<column_definition>& columns) const {
    std::string out = "{\"table\":" + table_json_ + ",\"columns\":";
    out += boost::json::serialize(json::encode_columns(columns));
    out += '}';
    return out;
}

std::string payload_encoder::row(const laredo::row& r) {
    std::string out;
    append_row(out, r);
    return out;
}

std::string payload_encoder::baseline_complete(const position& pos, std::uint64_t rows) const {
    return "{\"table\":" + table_json_ + ",\"position\":" + position_json(pos) +
           ",\"rows\":" + std::to_string(rows) + "}";
}

std::string payload_encoder::open_change(const change_event& change,
                                         std::string_view position_json) {
    std::string out = "{\"action\":\"";
    out += to_string(change.action);
    out += "\",\"table\":";
    out += table_json_;
    out += ",\"position\":";
    out += position_json;
    out += ",\"transaction_id\":";
    append_transaction_id(out, change.transaction_id);
    out += ",\"commit_time\":";
    if (change.commit_timestamp) {
        append_string(out, json::format_time_point(*change.commit_timestamp));
    } else {
        out += "null";
    }
    switch (change.action) {
        case change_action::insert:
            out += ",\"row\":";
            append_row(out, change.new_values);
            break;
        case change_action::update: {
            out += ",\"row\":";
            append_row(out, change.new_values);
            out += ",\"identity\":";
            append_identity(out, change.identity());
            out += ",\"unchanged\":[";
            bool first = true;
            for (std::size_t i = 0; i < change.new_values.size(); ++i) {
                if (!change.new_values[i].is_unchanged()) continue;
                if (!first) out += ',';
                first = false;
                append_string(out, change.new_values.schema()->column(i).name);
            }
            out += ']';
            break;
        }
        case change_action::delete_:
            out += ",\"identity\":";
            append_identity(out, change.identity());
            break;
        case change_action::truncate:
            break;
    }
    return out;
}

void payload_encoder::close_change(std::string& open, std::string_view commit_json) {
    open += ",\"commit_position\":";
    open += commit_json;
    open += '}';
}

std::size_t payload_encoder::close_size(std::string_view commit_json) noexcept {
    return std::string_view(",\"commit_position\":").size() + commit_json.size() + 1;
}

}  // namespace laredo::targets::httpsync::detail
