#include "laredo/snapshot/jsonl_serializer.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"
#include "line_reader.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <utility>

namespace laredo::snapshots {

namespace {

namespace bj = boost::json;

constexpr std::string_view trailer_key = "trailer";

// Adds every byte written to the running checksum the trailer carries.
class checksummed_sink {
  public:
    explicit checksummed_sink(byte_sink& out) : out_(out) {}
    void write(std::string_view bytes) {
        crc_ = json::crc32c(bytes, crc_);
        out_.write(bytes);
    }
    std::uint32_t crc() const noexcept { return crc_; }

  private:
    byte_sink& out_;
    std::uint32_t crc_ = 0;
};

// Streams one JSON value through a fixed buffer: no string per row.
void write_json(checksummed_sink& out, bj::serializer& sr, const bj::object& o) {
    std::array<char, 4096> buffer;
    sr.reset(&o);
    while (!sr.done()) out.write(sr.read(buffer.data(), buffer.size()));
    out.write("\n");
}

void require_utf8(std::string_view text, std::string_view what, const snapshot_table& t) {
    if (!json::is_valid_utf8(text)) {
        throw error(errc::invalid_argument,
                    fmt::format("snapshot table of pipeline \"{}\": {} is not valid UTF-8",
                                json::sanitize_utf8(t.pipeline_id), what));
    }
}

bj::object encode_table(const table_identifier& table) {
    bj::object o;
    o["schema"] = table.schema;
    o["table"] = table.table;
    return o;
}

bj::array encode_indexes(const std::vector<index_definition>& indexes) {
    bj::array a;
    for (const auto& index : indexes) {
        bj::object o;
        o["name"] = index.name;
        bj::array fields;
        for (const auto& f : index.fields) fields.emplace_back(f);
        o["fields"] = std::move(fields);
        o["unique"] = index.unique;
        a.emplace_back(std::move(o));
    }
    return a;
}

// The columns the file is written with: the table's own, or those of its rows when the
// exporting target did not fill them in.
std::vector<column_definition> columns_of(const snapshot_table& t) {
    if (!t.info.columns.empty() || t.rows.empty()) return t.info.columns;
    if (t.rows.front().empty()) return {};
    return t.rows.front().schema()->columns();
}

// Reading: every failure names the file and the line.
class table_reader {
  public:
    table_reader(byte_source& in, std::string_view name) : lines_(in), name_(name) {}

    snapshot_table read() {
        std::string line;
        if (!next_line(line)) fail(errc::corrupt_data, "the file is empty");
        crc_ = json::crc32c(line, crc_);
        crc_ = json::crc32c("\n", crc_);
        auto t = read_header(line);

        // The last line is the trailer, so each line is decoded once the next one is seen.
        std::string held;
        bool holding = false;
        while (next_line(line)) {
            if (holding) {
                crc_ = json::crc32c(held, crc_);
                crc_ = json::crc32c("\n", crc_);
                t.rows.push_back(decode_row(held, lines_.line_number() - 1));
            }
            std::swap(held, line);
            holding = true;
        }
        if (!holding) {
            fail(errc::corrupt_data, "no trailer after the header (the file is truncated)");
        }
        check_trailer(held, t.rows.size());
        t.info.row_count = t.rows.size();
        return t;
    }

  private:
    [[noreturn]] void fail(errc code, std::string_view problem) const {
        throw error(code, fmt::format("{}: {}", name_, problem));
    }
    [[noreturn]] void fail_at(errc code, std::uint64_t line, std::string_view problem) const {
        throw error(code, fmt::format("{}: line {}: {}", name_, line, problem));
    }

    bool next_line(std::string& line) {
        if (!lines_.next(line)) return false;
        if (!lines_.last_terminated()) {
            fail_at(errc::corrupt_data, lines_.line_number(),
                    "the line has no end (the file is truncated)");
        }
        return true;
    }

    // laredo::json::parse, not Boost.JSON's parser: it reads every double exactly.
    bj::value parse(std::string_view text, std::uint64_t line) const {
        try {
            return json::parse(text);
        } catch (const error& e) {
            fail_at(errc::corrupt_data, line, fmt::format("not JSON ({})", e.what()));
        }
    }

    const bj::value& field(const bj::object& o, std::string_view key, std::uint64_t line,
                           std::string_view what) const {
        const auto* v = o.if_contains(key);
        if (v == nullptr) {
            fail_at(errc::corrupt_data, line, fmt::format("the {} has no \"{}\"", what, key));
        }
        return *v;
    }

    std::string string_field(const bj::object& o, std::string_view key, std::uint64_t line,
                             std::string_view what) const {
        const auto& v = field(o, key, line, what);
        if (!v.is_string()) {
            fail_at(errc::corrupt_data, line,
                    fmt::format("\"{}\" of the {} is not a string", key, what));
        }
        return std::string(v.get_string());
    }

    std::uint64_t count_field(const bj::object& o, std::string_view key, std::uint64_t line,
                              std::string_view what) const {
        const auto& v = field(o, key, line, what);
        if (v.is_uint64()) return v.get_uint64();
        if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
        fail_at(errc::corrupt_data, line,
                fmt::format("\"{}\" of the {} is not a count", key, what));
    }

    std::uint64_t hex_field(const bj::object& o, std::string_view key, std::uint64_t line,
                            std::string_view what) const {
        const auto text = string_field(o, key, line, what);
        try {
            return json::from_hex(text);
        } catch (const std::exception&) {
            fail_at(errc::corrupt_data, line,
                    fmt::format("\"{}\" of the {} is not hexadecimal: \"{}\"", key, what,
                                json::sanitize_utf8(text)));
        }
    }

    snapshot_table read_header(const std::string& line) {
        constexpr std::uint64_t n = 1;
        const auto jv = parse(line, n);
        const auto* o = jv.if_object();
        if (o == nullptr) fail_at(errc::corrupt_data, n, "the header is not a JSON object");
        const auto format = string_field(*o, "format", n, "header");
        if (format != jsonl_serializer::format_name) {
            fail_at(errc::corrupt_data, n,
                    fmt::format("unknown format \"{}\" (expected \"{}\")",
                                json::sanitize_utf8(format), jsonl_serializer::format_name));
        }
        const auto& version = field(*o, "version", n, "header");
        if (!version.is_int64() || version.get_int64() != jsonl_serializer::format_version) {
            fail_at(errc::corrupt_data, n,
                    fmt::format("unknown format version {} (this build reads version {})",
                                bj::serialize(version), jsonl_serializer::format_version));
        }

        snapshot_table t;
        t.pipeline_id = string_field(*o, "pipeline_id", n, "header");
        t.source_id = string_field(*o, "source_id", n, "header");
        const auto& table = field(*o, "table", n, "header");
        if (!table.is_object()) fail_at(errc::corrupt_data, n, "\"table\" is not an object");
        t.info.table.schema = string_field(table.get_object(), "schema", n, "table");
        t.info.table.table = string_field(table.get_object(), "table", n, "table");
        t.info.target_type = string_field(*o, "target_type", n, "header");
        t.position = string_field(*o, "position", n, "header");
        try {
            t.info.columns = json::decode_columns(field(*o, "columns", n, "header"));
        } catch (const error& e) {
            fail_at(errc::corrupt_data, n, fmt::format("bad \"columns\": {}", e.what()));
        }
        t.info.indexes = read_indexes(field(*o, "indexes", n, "header"), n);

        try {
            schema_ = row_schema::make(t.info.columns);
        } catch (const error& e) {
            fail_at(errc::corrupt_data, n, fmt::format("bad \"columns\": {}", e.what()));
        }
        t.schema_fingerprint = hex_field(*o, "schema_fingerprint", n, "header");
        if (t.schema_fingerprint != schema_->fingerprint()) {
            fail_at(errc::schema_mismatch, n,
                    fmt::format("schema fingerprint {} in the header does not match its "
                                "columns (fingerprint {})",
                                json::to_hex(t.schema_fingerprint),
                                json::to_hex(schema_->fingerprint())));
        }
        return t;
    }

    std::vector<index_definition> read_indexes(const bj::value& jv, std::uint64_t n) const {
        const auto* a = jv.if_array();
        if (a == nullptr) fail_at(errc::corrupt_data, n, "\"indexes\" is not an array");
        std::vector<index_definition> indexes;
        for (const auto& item : *a) {
            const auto* o = item.if_object();
            if (o == nullptr) fail_at(errc::corrupt_data, n, "an index is not an object");
            index_definition index;
            index.name = string_field(*o, "name", n, "index");
            const auto& fields = field(*o, "fields", n, "index");
            if (!fields.is_array()) fail_at(errc::corrupt_data, n, "index fields not an array");
            for (const auto& f : fields.get_array()) {
                if (!f.is_string()) fail_at(errc::corrupt_data, n, "an index field not a string");
                index.fields.emplace_back(f.get_string());
            }
            const auto& unique = field(*o, "unique", n, "index");
            if (!unique.is_bool()) fail_at(errc::corrupt_data, n, "index unique not a boolean");
            index.unique = unique.get_bool();
            indexes.push_back(std::move(index));
        }
        return indexes;
    }

    row decode_row(const std::string& line, std::uint64_t n) {
        const auto jv = parse(line, n);
        const auto* o = jv.if_object();
        if (o == nullptr) fail_at(errc::corrupt_data, n, "the row is not a JSON object");
        try {
            return json::decode_row(*o, schema_);
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const error& e) {
            fail_at(e.code() == make_error_code(errc::schema_mismatch) ? errc::schema_mismatch
                                                                       : errc::corrupt_data,
                    n, fmt::format("bad row: {}", e.what()));
        } catch (const std::exception& e) {
            fail_at(errc::corrupt_data, n, fmt::format("bad row: {}", e.what()));
        }
    }

    void check_trailer(const std::string& line, std::uint64_t rows) {
        const auto n = lines_.line_number();
        const auto jv = parse(line, n);
        const auto* o = jv.if_object();
        const auto* tag = o ? o->if_contains(trailer_key) : nullptr;
        if (tag == nullptr || !tag->is_string() ||
            tag->get_string() != jsonl_serializer::format_name) {
            fail_at(errc::corrupt_data, n,
                    "the last line is not the trailer (the file is truncated)");
        }
        const auto crc = hex_field(*o, "crc32c", n, "trailer");
        if (crc != crc_) {
            fail_at(errc::corrupt_data, n,
                    fmt::format("checksum mismatch: the trailer says crc32c {}, the content "
                                "has {}",
                                json::to_hex(crc), json::to_hex(crc_)));
        }
        const auto expected = count_field(*o, "rows", n, "trailer");
        if (expected != rows) {
            fail_at(errc::corrupt_data, n,
                    fmt::format("row count mismatch: the trailer says {} rows, the file has {}",
                                expected, rows));
        }
    }

    detail::line_reader lines_;
    std::string_view name_;
    schema_ptr schema_;
    std::uint32_t crc_ = 0;
};

}  // namespace

void jsonl_serializer::write(const snapshot_table& t, byte_sink& sink) const {
    auto columns = columns_of(t);
    const auto schema = row_schema::make(columns);
    if (t.schema_fingerprint != 0 && t.schema_fingerprint != schema->fingerprint()) {
        throw error(
            errc::schema_mismatch,
            fmt::format("snapshot table of pipeline \"{}\": schema fingerprint {} does "
                        "not match its columns (fingerprint {})",
                        json::sanitize_utf8(t.pipeline_id), json::to_hex(t.schema_fingerprint),
                        json::to_hex(schema->fingerprint())));
    }
    require_utf8(t.pipeline_id, "the pipeline id", t);
    require_utf8(t.source_id, "the source id", t);
    require_utf8(t.info.table.schema, "the schema name", t);
    require_utf8(t.info.table.table, "the table name", t);
    require_utf8(t.info.target_type, "the target type", t);
    require_utf8(t.position, "the position", t);
    for (const auto& c : columns) {
        require_utf8(c.name, "a column name", t);
        require_utf8(c.type, "a column type", t);
        if (c.default_value) require_utf8(*c.default_value, "a column default", t);
    }
    for (const auto& index : t.info.indexes) {
        require_utf8(index.name, "an index name", t);
        for (const auto& f : index.fields) require_utf8(f, "an index field", t);
    }

    checksummed_sink out(sink);
    bj::serializer sr;

    bj::object header;
    header["format"] = format_name;
    header["version"] = format_version;
    header["pipeline_id"] = t.pipeline_id;
    header["source_id"] = t.source_id;
    header["table"] = encode_table(t.info.table);
    header["target_type"] = t.info.target_type;
    header["position"] = t.position;
    header["columns"] = json::encode_columns(columns);
    header["schema_fingerprint"] = json::to_hex(schema->fingerprint());
    header["indexes"] = encode_indexes(t.info.indexes);
    write_json(out, sr, header);

    std::uint64_t count = 0;
    for (const auto& r : t.rows) {
        if (r.empty() || r.size() != schema->size() ||
            (r.schema() != schema && r.schema()->fingerprint() != schema->fingerprint())) {
            throw error(errc::schema_mismatch,
                        fmt::format("snapshot table of pipeline \"{}\": row {} does not have "
                                    "the table's columns",
                                    json::sanitize_utf8(t.pipeline_id), count + 1));
        }
        write_json(out, sr, json::encode_row(r));
        ++count;
    }

    bj::object trailer;
    trailer[trailer_key] = format_name;
    trailer["rows"] = count;
    trailer["crc32c"] = json::to_hex(out.crc());
    write_json(out, sr, trailer);
}

snapshot_table jsonl_serializer::read(byte_source& in, std::string_view name) const {
    return table_reader(in, name).read();
}

}  // namespace laredo::snapshots
