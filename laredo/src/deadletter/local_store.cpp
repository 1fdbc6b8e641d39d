#include "laredo/deadletter/local_store.hpp"

#include "file_io.hpp"
#include "record.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <fcntl.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>

namespace laredo::deadletter {

namespace fs = std::filesystem;
using detail::decoded_line;

namespace {

bool is_temporary(const std::string& name) {
    return name.size() > 1 && name.front() == '.' && name.ends_with(".jsonl.tmp");
}

}  // namespace

struct local_store::impl {
    // What the store knows of one pipeline's file, kept in step with it under the mutex.
    struct pipeline_file {
        fs::path path;
        std::uint64_t bytes = 0;  // the file's size
        std::size_t count = 0;    // readable letters
        std::uint64_t next_sequence = 1;
        bool torn_tail = false;  // the file ends inside a line: the next append starts anew
        bool exists = false;
        std::string refusal;  // set when a line must not be read past (see the header)
    };

    fs::path dir;
    local_store_options options;
    mutable std::mutex mutex;
    std::map<std::string, pipeline_file, std::less<>> files;
    std::uint64_t total_bytes = 0;

    impl(fs::path d, local_store_options o) : dir(std::move(d)), options(o) {}

    // Reads a file from the start: counts, the highest sequence, whether its tail is torn,
    // and the first line that must be refused.
    void scan(const std::string& id, pipeline_file& f) {
        std::uint64_t floor = 1;
        f.count = 0;
        f.refusal.clear();
        f.torn_tail = detail::for_each_line(f.path, [&](std::string_view text, std::size_t n) {
            const auto d = detail::decode_line(text, id);
            switch (d.what) {
                case decoded_line::kind::letter:
                    ++f.count;
                    floor = std::max(floor, d.letter.sequence + 1);
                    break;
                case decoded_line::kind::header:
                    floor = std::max(floor, d.next_sequence);
                    break;
                case decoded_line::kind::corrupt:
                    break;
                case decoded_line::kind::refused:
                    f.refusal = refusal_text(f, n, d.problem);
                    return false;
            }
            return true;
        });
        f.next_sequence = std::max(f.next_sequence, floor);
    }

    static std::string refusal_text(const pipeline_file& f, std::size_t line,
                                    std::string_view problem) {
        return fmt::format(
            "dead letters in {} line {}: {}; refusing to read the file (purge "
            "deletes it)",
            f.path.string(), line, problem);
    }

    pipeline_file& file_of(const std::string& id) {
        auto it = files.find(id);
        if (it == files.end()) {
            pipeline_file f;
            f.path = dir / local_store::file_name(id);
            it = files.emplace(id, std::move(f)).first;
        }
        return it->second;
    }

    const pipeline_file* find(const std::string& id) const {
        const auto it = files.find(id);
        return it == files.end() ? nullptr : &it->second;
    }

    static void check_readable(const pipeline_file& f) {
        if (!f.refusal.empty()) throw error(errc::corrupt_data, f.refusal);
    }

    // The letters of a file, oldest first, at most `limit` (0 = all).
    std::vector<dead_letter> read(const std::string& id, const pipeline_file& f,
                                  std::size_t limit) const {
        std::vector<dead_letter> out;
        std::string refusal;
        detail::for_each_line(f.path, [&](std::string_view text, std::size_t n) {
            auto d = detail::decode_line(text, id);
            if (d.what == decoded_line::kind::refused) {
                refusal = refusal_text(f, n, d.problem);
                return false;
            }
            if (d.what == decoded_line::kind::letter) out.push_back(std::move(d.letter));
            return limit == 0 || out.size() < limit;
        });
        if (!refusal.empty()) throw error(errc::corrupt_data, refusal);
        return out;
    }

    void sync_dir() {
        if (options.fsync) detail::sync_directory(dir);
    }
};

local_store::local_store(fs::path dir, local_store_options options)
    : impl_(std::make_unique<impl>(std::move(dir), options)) {
    auto& s = *impl_;
    detail::create_directories(s.dir);
    for (const auto& entry : detail::list_directory(s.dir)) {
        const std::string name = entry.path().filename().string();
        // A rewrite that crashed before its rename: the old file is still complete.
        if (is_temporary(name)) {
            detail::remove_file(entry.path());
            continue;
        }
        const std::string id = pipeline_of(name);
        std::error_code ignored;
        if (id.empty() || !entry.is_regular_file(ignored)) continue;
        auto& f = s.file_of(id);
        f.exists = true;
        f.bytes = detail::file_size(entry.path());
        s.total_bytes += f.bytes;
        s.scan(id, f);
    }
}

local_store::~local_store() = default;

std::uint64_t local_store::write(dead_letter letter) {
    auto& s = *impl_;
    file_name(letter.pipeline_id);  // refuses a bad id before anything happens
    if (letter.written_at == std::chrono::system_clock::time_point{})
        letter.written_at = std::chrono::system_clock::now();
    std::lock_guard lock(s.mutex);
    auto& f = s.file_of(letter.pipeline_id);
    impl::check_readable(f);
    letter.sequence = f.next_sequence;
    std::string line = detail::encode_letter(letter);
    if (f.torn_tail) line.insert(line.begin(), '\n');
    if (s.options.max_bytes != 0 && s.total_bytes + line.size() > s.options.max_bytes) {
        throw error(errc::buffer_overflow,
                    fmt::format("dead-letter store {} full: the letter for pipeline {} needs {} "
                                "bytes, {} of the limit of {} bytes are used",
                                s.dir.string(), letter.pipeline_id, line.size(), s.total_bytes,
                                s.options.max_bytes));
    }
    const bool created = !f.exists;
    detail::file out(f.path, O_APPEND);
    f.exists = true;
    const std::uint64_t before = out.size();
    try {
        out.write_all(line);
    } catch (...) {
        // Take back a partial line (disk full); if even that fails, the next append starts
        // on a fresh line and readers skip the fragment.
        try {
            out.truncate(before);
        } catch (...) {
            f.torn_tail = true;
        }
        const std::uint64_t now = out.size();
        s.total_bytes = s.total_bytes - f.bytes + now;
        f.bytes = now;
        throw;
    }
    // The line is in the file from here on: account for it even if fsync fails, so its
    // sequence is never handed out twice.
    s.total_bytes = s.total_bytes - f.bytes + before + line.size();
    f.bytes = before + line.size();
    f.torn_tail = false;
    ++f.count;
    ++f.next_sequence;
    if (s.options.fsync) {
        out.sync();
        if (created) s.sync_dir();
    }
    return letter.sequence;
}

std::vector<dead_letter> local_store::list(const std::string& pipeline_id,
                                           std::size_t limit) const {
    const auto& s = *impl_;
    std::lock_guard lock(s.mutex);
    const auto* f = s.find(pipeline_id);
    if (!f || !f->exists) return {};
    impl::check_readable(*f);
    return s.read(pipeline_id, *f, limit);
}

std::size_t local_store::count(const std::string& pipeline_id) const {
    const auto& s = *impl_;
    std::lock_guard lock(s.mutex);
    const auto* f = s.find(pipeline_id);
    if (!f) return 0;
    impl::check_readable(*f);
    return f->count;
}

std::vector<std::string> local_store::pipelines() const {
    const auto& s = *impl_;
    std::lock_guard lock(s.mutex);
    std::vector<std::string> out;
    for (const auto& [id, f] : s.files) {
        // A refused file is listed: an operator must see it to purge it.
        if (f.count > 0 || !f.refusal.empty()) out.push_back(id);
    }
    return out;
}

void local_store::remove_through(const std::string& pipeline_id, std::uint64_t sequence) {
    auto& s = *impl_;
    std::lock_guard lock(s.mutex);
    const auto it = s.files.find(pipeline_id);
    if (it == s.files.end() || !it->second.exists) return;
    auto& f = it->second;
    impl::check_readable(f);

    // The kept lines verbatim (their checksums stay valid); corrupt lines go, having no
    // readable content.
    std::string content = detail::encode_header(pipeline_id, f.next_sequence);
    std::size_t kept = 0, dropped = 0;
    std::string refusal;
    const bool torn = detail::for_each_line(f.path, [&](std::string_view text, std::size_t n) {
        const auto d = detail::decode_line(text, pipeline_id);
        if (d.what == decoded_line::kind::refused) {
            refusal = impl::refusal_text(f, n, d.problem);
            return false;
        }
        if (d.what == decoded_line::kind::letter && d.letter.sequence > sequence) {
            content.append(text);
            content += '\n';
            ++kept;
        } else if (d.what != decoded_line::kind::header) {
            ++dropped;
        }
        return true;
    });
    if (!refusal.empty()) {
        f.refusal = refusal;
        throw error(errc::corrupt_data, refusal);
    }
    if (dropped == 0 && !torn) return;  // nothing to remove

    // Built in steps: g++ 12 -O2 reports a false -Wrestrict on "." + string + ".tmp".
    std::string temp_name = f.path.filename().string();
    temp_name.insert(0, 1, '.');
    temp_name += ".tmp";
    const fs::path temp = s.dir / temp_name;
    try {
        detail::file out(temp, O_TRUNC);
        out.write_all(content);
        if (s.options.fsync) out.sync();
    } catch (...) {
        std::error_code ignored;
        fs::remove(temp, ignored);
        throw;
    }
    try {
        detail::rename_file(temp, f.path);
    } catch (...) {
        std::error_code ignored;
        fs::remove(temp, ignored);
        throw;
    }
    s.total_bytes = s.total_bytes - f.bytes + content.size();
    f.bytes = content.size();
    f.count = kept;
    f.torn_tail = false;
    s.sync_dir();
}

std::size_t local_store::purge(const std::string& pipeline_id) {
    auto& s = *impl_;
    std::lock_guard lock(s.mutex);
    const auto it = s.files.find(pipeline_id);
    if (it == s.files.end()) return 0;
    auto& f = it->second;
    const std::size_t n = f.count;
    if (f.exists) {
        detail::remove_file(f.path);
        s.sync_dir();
    }
    s.total_bytes -= f.bytes;
    // The entry stays: this process keeps the pipeline's sequences increasing.
    f.bytes = 0;
    f.count = 0;
    f.torn_tail = false;
    f.exists = false;
    f.refusal.clear();
    return n;
}

std::uint64_t local_store::bytes_used() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->total_bytes;
}

std::uint64_t local_store::max_bytes() const noexcept { return impl_->options.max_bytes; }

const std::filesystem::path& local_store::directory() const noexcept { return impl_->dir; }

std::size_t local_store::corrupt_lines(const std::string& pipeline_id) const {
    const auto& s = *impl_;
    std::lock_guard lock(s.mutex);
    const auto* f = s.find(pipeline_id);
    if (!f || !f->exists) return 0;
    std::size_t n = 0;
    detail::for_each_line(f->path, [&](std::string_view text, std::size_t) {
        if (detail::decode_line(text, pipeline_id).what == decoded_line::kind::corrupt) ++n;
        return true;
    });
    return n;
}

}  // namespace laredo::deadletter
