#pragma once

#include "laredo/snapshot/serializer.hpp"
#include "laredo/snapshot_store.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

namespace laredo::snapshots {

// Snapshots in a local directory, one folder per snapshot:
//   {base}/{id}/metadata.json        format version, id, created_at, labels, source
//                                    positions, and per table its pipeline, source, table,
//                                    target type, position, row count, schema fingerprint,
//                                    file name, size and CRC-32C
//   {base}/{id}/0001-{pipeline}.jsonl one file per table, in the serializer's format
// A save writes everything under {base}/.tmp-{id}/ (metadata.json last), fsyncs the files and
// the folder, then renames the folder to {base}/{id} and fsyncs {base}: a crash leaves either
// a complete snapshot or a `.tmp-` folder, which is never listed and which the constructor
// removes. Use one store object per directory (the constructor's cleanup would otherwise
// remove another store's save in progress).
//
// A load checks metadata.json, then each file's size and checksum against it, then the
// serializer's own checks, then that the file agrees with the metadata (pipeline, position,
// row count, fingerprint). Failures throw laredo::error naming the snapshot, the file and the
// problem: errc::corrupt_data, errc::schema_mismatch, errc::unsupported (a snapshot written by
// another serializer); I/O failures carry the system error code.
//
// Ids are non-empty, made of [A-Za-z0-9._-] and do not start with '.'; anything else is
// errc::invalid_argument. Positions, labels and ids are stored as strings and read back
// exactly. created_at is kept to the microsecond (a default time point means "now").
//
// Thread-safe: saves of different ids write concurrently; a save holds the lock only to
// reserve its id and to rename its folder into place.
class local_store final : public snapshot_store {
  public:
    // `base` need not exist yet (the first save creates it). Removes leftover `.tmp-` folders.
    explicit local_store(std::filesystem::path base,
                         std::shared_ptr<const serializer> format = nullptr);

    const std::filesystem::path& base() const noexcept { return base_; }

    snapshot_descriptor save(const snapshot& s) override;
    snapshot load(const std::string& id) const override;
    std::vector<snapshot_descriptor> list() const override;
    snapshot_descriptor describe(const std::string& id) const override;
    void remove(const std::string& id) override;
    std::vector<std::string> prune(std::size_t keep) override;

    // The rules for ids, as save() applies them; throws errc::invalid_argument.
    static void check_id(const std::string& id);

  private:
    std::vector<snapshot_descriptor> list_unlocked() const;
    void remove_unlocked(const std::string& id);

    std::filesystem::path base_;
    std::shared_ptr<const serializer> format_;
    // Readers share the lock; remove, prune and the rename of a save take it alone.
    mutable std::shared_mutex lock_;
    std::set<std::string> saving_;  // ids reserved by saves in progress (under lock_)
};

}  // namespace laredo::snapshots
