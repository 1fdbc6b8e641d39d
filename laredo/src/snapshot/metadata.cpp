#include "metadata.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <exception>
#include <utility>

namespace laredo::snapshots::detail {

namespace {

namespace bj = boost::json;

bj::object encode_map(const std::map<std::string, std::string>& m) {
    bj::object o;
    for (const auto& [k, v] : m) o[k] = v;
    return o;
}

// Field access that names the file and the field in its errors.
class reader {
  public:
    explicit reader(std::string_view name) : name_(name) {}

    [[noreturn]] void fail(std::string_view problem) const {
        throw error(errc::corrupt_data, fmt::format("{}: {}", name_, problem));
    }

    const bj::value& field(const bj::object& o, std::string_view key,
                           std::string_view where) const {
        const auto* v = o.if_contains(key);
        if (v == nullptr) fail(fmt::format("{} has no \"{}\"", where, key));
        return *v;
    }
    std::string string(const bj::object& o, std::string_view key, std::string_view where) const {
        const auto& v = field(o, key, where);
        if (!v.is_string()) fail(fmt::format("\"{}\" of {} is not a string", key, where));
        return std::string(v.get_string());
    }
    std::uint64_t count(const bj::object& o, std::string_view key, std::string_view where) const {
        const auto& v = field(o, key, where);
        if (v.is_uint64()) return v.get_uint64();
        if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
        fail(fmt::format("\"{}\" of {} is not a count", key, where));
    }
    std::uint64_t hex(const bj::object& o, std::string_view key, std::string_view where) const {
        const auto text = string(o, key, where);
        try {
            return json::from_hex(text);
        } catch (const error&) {
            fail(fmt::format("\"{}\" of {} is not 16 hex digits", key, where));
        }
    }
    const bj::object& object(const bj::object& o, std::string_view key,
                             std::string_view where) const {
        const auto& v = field(o, key, where);
        if (!v.is_object()) fail(fmt::format("\"{}\" of {} is not an object", key, where));
        return v.get_object();
    }
    std::map<std::string, std::string> string_map(const bj::object& o, std::string_view key,
                                                  std::string_view where) const {
        std::map<std::string, std::string> m;
        for (const auto& [k, v] : object(o, key, where)) {
            if (!v.is_string()) fail(fmt::format("\"{}\" of {} holds a non-string", key, where));
            m.emplace(std::string(k), std::string(v.get_string()));
        }
        return m;
    }

  private:
    std::string_view name_;
};

}  // namespace

bool is_safe_name(std::string_view name) noexcept {
    if (name.empty() || name.front() == '.') return false;
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string encode_metadata(const metadata& m) {
    const auto& d = m.descriptor;
    bj::object o;
    o["format"] = metadata_format;
    o["version"] = metadata_version;
    o["id"] = d.id;
    o["created_at"] = json::format_time_point(d.created_at);
    o["serializer"] = d.format;
    o["labels"] = encode_map(d.labels);
    o["source_positions"] = encode_map(d.source_positions);
    bj::array tables;
    for (std::size_t i = 0; i < d.tables.size(); ++i) {
        const auto& t = d.tables[i];
        bj::object e;
        e["pipeline_id"] = t.pipeline_id;
        e["source_id"] = t.source_id;
        e["table"] = bj::object{{"schema", t.table.schema}, {"table", t.table.table}};
        e["target_type"] = t.target_type;
        e["position"] = t.position;
        e["row_count"] = t.row_count;
        e["schema_fingerprint"] = json::to_hex(t.schema_fingerprint);
        e["file"] = m.files[i].name;
        e["size_bytes"] = t.size_bytes;
        e["crc32c"] = json::to_hex(m.files[i].crc32c);
        tables.emplace_back(std::move(e));
    }
    o["tables"] = std::move(tables);
    o["row_count"] = d.row_count;
    o["size_bytes"] = d.size_bytes;
    auto text = bj::serialize(o);
    text += '\n';
    return text;
}

metadata decode_metadata(std::string_view text, std::string_view name) {
    const reader r(name);
    bj::value jv;
    try {
        jv = json::parse(text);
    } catch (const error& e) {
        r.fail(fmt::format("not JSON ({})", e.what()));
    }
    const auto* o = jv.if_object();
    if (o == nullptr) r.fail("not a JSON object");
    const auto format = r.string(*o, "format", "the metadata");
    if (format != metadata_format) {
        r.fail(fmt::format("unknown format \"{}\" (expected \"{}\")", json::sanitize_utf8(format),
                           metadata_format));
    }
    const auto& version = r.field(*o, "version", "the metadata");
    if (!version.is_int64() || version.get_int64() != metadata_version) {
        r.fail(fmt::format("unknown format version {} (this build reads version {})",
                           bj::serialize(version), metadata_version));
    }

    metadata m;
    auto& d = m.descriptor;
    d.id = r.string(*o, "id", "the metadata");
    try {
        d.created_at = json::parse_time_point(r.string(*o, "created_at", "the metadata"));
    } catch (const error& e) {
        r.fail(fmt::format("bad \"created_at\": {}", e.what()));
    }
    d.format = r.string(*o, "serializer", "the metadata");
    d.labels = r.string_map(*o, "labels", "the metadata");
    d.source_positions = r.string_map(*o, "source_positions", "the metadata");

    const auto& tables = r.field(*o, "tables", "the metadata");
    if (!tables.is_array()) r.fail("\"tables\" is not an array");
    std::uint64_t rows = 0;
    std::uint64_t size = 0;
    for (const auto& item : tables.get_array()) {
        const auto where = fmt::format("table {}", d.tables.size() + 1);
        const auto* e = item.if_object();
        if (e == nullptr) r.fail(fmt::format("{} is not an object", where));
        snapshot_descriptor::table_summary t;
        t.pipeline_id = r.string(*e, "pipeline_id", where);
        t.source_id = r.string(*e, "source_id", where);
        const auto& table = r.object(*e, "table", where);
        t.table.schema = r.string(table, "schema", where);
        t.table.table = r.string(table, "table", where);
        t.target_type = r.string(*e, "target_type", where);
        t.position = r.string(*e, "position", where);
        t.row_count = r.count(*e, "row_count", where);
        t.schema_fingerprint = r.hex(*e, "schema_fingerprint", where);
        t.size_bytes = r.count(*e, "size_bytes", where);
        table_file f;
        f.name = r.string(*e, "file", where);
        if (!is_safe_name(f.name) || f.name == "metadata.json") {
            r.fail(
                fmt::format("{} names an unsafe file \"{}\"", where, json::sanitize_utf8(f.name)));
        }
        const auto crc = r.hex(*e, "crc32c", where);
        if (crc > 0xffffffffULL) r.fail(fmt::format("\"crc32c\" of {} is too large", where));
        f.crc32c = static_cast<std::uint32_t>(crc);
        rows += t.row_count;
        size += t.size_bytes;
        d.tables.push_back(std::move(t));
        m.files.push_back(std::move(f));
    }
    d.row_count = r.count(*o, "row_count", "the metadata");
    d.size_bytes = r.count(*o, "size_bytes", "the metadata");
    if (d.row_count != rows || d.size_bytes != size) {
        r.fail(
            fmt::format("the totals ({} rows, {} bytes) do not add up to the tables' ({} rows, "
                        "{} bytes)",
                        d.row_count, d.size_bytes, rows, size));
    }
    return m;
}

}  // namespace laredo::snapshots::detail
