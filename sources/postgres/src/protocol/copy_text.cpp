#include "laredo/sources/postgres/copy_text.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

namespace laredo::sources::postgres {

namespace {

bool is_octal(char c) noexcept { return c >= '0' && c <= '7'; }

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Appends the unescaped form of `field` (which contains a backslash) to `out`.
void unescape(std::string_view field, std::size_t field_offset, std::string& out) {
    for (std::size_t i = 0; i < field.size(); ++i) {
        const char c = field[i];
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++i == field.size()) {
            throw error(errc::corrupt_data,
                        fmt::format("COPY text: line ends inside an escape at byte {}",
                                    field_offset + i - 1));
        }
        const char e = field[i];
        switch (e) {
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case 'v':
                out += '\v';
                break;
            case 'x': {
                int v = 0;
                int digits = 0;
                while (digits < 2 && i + 1 < field.size() && hex_value(field[i + 1]) >= 0) {
                    v = v * 16 + hex_value(field[++i]);
                    ++digits;
                }
                // "\x" without a digit is the letter x, as the server reads it.
                out += digits == 0 ? 'x' : static_cast<char>(v);
                break;
            }
            default:
                if (is_octal(e)) {
                    int v = e - '0';
                    for (int digits = 1;
                         digits < 3 && i + 1 < field.size() && is_octal(field[i + 1]); ++digits)
                        v = v * 8 + (field[++i] - '0');
                    out += static_cast<char>(v & 0xff);
                } else {
                    out += e;  // \\ and any other character stand for themselves
                }
        }
    }
}

}  // namespace

const std::vector<std::optional<std::string_view>>& copy_text_parser::parse(
    std::string_view line, std::size_t expected_fields) {
    fields_.clear();
    unescaped_.clear();
    escaped_.clear();
    std::size_t start = 0;
    for (;;) {
        const auto tab = line.find('\t', start);
        const auto end = tab == std::string_view::npos ? line.size() : tab;
        const auto field = line.substr(start, end - start);
        if (field == "\\N") {
            fields_.emplace_back(std::nullopt);
        } else if (field.find('\\') == std::string_view::npos) {
            fields_.emplace_back(field);
        } else {
            // The view is made once unescaped_ stops growing (it may move meanwhile).
            const std::size_t begin = unescaped_.size();
            unescape(field, start, unescaped_);
            escaped_.push_back({fields_.size(), begin, unescaped_.size()});
            fields_.emplace_back(std::string_view());
        }
        if (tab == std::string_view::npos) break;
        start = tab + 1;
    }
    for (const auto& e : escaped_)
        fields_[e.field] = std::string_view(unescaped_).substr(e.begin, e.end - e.begin);

    if (expected_fields != 0 && fields_.size() != expected_fields) {
        throw error(errc::corrupt_data, fmt::format("COPY text: a line has {} fields, expected {}",
                                                    fields_.size(), expected_fields));
    }
    return fields_;
}

std::optional<std::string_view> copy_text_parser::take_line(std::string_view& chunk) {
    if (chunk.empty()) return std::nullopt;
    const auto end = chunk.find('\n');
    if (end == std::string_view::npos) {
        throw error(errc::corrupt_data,
                    fmt::format("COPY text: a chunk ends with {} bytes of an unterminated line",
                                chunk.size()));
    }
    const auto line = chunk.substr(0, end);
    chunk.remove_prefix(end + 1);
    return line;
}

}  // namespace laredo::sources::postgres
