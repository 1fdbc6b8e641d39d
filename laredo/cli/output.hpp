#pragma once

// What the CLI prints: `--output json` is the API's JSON as it came (stable, for scripts);
// `--output table` is for people and fits the terminal's width (COLUMNS, else the tty's).

#include <boost/json/value.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::cli {

enum class output_format { table, json };

// COLUMNS when set, else the width of the terminal on stdout, else 100.
std::size_t terminal_width();

// The value at a dotted path ("baseline.rows_done"), or nullptr.
const boost::json::value* find_path(const boost::json::value& v, std::string_view path);

// A scalar as people read it: strings bare, null as "-", objects and arrays as compact JSON.
std::string text_of(const boost::json::value& v);
std::string text_at(const boost::json::value& v, std::string_view path);

// One column of a table: its header and how a row gives its cell.
struct column {
    std::string header;
    std::function<std::string(const boost::json::value&)> cell;
};
// A column showing the value at `path`.
column field(std::string header, std::string path);

// Rows under a header, columns two spaces apart, shrunk (longest first, cut with "~") until
// the whole line fits `width`.
std::string render_table(const std::vector<column>& columns, const boost::json::array& rows,
                         std::size_t width);
// "key: value" lines, nested objects flattened with dots, each cut to `width`.
std::string render_fields(const boost::json::value& v, std::size_t width);

// Display width of UTF-8 text (code points), and the text cut to `width` with a "~".
std::size_t display_width(std::string_view text);
std::string fit(std::string_view text, std::size_t width);

// The JSON exactly as the server sent it, with a final newline.
void print_json_body(const std::string& body);
void print_json(const boost::json::value& v);

}  // namespace laredo::cli
