#pragma once

#include "laredo/dead_letter_store.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::deadletter {

struct local_store_options {
    // Limit on the files' total size over all pipelines; 0 = no limit. A write that would
    // pass it throws errc::buffer_overflow naming the limit (the letter is not written).
    std::uint64_t max_bytes = 256ull << 20;
    // fsync each append (and each rewrite, and the directory when a file appears or is
    // replaced), so a letter is on disk when write returns. Off only for tests and benches.
    bool fsync = true;
};

// Dead letters in a local directory: one append-only JSON Lines file per pipeline.
//
// File: `<dir>/<name>.jsonl`, where <name> is the pipeline id with every byte other than
// A-Z a-z 0-9 '-' '_' and a '.' that is not the first character written as %XX (upper-case
// hex): "pg:public.users" → "pg%3Apublic.users.jsonl". The mapping is reversible, a name never
// starts with '.', and '/' never survives, so no id can leave the directory or hit "." / "..".
// Ids must be valid UTF-8 (they are stored in every record) and encode to at most 200 bytes.
//
// Line (format version 1), one per letter, the checksum last:
//   {"v":1,"sequence":3,"pipeline":"pg:public.users","written_at":"2024-...Z",
//    "position":"0/16B3748:2","error_code":"laredo:target_failed","error_message":"...",
//    "attempts":3,"change":{...laredo::json::encode_change...},"crc":"89abcdef"}
// "crc" is the CRC-32C (8 hex digits) of the line as it would read without the crc member,
// i.e. of the text before `,"crc":` followed by `}`. A position that is not valid UTF-8 is
// written {"base64":"..."}; error texts are made valid UTF-8 (bad bytes become U+FFFD).
// A file rewritten by remove_through starts with a header line,
//   {"v":1,"header":true,"pipeline":"...","next_sequence":9,"crc":"..."},
// so sequences keep increasing after the letters they follow were removed.
//
// Crash safety: a letter is one write(2) of one line (then fsync). A line whose checksum
// fails (a torn tail after power loss, a flipped byte) is skipped when reading, and nothing
// else is lost; the next append after a torn tail starts on a fresh line. remove_through
// writes a temporary file (".<name>.tmp"), fsyncs it, renames it over the old one and fsyncs
// the directory; leftover temporary files are deleted when the store opens. The rewrite keeps
// only readable letters: lines that cannot be read go with it. A torn last letter's sequence
// may be handed out again (its write never returned, so no caller holds it).
//
// Versions: a line with a valid checksum but another format version, or written for another
// pipeline, is never skipped silently: that pipeline's list, count, write and remove_through
// throw errc::corrupt_data naming the file and line (this reader cannot know what the line
// means, and loading the rest would hide it). purge still deletes the file.
//
// Sequences continue after a restart (the store scans its files when it opens). purge deletes
// the file: sequences restart at 1 once the process restarts.
//
// Thread-safe: one mutex around every operation (they run on the failure path and on
// operator request, and block on disk I/O). One store per directory and process.
class local_store final : public dead_letter_store {
  public:
    // Creates `dir` when missing, removes leftover temporary files and scans the existing
    // files. Throws laredo::error with the system error code when the directory cannot be
    // created or read. I/O failures of the operations below are reported the same way.
    explicit local_store(std::filesystem::path dir, local_store_options options = {});
    ~local_store() override;

    local_store(const local_store&) = delete;
    local_store& operator=(const local_store&) = delete;

    std::uint64_t write(dead_letter letter) override;
    std::vector<dead_letter> list(const std::string& pipeline_id,
                                  std::size_t limit = 0) const override;
    std::size_t count(const std::string& pipeline_id) const override;
    std::vector<std::string> pipelines() const override;
    void remove_through(const std::string& pipeline_id, std::uint64_t sequence) override;
    std::size_t purge(const std::string& pipeline_id) override;

    // Bytes the files take now (the limit counts these), for the store's metric.
    std::uint64_t bytes_used() const;
    std::uint64_t max_bytes() const noexcept;
    const std::filesystem::path& directory() const noexcept;

    // Lines of the pipeline's file that reading skips (bad checksum, torn, undecodable), read
    // from the file now: for operators and tests.
    std::size_t corrupt_lines(const std::string& pipeline_id) const;

    // The file name of a pipeline's letters ("pg%3Apublic.users.jsonl") and back. file_name
    // throws errc::invalid_argument for an id it refuses; pipeline_of returns "" for a name
    // that is not one of ours.
    static std::string file_name(std::string_view pipeline_id);
    static std::string pipeline_of(std::string_view file_name);

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace laredo::deadletter
