#include "replica_file.hpp"

#include "laredo/error.hpp"
#include "laredo/json/values.hpp"
#include "laredo/replica/positions.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace laredo::replica::detail {

namespace json = boost::json;

namespace {

constexpr std::string_view format_name = "laredo.replica";
constexpr int format_version = 1;

[[noreturn]] void corrupt(const std::filesystem::path& path, std::size_t line,
                          std::string_view what) {
    throw error(errc::corrupt_data,
                fmt::format("replica file {}: line {}: {}", path.string(), line, what));
}

}  // namespace

void save_replica_file(const std::filesystem::path& path, const replica_file& f) {
    std::string text;
    json::object header;
    header["format"] = format_name;
    header["version"] = format_version;
    header["table"] = f.table.to_string();
    header["columns"] = laredo::json::encode_columns(f.columns);
    header["journal_id"] = f.journal_id;
    header["sequence"] = f.sequence;
    header["position"] = position_to_wire(f.pos);
    header["snapshot_id"] = f.snapshot_id;
    header["rows"] = f.rows.size();
    text += json::serialize(header);
    text += '\n';
    for (const auto& r : f.rows) {
        text += json::serialize(laredo::json::encode_row(r));
        text += '\n';
    }
    json::object trailer;
    trailer["trailer"] = format_name;
    trailer["rows"] = f.rows.size();
    trailer["crc32c"] = laredo::json::to_hex(laredo::json::crc32c(text));
    text += json::serialize(trailer);
    text += '\n';

    write_durably(path, text, "replica file");
}

void write_durably(const std::filesystem::path& path, std::string_view text,
                   std::string_view what) {
    const auto tmp = path.string() + ".tmp";
    std::FILE* out = std::fopen(tmp.c_str(), "wb");
    if (!out) {
        throw error(errc::transient,
                    fmt::format("{} {}: cannot write: {}", what, tmp, std::strerror(errno)));
    }
    const bool written = std::fwrite(text.data(), 1, text.size(), out) == text.size() &&
                         std::fflush(out) == 0 && ::fsync(fileno(out)) == 0;
    const int saved = errno;
    std::fclose(out);
    if (!written) {
        std::remove(tmp.c_str());
        throw error(errc::transient,
                    fmt::format("{} {}: write failed: {}", what, tmp, std::strerror(saved)));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        throw error(errc::transient,
                    fmt::format("{} {}: rename failed: {}", what, path.string(), ec.message()));
    }
}

std::optional<replica_file> load_replica_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
    if (lines.size() < 2) corrupt(path, lines.size(), "the file is truncated");
    const auto object_at = [&](std::size_t i) {
        json::value v;
        try {
            v = laredo::json::parse(lines[i]);
        } catch (const error& e) {
            corrupt(path, i + 1, e.what());
        }
        if (!v.is_object()) corrupt(path, i + 1, "not a JSON object");
        return v.get_object();
    };
    const auto trailer = object_at(lines.size() - 1);
    const auto* crc = trailer.if_contains("crc32c");
    if (!trailer.contains("trailer") || !crc || !crc->is_string()) {
        corrupt(path, lines.size(), "the trailer is missing (a truncated file)");
    }
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        sum = laredo::json::crc32c(lines[i], sum);
        sum = laredo::json::crc32c("\n", sum);
    }
    if (laredo::json::to_hex(sum) != std::string_view(crc->get_string())) {
        corrupt(path, lines.size(), "the checksum does not match");
    }
    const auto header = object_at(0);
    const auto text = [&](std::string_view key) -> std::string {
        const auto* v = header.if_contains(key);
        if (!v || !v->is_string()) corrupt(path, 1, fmt::format("\"{}\" is missing", key));
        return std::string(v->get_string());
    };
    if (text("format") != format_name) corrupt(path, 1, "not a laredo replica file");
    const auto* version = header.if_contains("version");
    if (!version || !version->is_int64() || version->get_int64() != format_version) {
        corrupt(path, 1, fmt::format("unknown version (this build reads {})", format_version));
    }
    replica_file f;
    try {
        f.table = table_identifier::parse(text("table"));
        f.columns = laredo::json::decode_columns(header.at("columns"));
        f.journal_id = text("journal_id");
        f.sequence = header.at("sequence").to_number<std::uint64_t>();
        f.pos = position_from_wire(text("position"));
        f.snapshot_id = text("snapshot_id");
    } catch (const error& e) {
        corrupt(path, 1, e.what());
    } catch (const std::exception& e) {
        corrupt(path, 1, e.what());
    }
    const auto schema = row_schema::make(f.columns);
    for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
        try {
            f.rows.push_back(laredo::json::decode_row(object_at(i), schema));
        } catch (const error& e) {
            corrupt(path, i + 1, e.what());
        }
    }
    return f;
}

}  // namespace laredo::replica::detail
