#include "change_log.hpp"

#include "csv_reader.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <string>

namespace laredo::examples {

namespace {
[[noreturn]] void bad_line(std::uint64_t line, std::string_view problem) {
    throw error(errc::corrupt_data, fmt::format("changes.log line {}: {}", line, problem));
}
}  // namespace

log_cursor log_cursor_at(const std::filesystem::path& log, std::uint64_t offset) {
    std::ifstream in(log, std::ios::binary);
    std::string before(offset, '\0');
    in.read(before.data(), static_cast<std::streamsize>(offset));
    before.resize(static_cast<std::size_t>(in.gcount()));
    return {offset, static_cast<std::uint64_t>(std::count(before.begin(), before.end(), '\n'))};
}

std::vector<change_event> read_change_log(const std::filesystem::path& log, log_cursor& cursor,
                                          const std::map<table_identifier, schema_ptr>& schemas,
                                          std::size_t max) {
    std::vector<change_event> out;
    std::ifstream in(log, std::ios::binary | std::ios::ate);
    if (!in) return out;
    if (static_cast<std::uint64_t>(in.tellg()) < cursor.offset) {
        throw error(errc::rebaseline_required,
                    fmt::format("{} shrank below offset {}", log.string(), cursor.offset));
    }
    in.seekg(static_cast<std::streamoff>(cursor.offset));
    // getline sets eof when it found no newline: that line is incomplete and waits.
    for (std::string text; out.size() < max && std::getline(in, text) && !in.eof();) {
        const log_cursor before = cursor;
        cursor.offset += text.size() + 1;
        ++cursor.line;
        if (!text.empty() && text.back() == '\r') text.pop_back();
        if (text.empty()) continue;
        std::optional<change_event> change;
        try {
            change = parse_change_line(text, cursor.line, schemas);
        } catch (const error&) {
            if (out.empty()) throw;
            cursor = before;  // the good lines go first; the bad one fails the next read
            break;
        }
        if (change) {
            change->pos = position::from_sequence(cursor.offset);
            out.push_back(std::move(*change));
        }
    }
    return out;
}

std::optional<change_event> parse_change_line(
    std::string_view text, std::uint64_t line,
    const std::map<table_identifier, schema_ptr>& schemas) {
    std::vector<std::string> f;
    try {
        f = *csv_reader(std::string(text)).next();
    } catch (const error& e) {
        bad_line(line, e.what());
    }
    static const std::map<std::string_view, change_action> actions{
        {"INSERT", change_action::insert},
        {"UPDATE", change_action::update},
        {"DELETE", change_action::delete_},
        {"TRUNCATE", change_action::truncate}};
    const auto action = actions.find(f[0]);
    if (action == actions.end()) bad_line(line, fmt::format("unknown action \"{}\"", f[0]));
    if (f.size() < 2) bad_line(line, "no table: expected ACTION,schema.table,column=value,...");
    change_event e;
    e.action = action->second;
    e.timestamp = std::chrono::system_clock::now();
    try {
        e.table = table_identifier::parse(f[1]);
    } catch (const error&) {
        bad_line(line, fmt::format("\"{}\" is not schema.table", f[1]));
    }
    const auto schema = schemas.find(e.table);
    if (schema == schemas.end()) return std::nullopt;
    if (e.action == change_action::truncate) {
        if (f.size() > 2) bad_line(line, "TRUNCATE takes no columns");
        return e;
    }
    const auto& s = schema->second;
    std::vector<value> values(s->size(),
                              e.action == change_action::update ? value::unchanged() : value{});
    for (std::size_t i = 2; i < f.size(); ++i) {
        const auto eq = f[i].find('=');
        if (eq == std::string::npos)
            bad_line(line, fmt::format("\"{}\" is not column=value", f[i]));
        const auto column = s->index_of(std::string_view(f[i]).substr(0, eq));
        if (!column)
            bad_line(line, fmt::format("{} has no column \"{}\"", f[1], f[i].substr(0, eq)));
        values[*column] = f[i].substr(eq + 1);
    }
    const std::size_t key = s->key_indexes().empty() ? 0 : s->key_indexes().front();
    if (values[key].is_null() || values[key].is_unchanged()) {
        bad_line(line, fmt::format("{} needs the key column \"{}\"", f[0], s->column(key).name));
    }
    (e.action == change_action::delete_ ? e.old_values : e.new_values) = row(s, std::move(values));
    return e;
}

}  // namespace laredo::examples
