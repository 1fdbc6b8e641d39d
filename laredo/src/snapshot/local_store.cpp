#include "laredo/snapshot/local_store.hpp"

#include "file_io.hpp"
#include "laredo/error.hpp"
#include "laredo/json/values.hpp"
#include "laredo/snapshot/jsonl_serializer.hpp"
#include "metadata.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <mutex>
#include <new>
#include <system_error>
#include <utility>

namespace laredo::snapshots {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view metadata_name = "metadata.json";
constexpr std::size_t metadata_limit = 64 * 1024 * 1024;
constexpr std::size_t max_id_length = 200;  // leaves room for ".tmp-" in NAME_MAX
constexpr std::size_t max_file_stem_length = 120;
// Prefixes of folders that are not (yet, or any more) snapshots. Ids never start with '.', so
// ".tmp-.rm-{id}" cannot collide with the ".tmp-{id}" of a save.
constexpr std::string_view temp_prefix = ".tmp-";
constexpr std::string_view trash_prefix = ".tmp-.rm-";

std::string in_quotes(std::string_view text) {
    return fmt::format("\"{}\"", json::sanitize_utf8(text));
}

// "0001-pg_public.users_memory.indexed.jsonl": the index keeps names unique and keeps them from
// starting with '.', the rest is the pipeline id with anything but [A-Za-z0-9._-] replaced.
std::string file_name_for(std::size_t index, std::string_view pipeline_id,
                          std::string_view extension) {
    std::string stem;
    for (const char c : pipeline_id.substr(0, max_file_stem_length)) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        stem += ok ? c : '_';
    }
    return fmt::format("{:04}-{}{}", index + 1, stem, extension);
}

std::uint64_t fingerprint_of(const snapshot_table& t) {
    if (t.schema_fingerprint != 0) return t.schema_fingerprint;
    if (t.info.columns.empty() && !t.rows.empty() && !t.rows.front().empty()) {
        return t.rows.front().schema()->fingerprint();
    }
    return row_schema(t.info.columns).fingerprint();
}

void require_utf8(std::string_view text, std::string_view what) {
    if (!json::is_valid_utf8(text)) {
        throw error(errc::invalid_argument, fmt::format("snapshot: {} is not valid UTF-8", what));
    }
}

void require_utf8(const std::map<std::string, std::string>& m, std::string_view what) {
    for (const auto& [k, v] : m) {
        require_utf8(k, fmt::format("a key of {}", what));
        require_utf8(v, fmt::format("the value of {} {}", what, in_quotes(k)));
    }
}

void remove_quietly(const fs::path& p) noexcept {
    std::error_code ec;
    fs::remove_all(p, ec);
}

bool entry_exists(const fs::path& p) {
    std::error_code ec;
    const auto st = fs::symlink_status(p, ec);
    return !ec && st.type() != fs::file_type::not_found;
}

}  // namespace

local_store::local_store(fs::path base, std::shared_ptr<const serializer> format)
    : base_(std::move(base)),
      format_(format ? std::move(format) : std::make_shared<const jsonl_serializer>()) {
    // Leftovers of saves and removals a crash interrupted.
    std::error_code ec;
    for (fs::directory_iterator it(base_, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().filename().string().starts_with(temp_prefix)) remove_quietly(it->path());
    }
}

void local_store::check_id(const std::string& id) {
    if (id.empty()) throw error(errc::invalid_argument, "snapshot id is empty");
    if (id.size() > max_id_length) {
        throw error(errc::invalid_argument,
                    fmt::format("snapshot id {}... is longer than {} characters",
                                in_quotes(id.substr(0, 40)), max_id_length));
    }
    if (id.front() == '.') {
        throw error(errc::invalid_argument,
                    fmt::format("snapshot id {} starts with '.'", in_quotes(id)));
    }
    if (!detail::is_safe_name(id)) {
        throw error(
            errc::invalid_argument,
            fmt::format("snapshot id {} has characters outside [A-Za-z0-9._-]", in_quotes(id)));
    }
}

snapshot_descriptor local_store::save(const snapshot& s) {
    const auto& id = s.descriptor.id;
    check_id(id);
    require_utf8(s.descriptor.labels, "the labels");
    require_utf8(s.descriptor.source_positions, "the source positions");
    // metadata.json repeats these whatever the serializer does with them.
    for (const auto& t : s.tables) {
        require_utf8(t.pipeline_id, "a pipeline id");
        require_utf8(t.source_id, "a source id");
        require_utf8(t.info.table.schema, "a schema name");
        require_utf8(t.info.table.table, "a table name");
        require_utf8(t.info.target_type, "a target type");
        require_utf8(t.position, "a position");
    }

    const auto final_dir = base_ / id;
    {
        std::unique_lock lock(lock_);
        if (saving_.contains(id) || entry_exists(final_dir)) {
            throw error(errc::invalid_argument,
                        fmt::format("snapshot {} already exists", in_quotes(id)));
        }
        saving_.insert(id);
    }
    const auto temp_dir = base_ / (std::string(temp_prefix) + id);
    bool renamed = false;
    try {
        std::error_code ec;
        fs::create_directories(base_, ec);
        if (ec) detail::throw_io(ec.value(), "creating " + base_.string());
        remove_quietly(temp_dir);
        fs::create_directory(temp_dir, ec);
        if (ec) detail::throw_io(ec.value(), "creating " + temp_dir.string());

        detail::metadata m;
        auto& d = m.descriptor;
        d.id = id;
        d.created_at = std::chrono::time_point_cast<std::chrono::microseconds>(
            s.descriptor.created_at == std::chrono::system_clock::time_point{}
                ? std::chrono::system_clock::now()
                : s.descriptor.created_at);
        d.labels = s.descriptor.labels;
        d.source_positions = s.descriptor.source_positions;
        d.format = format_->format();

        for (std::size_t i = 0; i < s.tables.size(); ++i) {
            const auto& t = s.tables[i];
            detail::table_file f{file_name_for(i, t.pipeline_id, format_->file_extension()), 0};
            detail::file_writer out(temp_dir / f.name);
            format_->write(t, out);
            out.finish();
            f.crc32c = out.crc();

            snapshot_descriptor::table_summary summary;
            summary.pipeline_id = t.pipeline_id;
            summary.source_id = t.source_id;
            summary.table = t.info.table;
            summary.target_type = t.info.target_type;
            summary.position = t.position;
            summary.row_count = t.rows.size();
            summary.schema_fingerprint = fingerprint_of(t);
            summary.size_bytes = out.size();
            d.row_count += summary.row_count;
            d.size_bytes += summary.size_bytes;
            d.tables.push_back(std::move(summary));
            m.files.push_back(std::move(f));
        }
        // Last: a folder with metadata.json has all its table files.
        detail::write_file(temp_dir / metadata_name, detail::encode_metadata(m));
        detail::sync_directory(temp_dir);

        {
            std::unique_lock lock(lock_);
            renamed = detail::rename_no_replace(temp_dir, final_dir);
            saving_.erase(id);
        }
        if (!renamed) {
            throw error(errc::invalid_argument,
                        fmt::format("snapshot {} already exists", in_quotes(id)));
        }
        detail::sync_directory(base_);
        return d;
    } catch (...) {
        if (!renamed) {
            remove_quietly(temp_dir);
            std::unique_lock lock(lock_);
            saving_.erase(id);
        }
        throw;
    }
}

namespace {

detail::metadata read_metadata(const fs::path& dir, const std::string& id) {
    const auto name = fmt::format("snapshot {}: {}", in_quotes(id), metadata_name);
    const auto path = dir / metadata_name;
    if (!entry_exists(path)) {
        throw error(errc::corrupt_data, fmt::format("{} is missing", name));
    }
    auto m = detail::decode_metadata(detail::read_file(path, metadata_limit), name);
    if (m.descriptor.id != id) {
        throw error(errc::corrupt_data,
                    fmt::format("{}: it names snapshot {}", name, in_quotes(m.descriptor.id)));
    }
    return m;
}

// The file must say what metadata.json says of it.
void check_agrees(const snapshot_table& t, const snapshot_descriptor::table_summary& s,
                  const std::string& name) {
    const auto disagree = [&](std::string_view what, const std::string& meta,
                              const std::string& file) {
        throw error(errc::corrupt_data,
                    fmt::format("{}: metadata.json says {} {}, the file says {}", name, what,
                                in_quotes(meta), in_quotes(file)));
    };
    if (t.pipeline_id != s.pipeline_id) disagree("pipeline", s.pipeline_id, t.pipeline_id);
    if (t.source_id != s.source_id) disagree("source", s.source_id, t.source_id);
    if (t.info.table != s.table) disagree("table", s.table.to_string(), t.info.table.to_string());
    if (t.info.target_type != s.target_type) {
        disagree("target type", s.target_type, t.info.target_type);
    }
    if (t.position != s.position) disagree("position", s.position, t.position);
    if (t.rows.size() != s.row_count) {
        throw error(errc::corrupt_data,
                    fmt::format("{}: row count mismatch: metadata.json says {} rows, the file "
                                "has {}",
                                name, s.row_count, t.rows.size()));
    }
    if (t.schema_fingerprint != s.schema_fingerprint) {
        throw error(errc::schema_mismatch,
                    fmt::format("{}: schema fingerprint mismatch: metadata.json says {}, the "
                                "file says {}",
                                name, json::to_hex(s.schema_fingerprint),
                                json::to_hex(t.schema_fingerprint)));
    }
}

}  // namespace

snapshot local_store::load(const std::string& id) const {
    check_id(id);
    std::shared_lock lock(lock_);
    const auto dir = base_ / id;
    if (!entry_exists(dir))
        throw error(errc::invalid_argument, fmt::format("unknown snapshot {}", in_quotes(id)));
    auto m = read_metadata(dir, id);
    if (m.descriptor.format != format_->format()) {
        throw error(errc::unsupported,
                    fmt::format("snapshot {} is in format {}; this store reads {}", in_quotes(id),
                                in_quotes(m.descriptor.format), in_quotes(format_->format())));
    }

    snapshot s;
    s.tables.reserve(m.files.size());
    for (std::size_t i = 0; i < m.files.size(); ++i) {
        const auto& f = m.files[i];
        const auto& summary = m.descriptor.tables[i];
        const auto name = fmt::format("snapshot {}: {}", in_quotes(id), f.name);
        const auto path = dir / f.name;
        if (!entry_exists(path)) {
            throw error(errc::corrupt_data, fmt::format("{}: the file of pipeline {} is missing",
                                                        name, in_quotes(summary.pipeline_id)));
        }
        detail::file_reader in(path);
        if (in.file_size() != summary.size_bytes) {
            throw error(errc::corrupt_data,
                        fmt::format("{}: size mismatch: metadata.json says {} bytes, the file has "
                                    "{} (truncated or overwritten)",
                                    name, summary.size_bytes, in.file_size()));
        }
        const auto check_checksum = [&] {
            in.drain();
            if (in.crc() != f.crc32c) {
                throw error(errc::corrupt_data,
                            fmt::format("{}: checksum mismatch: metadata.json says crc32c {}, the "
                                        "file has {}",
                                        name, json::to_hex(f.crc32c), json::to_hex(in.crc())));
            }
        };
        snapshot_table t;
        try {
            t = format_->read(in, name);
        } catch (const error&) {
            // A damaged byte often breaks the format first; the checksum names the real cause.
            check_checksum();
            throw;
        }
        check_checksum();
        check_agrees(t, summary, name);
        s.tables.push_back(std::move(t));
    }
    s.descriptor = std::move(m.descriptor);
    return s;
}

std::vector<snapshot_descriptor> local_store::list_unlocked() const {
    std::vector<snapshot_descriptor> found;
    std::error_code ec;
    for (fs::directory_iterator it(base_, ec), end; !ec && it != end; it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (!detail::is_safe_name(name) || name.size() > max_id_length) continue;
        std::error_code type_ec;
        if (!it->is_directory(type_ec) || type_ec) continue;
        try {
            found.push_back(read_metadata(it->path(), name).descriptor);
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception&) {
            // Unreadable: not a complete snapshot of ours.
        }
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
        if (a.created_at != b.created_at) return a.created_at > b.created_at;
        return a.id > b.id;
    });
    return found;
}

std::vector<snapshot_descriptor> local_store::list() const {
    std::shared_lock lock(lock_);
    return list_unlocked();
}

snapshot_descriptor local_store::describe(const std::string& id) const {
    check_id(id);
    std::shared_lock lock(lock_);
    const auto dir = base_ / id;
    if (!entry_exists(dir))
        throw error(errc::invalid_argument, fmt::format("unknown snapshot {}", in_quotes(id)));
    return read_metadata(dir, id).descriptor;
}

void local_store::remove_unlocked(const std::string& id) {
    const auto dir = base_ / id;
    if (!entry_exists(dir))
        throw error(errc::invalid_argument, fmt::format("unknown snapshot {}", in_quotes(id)));
    // Renamed away first, so a crash part-way through never leaves a half-deleted snapshot that
    // still lists.
    const auto trash = base_ / (std::string(trash_prefix) + id);
    remove_quietly(trash);
    std::error_code ec;
    fs::rename(dir, trash, ec);
    if (ec) detail::throw_io(ec.value(), "renaming " + dir.string() + " to " + trash.string());
    detail::sync_directory(base_);
    fs::remove_all(trash, ec);
    if (ec) detail::throw_io(ec.value(), "removing " + trash.string());
}

void local_store::remove(const std::string& id) {
    check_id(id);
    std::unique_lock lock(lock_);
    remove_unlocked(id);
}

std::vector<std::string> local_store::prune(std::size_t keep) {
    std::unique_lock lock(lock_);
    const auto all = list_unlocked();
    std::vector<std::string> removed;
    for (std::size_t i = keep; i < all.size(); ++i) {
        remove_unlocked(all[i].id);
        removed.push_back(all[i].id);
    }
    return removed;
}

}  // namespace laredo::snapshots
