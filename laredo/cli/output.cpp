#include "laredo/cli/output.hpp"

#include <boost/json/serialize.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>

namespace laredo::cli {

namespace json = boost::json;

std::size_t terminal_width() {
    if (const char* c = std::getenv("COLUMNS")) {
        char* end = nullptr;
        const long n = std::strtol(c, &end, 10);
        if (end != c && *end == '\0' && n >= 20 && n <= 10000) return static_cast<std::size_t>(n);
    }
    winsize w{};
    if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col >= 20)
        return w.ws_col;
    return 100;
}

const json::value* find_path(const json::value& v, std::string_view path) {
    const json::value* at = &v;
    while (!path.empty()) {
        const auto dot = path.find('.');
        const auto name = path.substr(0, dot);
        if (!at->is_object()) return nullptr;
        at = at->as_object().if_contains(name);
        if (!at) return nullptr;
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    }
    return at;
}

std::string text_of(const json::value& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return std::string(v.as_string());
    if (v.is_bool()) return v.as_bool() ? "yes" : "no";
    if (v.is_double()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.6g", v.as_double());
        return buf;
    }
    return json::serialize(v);
}

std::string text_at(const json::value& v, std::string_view path) {
    const auto* at = find_path(v, path);
    return at ? text_of(*at) : "-";
}

column field(std::string header, std::string path) {
    return {std::move(header), [path](const json::value& row) { return text_at(row, path); }};
}

std::size_t display_width(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

std::string fit(std::string_view text, std::size_t width) {
    // Control characters (a newline in a value) would break the layout.
    std::string clean;
    for (const char c : text) clean += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    if (display_width(clean) <= width) return clean;
    if (width == 0) return {};
    std::string out;
    std::size_t shown = 0;
    for (std::size_t i = 0; i < clean.size(); ++i) {
        const bool starts = (static_cast<unsigned char>(clean[i]) & 0xC0) != 0x80;
        if (starts && shown == width - 1) break;
        if (starts) ++shown;
        out += clean[i];
    }
    return out + "~";
}

std::string render_table(const std::vector<column>& columns, const json::array& rows,
                         std::size_t width) {
    std::vector<std::vector<std::string>> cells;
    cells.push_back({});
    for (const auto& c : columns) cells.back().push_back(c.header);
    for (const auto& r : rows) {
        cells.push_back({});
        for (const auto& c : columns) cells.back().push_back(fit(c.cell(r), 10000));
    }
    std::vector<std::size_t> widths(columns.size(), 0);
    for (const auto& line : cells)
        for (std::size_t i = 0; i < line.size(); ++i)
            widths[i] = std::max(widths[i], display_width(line[i]));
    const std::size_t gaps = columns.empty() ? 0 : 2 * (columns.size() - 1);
    auto total = [&] { return std::accumulate(widths.begin(), widths.end(), gaps); };
    // Narrow the widest column one character at a time: the short ones stay readable.
    while (total() > width) {
        auto widest = std::max_element(widths.begin(), widths.end());
        if (*widest <= 3) break;
        --*widest;
    }
    std::string out;
    for (const auto& line : cells) {
        std::string text;
        for (std::size_t i = 0; i < line.size(); ++i) {
            auto cell = fit(line[i], widths[i]);
            text += cell;
            if (i + 1 < line.size()) text += std::string(widths[i] - display_width(cell) + 2, ' ');
        }
        while (!text.empty() && text.back() == ' ') text.pop_back();
        out += text + "\n";
    }
    return out;
}

namespace {

void flatten(const json::value& v, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
    if (v.is_object() && !v.as_object().empty()) {
        for (const auto& [k, x] : v.as_object())
            flatten(x, prefix.empty() ? std::string(k) : prefix + "." + std::string(k), out);
        return;
    }
    out.emplace_back(prefix, text_of(v));
}

}  // namespace

std::string render_fields(const json::value& v, std::size_t width) {
    std::vector<std::pair<std::string, std::string>> lines;
    flatten(v, "", lines);
    std::size_t key_width = 0;
    for (const auto& [k, _] : lines) key_width = std::max(key_width, display_width(k));
    std::string out;
    for (const auto& [k, value] : lines) {
        std::string line = k + ":" + std::string(key_width - display_width(k) + 1, ' ') + value;
        out += fit(line, width) + "\n";
    }
    return out;
}

void print_json_body(const std::string& body) {
    std::fwrite(body.data(), 1, body.size(), stdout);
    if (body.empty() || body.back() != '\n') std::fputc('\n', stdout);
}

void print_json(const json::value& v) { print_json_body(json::serialize(v)); }

}  // namespace laredo::cli
