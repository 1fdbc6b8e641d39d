#pragma once

#include "laredo/snapshot_store.hpp"

#include <cstddef>
#include <string>
#include <string_view>

// The snapshot store and the snapshot file formats live in `laredo::snapshots`: the folder is
// `snapshot/`, but `laredo::snapshot` already names the struct in snapshot_store.hpp.
namespace laredo::snapshots {

// Where a serializer writes one table's bytes. The store's sink counts them, checksums them
// and fsyncs the file; a test's sink can be a string.
class byte_sink {
  public:
    virtual ~byte_sink() = default;
    // Throws on an I/O failure.
    virtual void write(std::string_view bytes) = 0;
};

// Where a serializer reads one table's bytes from.
class byte_source {
  public:
    virtual ~byte_source() = default;
    // Fills up to `size` bytes; returns how many, 0 only at the end. Throws on an I/O failure.
    virtual std::size_t read(char* buffer, std::size_t size) = 0;
};

// A file format for one table of a snapshot. Implementations are stateless and thread-safe.
class serializer {
  public:
    virtual ~serializer() = default;

    // The format's name as snapshot descriptors report it ("jsonl").
    virtual std::string format() const = 0;

    // The file name ending of a table file (".jsonl").
    virtual std::string file_extension() const = 0;

    // Writes one table, streaming rows out as it goes. Throws errc::invalid_argument or
    // errc::schema_mismatch for a table it cannot write faithfully (rows of another schema,
    // text fields that are not UTF-8), or whatever the sink throws.
    virtual void write(const snapshot_table& table, byte_sink& out) const = 0;

    // Reads one table written by write(), consuming the source to its end, and verifies what
    // the format carries (version, schema fingerprint, row count, checksum). Throws
    // errc::corrupt_data or errc::schema_mismatch with a message that starts with `name` (the
    // file, for the reader of the message) and names the line and the problem.
    virtual snapshot_table read(byte_source& in, std::string_view name) const = 0;
};

}  // namespace laredo::snapshots
