#include "laredo/replica/messages.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"
#include "laredo/replica/positions.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

namespace laredo::replica {

namespace json = boost::json;

std::string_view to_string(sync_mode m) noexcept {
    switch (m) {
        case sync_mode::full_snapshot:
            return "FULL_SNAPSHOT";
        case sync_mode::delta:
            return "DELTA";
        case sync_mode::delta_from_snapshot:
            return "DELTA_FROM_SNAPSHOT";
    }
    return "FULL_SNAPSHOT";
}

namespace {

// --- writing ---

json::object typed(std::string_view type) {
    json::object o;
    o["type"] = type;
    return o;
}

json::value time_or_null(const std::optional<time_point>& t) {
    if (!t) return nullptr;
    return json::value(laredo::json::format_time_point(*t));
}

json::value row_or_null(const row& r) {
    if (r.empty()) return nullptr;
    return laredo::json::encode_row(r);
}

// --- reading ---

[[noreturn]] void bad(errc code, std::string_view type, std::string_view what) {
    throw error(code, fmt::format("replication message \"{}\": {}", type, what));
}

class reader {
  public:
    reader(const json::object& o, std::string_view type, errc code)
        : o_(o), type_(type), code_(code) {}

    [[noreturn]] void fail(std::string_view what) const { bad(code_, type_, what); }

    const json::value* find(std::string_view key) const { return o_.if_contains(key); }

    std::string string(std::string_view key, bool required = true) const {
        const auto* v = find(key);
        if (!v || v->is_null()) {
            if (required) fail(fmt::format("\"{}\" is required", key));
            return {};
        }
        if (!v->is_string()) fail(fmt::format("\"{}\" must be a string", key));
        return std::string(v->get_string());
    }

    std::uint64_t number(std::string_view key, bool required = true) const {
        const auto* v = find(key);
        if (!v || v->is_null()) {
            if (required) fail(fmt::format("\"{}\" is required", key));
            return 0;
        }
        if (v->is_uint64()) return v->get_uint64();
        if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
        fail(fmt::format("\"{}\" must be a non-negative integer", key));
    }

    bool boolean(std::string_view key, bool fallback) const {
        const auto* v = find(key);
        if (!v || v->is_null()) return fallback;
        if (!v->is_bool()) fail(fmt::format("\"{}\" must be true or false", key));
        return v->get_bool();
    }

    position pos(std::string_view key) const {
        try {
            return position_from_wire(string(key, false));
        } catch (const error& e) {
            fail(e.what());
        }
    }

    std::optional<time_point> time(std::string_view key) const {
        const auto* v = find(key);
        if (!v || v->is_null()) return std::nullopt;
        if (!v->is_string()) fail(fmt::format("\"{}\" must be an RFC 3339 time", key));
        try {
            return laredo::json::parse_time_point(v->get_string());
        } catch (const error& e) {
            fail(e.what());
        }
    }

    const json::array& array(std::string_view key) const {
        const auto* v = find(key);
        if (!v || !v->is_array()) fail(fmt::format("\"{}\" must be an array", key));
        return v->get_array();
    }

    row row_of(std::string_view key, const schema_ptr& schema) const {
        const auto* v = find(key);
        if (!v || v->is_null()) return {};
        if (!v->is_object()) fail(fmt::format("\"{}\" must be an object", key));
        if (!schema) fail("a row arrived before the columns");
        try {
            return laredo::json::decode_row(v->get_object(), schema);
        } catch (const error& e) {
            fail(e.what());
        }
    }

  private:
    const json::object& o_;
    std::string_view type_;
    errc code_;
};

json::object parse_object(std::string_view text, errc code) {
    json::value v;
    try {
        v = laredo::json::parse(text);
    } catch (const error& e) {
        throw error(code, fmt::format("replication message is not JSON: {}", e.what()));
    }
    if (!v.is_object()) throw error(code, "replication message is not a JSON object");
    return std::move(v.get_object());
}

change_action action_of(const reader& r) {
    const auto a = r.string("action");
    if (a == "INSERT") return change_action::insert;
    if (a == "UPDATE") return change_action::update;
    if (a == "DELETE") return change_action::delete_;
    if (a == "TRUNCATE") return change_action::truncate;
    r.fail(fmt::format("unknown action \"{}\"", a));
}

sync_mode mode_of(const reader& r) {
    const auto m = r.string("mode");
    if (m == "FULL_SNAPSHOT") return sync_mode::full_snapshot;
    if (m == "DELTA") return sync_mode::delta;
    if (m == "DELTA_FROM_SNAPSHOT") return sync_mode::delta_from_snapshot;
    r.fail(fmt::format("unknown mode \"{}\"", m));
}

std::vector<column_definition> columns_of(const reader& r) {
    const auto* v = r.find("columns");
    if (!v) r.fail("\"columns\" is required");
    try {
        return laredo::json::decode_columns(*v);
    } catch (const error& e) {
        r.fail(e.what());
    }
}

journal_entry entry_of(const json::value& v, const schema_ptr& schema) {
    if (!v.is_object()) bad(errc::corrupt_data, "entries", "an entry must be an object");
    const reader r(v.get_object(), "entries", errc::corrupt_data);
    journal_entry e;
    e.sequence = r.number("sequence");
    e.pos = r.pos("source_position");
    e.commit_time = r.time("commit_time");
    e.action = action_of(r);
    e.old_row = r.row_of("old", schema);
    e.new_row = r.row_of("new", schema);
    if (const auto* u = r.find("unchanged"); u && !u->is_null()) {
        for (const auto& name : r.array("unchanged")) {
            if (!name.is_string()) r.fail("\"unchanged\" must list column names");
            e.unchanged.emplace_back(name.get_string());
        }
    }
    e.end_of_transaction = r.boolean("end_of_transaction", true);
    if ((e.action == change_action::insert || e.action == change_action::update) &&
        e.new_row.empty()) {
        r.fail(fmt::format("entry {}: {} needs \"new\"", e.sequence, to_string(e.action)));
    }
    if (e.action == change_action::delete_ && e.old_row.empty()) {
        r.fail(fmt::format("entry {}: DELETE needs \"old\"", e.sequence));
    }
    return e;
}

}  // namespace

// --- encode ---

std::string encode(const sync_request& m) {
    auto o = typed("sync");
    o["protocol_version"] = protocol_version;
    o["client_id"] = m.client_id;
    o["journal_id"] = m.journal_id;
    o["last_sequence"] = m.last_sequence;
    o["last_source_position"] = position_to_wire(m.last_position);
    o["last_snapshot_id"] = m.last_snapshot_id;
    json::array filters;
    for (const auto& f : m.filters) filters.push_back(to_json(f));
    o["filters"] = std::move(filters);
    return json::serialize(o);
}

std::string encode(const handshake& m) {
    auto o = typed("handshake");
    o["protocol_version"] = protocol_version;
    o["table"] = m.table.to_string();
    o["mode"] = to_string(m.mode);
    o["journal_id"] = m.journal_id;
    o["server_sequence"] = m.server_sequence;
    o["oldest_sequence"] = m.oldest_sequence;
    o["resume_sequence"] = m.resume_sequence;
    o["snapshot_id"] = m.snapshot_id;
    o["server_position"] = position_to_wire(m.server_position);
    o["columns"] = laredo::json::encode_columns(m.columns);
    return json::serialize(o);
}

std::string encode(const snapshot_begin& m) {
    auto o = typed("snapshot_begin");
    o["snapshot_id"] = m.snapshot_id;
    o["journal_id"] = m.journal_id;
    o["sequence"] = m.sequence;
    o["source_position"] = position_to_wire(m.pos);
    o["row_count"] = m.row_count;
    return json::serialize(o);
}

std::string encode(const snapshot_rows& m) {
    auto o = typed("snapshot_rows");
    json::array rows;
    rows.reserve(m.rows.size());
    for (const auto& r : m.rows) rows.push_back(laredo::json::encode_row(r));
    o["rows"] = std::move(rows);
    return json::serialize(o);
}

std::string encode(const snapshot_end& m) {
    auto o = typed("snapshot_end");
    o["snapshot_id"] = m.snapshot_id;
    o["sequence"] = m.sequence;
    o["source_position"] = position_to_wire(m.pos);
    o["rows_sent"] = m.rows_sent;
    return json::serialize(o);
}

std::string encode_entry(const journal_entry& e) {
    json::object o;
    o["sequence"] = e.sequence;
    o["source_position"] = position_to_wire(e.pos);
    o["commit_time"] = time_or_null(e.commit_time);
    o["action"] = to_string(e.action);
    o["old"] = row_or_null(e.old_row);
    o["new"] = row_or_null(e.new_row);
    json::array unchanged;
    for (const auto& c : e.unchanged) unchanged.emplace_back(c);
    o["unchanged"] = std::move(unchanged);
    o["end_of_transaction"] = e.end_of_transaction;
    return json::serialize(o);
}

std::string assemble_entries(std::span<const std::string_view> encoded_entries,
                             std::uint64_t last_sequence, const position& last_position,
                             bool end_of_transaction) {
    std::size_t size = 128;
    for (const auto& e : encoded_entries) size += e.size() + 1;
    std::string out;
    out.reserve(size);
    out += R"({"type":"entries","entries":[)";
    for (std::size_t i = 0; i < encoded_entries.size(); ++i) {
        if (i) out += ',';
        out += encoded_entries[i];
    }
    out +=
        fmt::format(R"(],"last_sequence":{},"last_source_position":{},"end_of_transaction":{}}})",
                    last_sequence, json::serialize(json::value(position_to_wire(last_position))),
                    end_of_transaction);
    return out;
}

std::string encode(const entries& m) {
    std::vector<std::string> encoded;
    encoded.reserve(m.items.size());
    for (const auto& e : m.items) encoded.push_back(encode_entry(e));
    std::vector<std::string_view> views(encoded.begin(), encoded.end());
    return assemble_entries(views, m.last_sequence, m.last_position, m.end_of_transaction);
}

std::string encode(const heartbeat& m) {
    auto o = typed("heartbeat");
    o["sequence"] = m.sequence;
    o["source_position"] = position_to_wire(m.pos);
    o["server_time"] = laredo::json::format_time_point(m.server_time);
    return json::serialize(o);
}

std::string encode(const schema_change& m) {
    auto o = typed("schema_change");
    o["columns"] = laredo::json::encode_columns(m.columns);
    return json::serialize(o);
}

std::string encode(const goaway& m) {
    auto o = typed("goaway");
    o["reason"] = m.reason;
    o["deadline"] = laredo::json::format_time_point(m.deadline);
    json::array to;
    for (const auto& a : m.reconnect_to) to.emplace_back(a);
    o["reconnect_to"] = std::move(to);
    return json::serialize(o);
}

std::string encode(const error_message& m) {
    auto o = typed("error");
    o["code"] = m.code;
    o["message"] = m.message;
    return json::serialize(o);
}

// --- decode ---

sync_request decode_sync_request(std::string_view text) {
    const auto o = parse_object(text, errc::invalid_argument);
    const reader r(o, "sync", errc::invalid_argument);
    if (r.string("type") != "sync") r.fail("the first message must be of type \"sync\"");
    if (const auto version = r.number("protocol_version"); version != protocol_version) {
        r.fail(fmt::format("protocol_version {} is not supported (this server speaks {})", version,
                           protocol_version));
    }
    sync_request m;
    m.client_id = r.string("client_id", false);
    m.journal_id = r.string("journal_id", false);
    m.last_sequence = r.number("last_sequence", false);
    m.last_position = r.pos("last_source_position");
    m.last_snapshot_id = r.string("last_snapshot_id", false);
    if (const auto* f = r.find("filters"); f && !f->is_null()) {
        const auto& list = r.array("filters");
        for (std::size_t i = 0; i < list.size(); ++i) {
            m.filters.push_back(filter_from_json(list[i], i));
        }
    }
    return m;
}

server_message decode_server_message(std::string_view text, const schema_ptr& schema) {
    const auto o = parse_object(text, errc::corrupt_data);
    const reader top(o, "?", errc::corrupt_data);
    const auto type = top.string("type");
    const reader r(o, type, errc::corrupt_data);
    if (type == "handshake") {
        handshake m;
        m.table = table_identifier::parse(r.string("table"));
        m.mode = mode_of(r);
        m.journal_id = r.string("journal_id");
        m.server_sequence = r.number("server_sequence");
        m.oldest_sequence = r.number("oldest_sequence");
        m.resume_sequence = r.number("resume_sequence");
        m.snapshot_id = r.string("snapshot_id", false);
        m.server_position = r.pos("server_position");
        m.columns = columns_of(r);
        return m;
    }
    if (type == "snapshot_begin") {
        return snapshot_begin{r.string("snapshot_id"), r.string("journal_id"), r.number("sequence"),
                              r.pos("source_position"), r.number("row_count")};
    }
    if (type == "snapshot_rows") {
        if (!schema) r.fail("rows arrived before the columns");
        snapshot_rows m;
        const auto& rows = r.array("rows");
        m.rows.reserve(rows.size());
        for (const auto& v : rows) {
            if (!v.is_object()) r.fail("a row must be an object");
            try {
                m.rows.push_back(laredo::json::decode_row(v.get_object(), schema));
            } catch (const error& e) {
                r.fail(e.what());
            }
        }
        return m;
    }
    if (type == "snapshot_end") {
        return snapshot_end{r.string("snapshot_id"), r.number("sequence"), r.pos("source_position"),
                            r.number("rows_sent")};
    }
    if (type == "entries") {
        entries m;
        const auto& list = r.array("entries");
        m.items.reserve(list.size());
        for (const auto& v : list) m.items.push_back(entry_of(v, schema));
        m.last_sequence = r.number("last_sequence");
        m.last_position = r.pos("last_source_position");
        m.end_of_transaction = r.boolean("end_of_transaction", true);
        return m;
    }
    if (type == "heartbeat") {
        return heartbeat{r.number("sequence"), r.pos("source_position"),
                         r.time("server_time").value_or(time_point{})};
    }
    if (type == "schema_change") return schema_change{columns_of(r)};
    if (type == "goaway") {
        goaway m;
        m.reason = r.string("reason", false);
        m.deadline = r.time("deadline").value_or(time_point{});
        if (const auto* to = r.find("reconnect_to"); to && !to->is_null()) {
            for (const auto& a : r.array("reconnect_to")) {
                if (!a.is_string()) r.fail("\"reconnect_to\" must list addresses");
                m.reconnect_to.emplace_back(a.get_string());
            }
        }
        return m;
    }
    if (type == "error") return error_message{r.string("code"), r.string("message", false)};
    r.fail("unknown message type");
}

}  // namespace laredo::replica
