#include "line_protocol.hpp"

#include <fmt/format.h>

#include <charconv>
#include <map>

namespace laredo::examples::line_protocol {

namespace {

[[noreturn]] void bad(const std::string& problem) { throw malformed(problem); }

std::vector<std::string_view> words_of(std::string_view line) {
    std::vector<std::string_view> words;
    for (std::size_t at = 0; at <= line.size();) {
        const auto space = std::min(line.find(' ', at), line.size());
        words.push_back(line.substr(at, space - at));
        at = space + 1;
    }
    return words;
}

std::uint64_t number_of(std::string_view word) {
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), n);
    if (ec != std::errc{} || end != word.data() + word.size() || word.empty())
        bad(fmt::format("\"{}\" is not a change number", word));
    return n;
}

table_identifier table_of(std::string_view word) {
    try {
        return table_identifier::parse(word);
    } catch (const std::exception&) {
        bad(fmt::format("\"{}\" is not schema.table", word));
    }
}

void expect_words(const std::vector<std::string_view>& w, std::size_t n, const char* shape) {
    if (w.size() != n) bad(fmt::format("expected {}", shape));
}

std::vector<field> fields_of(const std::vector<std::string_view>& w, std::size_t first) {
    std::vector<field> fields;
    for (auto i = first; i < w.size(); ++i) {
        const auto eq = w[i].find('=');
        const auto name = w[i].substr(0, eq);
        if (name.empty()) bad(fmt::format("\"{}\" has no column name", w[i]));
        if (eq == std::string_view::npos)
            fields.emplace_back(std::string(name), std::nullopt);
        else
            fields.emplace_back(std::string(name), decode(w[i].substr(eq + 1)));
    }
    return fields;
}

std::vector<column_definition> columns_of(const std::vector<std::string_view>& w) {
    std::vector<column_definition> columns;
    int key = 0;
    for (std::size_t i = 2; i < w.size(); ++i) {
        const bool is_key = w[i].ends_with('*');
        column_definition c;
        c.name = std::string(is_key ? w[i].substr(0, w[i].size() - 1) : w[i]);
        if (c.name.empty()) bad("a column without a name");
        c.type = "text";
        c.nullable = !is_key;
        c.primary_key = is_key;
        c.ordinal_position = static_cast<int>(columns.size()) + 1;
        c.primary_key_ordinal = is_key ? ++key : 0;
        columns.push_back(std::move(c));
    }
    if (key == 0) bad("no key column (mark key columns with *)");
    return columns;
}

}  // namespace

message parse(std::string_view line) {
    if (line.ends_with('\r')) line.remove_suffix(1);
    const auto w = words_of(line);
    message m;
    const auto verb = w[0];
    if (verb == "BEGIN" || verb == "COMMIT") {
        expect_words(w, 1, verb == "BEGIN" ? "BEGIN alone" : "COMMIT alone");
        m.what = verb == "BEGIN" ? message::kind::begin : message::kind::commit;
    } else if (verb == "COLUMNS") {
        if (w.size() < 3) bad("expected COLUMNS schema.table column...");
        m.what = message::kind::columns;
        m.table = table_of(w[1]);
        m.columns = columns_of(w);
    } else if (verb == "ROW") {
        if (w.size() < 2) bad("expected ROW schema.table column=value...");
        m.what = message::kind::row;
        m.table = table_of(w[1]);
        m.fields = fields_of(w, 2);
    } else if (verb == "END") {
        expect_words(w, 2, "END change-number");
        m.what = message::kind::end;
        m.number = number_of(w[1]);
    } else if (verb == "HISTORY") {
        expect_words(w, 3, "HISTORY acked-number|- newest-number");
        m.what = message::kind::history;
        if (w[1] != "-") m.acked = number_of(w[1]);
        m.number = number_of(w[2]);
    } else if (verb == "ERROR") {
        if (w.size() < 2) bad("expected ERROR CODE message");
        m.what = message::kind::error;
        m.error_code = std::string(w[1]);
        m.error_text = std::string(line.substr(std::min(line.size(), 7 + w[1].size())));
    } else if (!verb.empty() && verb.front() >= '0' && verb.front() <= '9') {
        static const std::map<std::string_view, change_action> actions{
            {"INSERT", change_action::insert},
            {"UPDATE", change_action::update},
            {"DELETE", change_action::delete_},
            {"TRUNCATE", change_action::truncate}};
        if (w.size() < 3) bad("expected number ACTION schema.table column=value...");
        const auto action = actions.find(w[1]);
        if (action == actions.end()) bad(fmt::format("unknown action \"{}\"", w[1]));
        m.what = message::kind::change;
        m.number = number_of(w[0]);
        m.action = action->second;
        m.table = table_of(w[2]);
        m.fields = fields_of(w, 3);
        if (m.action == change_action::truncate && !m.fields.empty())
            bad("TRUNCATE takes no columns");
    } else {
        bad(fmt::format("unknown message \"{}\"", verb));
    }
    return m;
}

row to_row(const schema_ptr& schema, const std::vector<field>& fields, const value& missing) {
    std::vector<value> values(schema->size(), missing);
    for (const auto& [name, text] : fields) {
        const auto column = schema->index_of(name);
        if (!column) bad(fmt::format("no column \"{}\"", name));
        values[*column] = text ? value(*text) : value();
    }
    for (const auto key : schema->key_indexes()) {
        if (values[key].is_null() || values[key].is_unchanged())
            bad(fmt::format("the key column \"{}\" is missing", schema->column(key).name));
    }
    return row(schema, std::move(values));
}

std::string encode(std::string_view raw) {
    std::string out;
    for (const unsigned char c : raw) {
        if (c <= ' ' || c == '%' || c == '=' || c == 0x7f)
            out += fmt::format("%{:02X}", c);
        else
            out += static_cast<char>(c);
    }
    return out;
}

std::string decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        unsigned byte = 0;
        const auto* hex = text.data() + i + 1;
        const auto [end, ec] =
            std::from_chars(hex, hex + std::min<std::size_t>(2, text.size() - i - 1), byte, 16);
        if (ec != std::errc{} || end != hex + 2) bad(fmt::format("bad escape in \"{}\"", text));
        out += static_cast<char>(byte);
        i += 2;
    }
    return out;
}

std::string format_field(const field& f) {
    return f.second ? f.first + "=" + encode(*f.second) : f.first;
}

}  // namespace laredo::examples::line_protocol
