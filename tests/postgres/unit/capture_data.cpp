#include "capture_data.hpp"

#include "laredo/sources/postgres/replication_framing.hpp"

#include <fstream>
#include <stdexcept>
#include <variant>

namespace laredo::sources::postgres::testing {

std::string data_path(std::string_view name) {
    return std::string(LAREDO_PG_TEST_DATA_DIR) + "/" + std::string(name);
}

namespace {
std::ifstream open(std::string_view name) {
    std::ifstream in(data_path(name), std::ios::binary);
    if (!in) throw std::runtime_error("cannot read test data " + data_path(name));
    return in;
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error(std::string("bad hex digit in test data: ") + c);
}
}  // namespace

std::vector<std::string> load_capture(std::string_view name) {
    auto in = open(name);
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line.size() % 2 != 0) throw std::runtime_error("odd hex line in " + std::string(name));
        std::string bytes(line.size() / 2, '\0');
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            bytes[i] = static_cast<char>((hex(line[2 * i]) << 4) | hex(line[2 * i + 1]));
        }
        out.push_back(std::move(bytes));
    }
    return out;
}

std::vector<std::string> load_payloads(std::string_view name) {
    std::vector<std::string> out;
    for (const auto& m : load_capture(name)) {
        const auto parsed = parse_replication_message(m);
        if (const auto* x = std::get_if<xlog_data>(&parsed)) out.emplace_back(x->payload);
    }
    return out;
}

std::vector<std::string> payloads_with_tag(const std::vector<std::string>& payloads, char tag) {
    std::vector<std::string> out;
    for (const auto& p : payloads)
        if (!p.empty() && p[0] == tag) out.push_back(p);
    return out;
}

namespace {
std::optional<std::string> unescape_copy_field(std::string_view f) {
    if (f == "\\N") return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] != '\\' || i + 1 == f.size()) {
            out += f[i];
            continue;
        }
        const char c = f[++i];
        switch (c) {
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
            default:
                if (c >= '0' && c <= '7') {
                    int v = 0;
                    int n = 0;
                    while (n < 3 && i < f.size() && f[i] >= '0' && f[i] <= '7') {
                        v = v * 8 + (f[i++] - '0');
                        ++n;
                    }
                    --i;
                    out += static_cast<char>(v);
                } else {
                    out += c;  // \\ and any other escaped character stand for themselves
                }
        }
    }
    return out;
}
}  // namespace

std::vector<std::vector<std::optional<std::string>>> load_copy_text(std::string_view name) {
    auto in = open(name);
    std::vector<std::vector<std::optional<std::string>>> rows;
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::optional<std::string>> fields;
        std::size_t start = 0;
        for (;;) {
            const auto tab = line.find('\t', start);
            fields.push_back(unescape_copy_field(std::string_view(line).substr(
                start, tab == std::string::npos ? tab : tab - start)));
            if (tab == std::string::npos) break;
            start = tab + 1;
        }
        rows.push_back(std::move(fields));
    }
    return rows;
}

}  // namespace laredo::sources::postgres::testing
