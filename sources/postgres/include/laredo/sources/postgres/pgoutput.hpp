#pragma once

// The pgoutput logical replication protocol, version 1 (PostgreSQL 15's "Logical Replication
// Message Formats"), as
// typed views over one XLogData payload. Sans-io and allocation-free: decode_pgoutput checks
// the whole message once (every length against the buffer, every tag), then hands out views
// whose strings and tuples point into the buffer. The views are valid while the buffer is.
// Iterating a tuple or a relation's columns cannot fail: it walks bytes already checked.
//
// All integers are big-endian, strings NUL-terminated, times µs since 2000-01-01 UTC.
//
//   'B' Begin     final_lsn u64, commit_time i64, xid u32
//   'C' Commit    flags u8, commit_lsn u64, end_lsn u64, commit_time i64
//   'O' Origin    origin_lsn u64, name str
//   'R' Relation  relid u32, namespace str, name str, replica_identity u8, ncols u16,
//                 per column: flags u8 (1 = key), name str, type_oid u32, type_modifier i32
//   'Y' Type      type_oid u32, namespace str, name str
//   'I' Insert    relid u32, 'N' tuple
//   'U' Update    relid u32, ['K' tuple | 'O' tuple], 'N' tuple
//   'D' Delete    relid u32, 'K' tuple | 'O' tuple
//   'T' Truncate  nrels u32, options u8 (1 = CASCADE, 2 = RESTART IDENTITY), relids u32[]
//   'M' Message   flags u8 (1 = transactional), lsn u64, prefix str, length u32, bytes
//   tuple         ncols u16, per column: 'n' null | 'u' unchanged TOAST | 't' len u32 text |
//                 'b' len u32 binary
//
// Protocol version 2 (streamed transactions) adds an xid after the tag of most messages inside
// a stream block and the messages 'S', 'E', 'c', 'A'; they are refused here as unknown tags
// until a decoder option adds them.
//
// Malformed input (truncated, overlong, unknown tag or kind) throws
// laredo::error(errc::corrupt_data) with a message naming the message type, the field and the
// byte offset.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>
#include <variant>

namespace laredo::sources::postgres {

struct begin_message {
    std::uint64_t final_lsn = 0;  // LSN of the transaction's commit record
    std::int64_t commit_time = 0;
    std::uint32_t xid = 0;
};

struct commit_message {
    std::uint8_t flags = 0;
    std::uint64_t commit_lsn = 0;  // equals the Begin's final_lsn
    std::uint64_t end_lsn = 0;     // end of the commit record: the transaction's safe point
    std::int64_t commit_time = 0;
};

// Sent after Begin when the transaction was replayed from a replication origin.
struct origin_message {
    std::uint64_t origin_lsn = 0;
    std::string_view name;
};

// Elements stored back to back in bytes decode_pgoutput has already checked (a Relation's
// columns, a tuple's columns), walked in place without checks. `Element::read(p)` reads one
// element at p and moves p past it; it cannot fail on checked bytes.
template <class Element>
class packed_sequence {
  public:
    class iterator {
      public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = Element;
        using difference_type = std::ptrdiff_t;
        using pointer = const Element*;
        using reference = const Element&;

        iterator() = default;
        reference operator*() const noexcept { return current_; }
        pointer operator->() const noexcept { return &current_; }
        iterator& operator++() noexcept {
            if (--left_ != 0) current_ = Element::read(p_);
            return *this;
        }
        iterator operator++(int) noexcept {
            auto copy = *this;
            ++*this;
            return copy;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept {
            return a.left_ == b.left_;
        }

      private:
        friend class packed_sequence;
        iterator(const char* p, std::uint16_t left) noexcept : p_(p), left_(left) {
            if (left_ != 0) current_ = Element::read(p_);
        }
        const char* p_ = nullptr;
        std::uint16_t left_ = 0;
        Element current_;
    };

    packed_sequence() = default;
    packed_sequence(std::string_view bytes, std::uint16_t count) noexcept
        : bytes_(bytes), count_(count) {}

    std::uint16_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    iterator begin() const noexcept { return {bytes_.data(), count_}; }
    iterator end() const noexcept { return {}; }
    // The encoded elements (after the count).
    std::string_view bytes() const noexcept { return bytes_; }

  private:
    std::string_view bytes_;
    std::uint16_t count_ = 0;
};

// One column of a Relation message.
struct relation_column {
    std::uint8_t flags = 0;
    std::string_view name;
    std::uint32_t type_oid = 0;
    std::int32_t type_modifier = -1;
    // Part of the replica identity (the key, or every column with REPLICA IDENTITY FULL).
    bool is_key() const noexcept { return (flags & 1) != 0; }
    // Reads one checked column at p and moves p past it (packed_sequence's element reader).
    static relation_column read(const char*& p) noexcept;
};

// The columns of a Relation message, iterated in place.
using relation_columns = packed_sequence<relation_column>;

struct relation_message {
    std::uint32_t relation_id = 0;
    std::string_view namespace_name;  // "" is pg_catalog, as pgoutput writes it
    std::string_view relation_name;
    char replica_identity = 'd';  // 'd' default, 'n' nothing, 'f' full, 'i' index
    relation_columns columns;
};

// Sent before a Relation message that uses a type that is not built in. For a domain it
// carries the domain's OID with its base type's namespace and name (verified on PG15).
struct type_message {
    std::uint32_t type_oid = 0;
    std::string_view namespace_name;  // "" is pg_catalog
    std::string_view type_name;
};

// One column of a tuple.
struct tuple_column {
    enum class kind : char { null = 'n', unchanged = 'u', text = 't', binary = 'b' };
    kind k = kind::null;
    std::string_view data;  // the text or binary value; empty for null and unchanged
    // Reads one checked column at p and moves p past it (packed_sequence's element reader).
    static tuple_column read(const char*& p) noexcept;
};

// A tuple's columns, iterated in place.
using tuple_data = packed_sequence<tuple_column>;

// Which old tuple an Update or Delete carries.
enum class old_tuple_kind : char {
    none = 0,    // Update of a table with a key, key unchanged: no old tuple
    key = 'K',   // the replica identity columns; the other columns are 'n'
    full = 'O',  // the whole old row (REPLICA IDENTITY FULL), TOASTed values inlined
};

struct insert_message {
    std::uint32_t relation_id = 0;
    tuple_data new_tuple;
};

struct update_message {
    std::uint32_t relation_id = 0;
    old_tuple_kind old_kind = old_tuple_kind::none;
    tuple_data old_tuple;  // empty when old_kind is none
    tuple_data new_tuple;
};

struct delete_message {
    std::uint32_t relation_id = 0;
    old_tuple_kind old_kind = old_tuple_kind::key;  // key or full, never none
    tuple_data old_tuple;
};

struct truncate_message {
    static constexpr std::uint8_t cascade_flag = 1;
    static constexpr std::uint8_t restart_identity_flag = 2;

    std::uint8_t options = 0;
    std::uint32_t relation_count = 0;
    std::string_view relation_id_bytes;  // relation_count big-endian u32s

    bool cascade() const noexcept { return (options & cascade_flag) != 0; }
    bool restart_identity() const noexcept { return (options & restart_identity_flag) != 0; }
    // The i-th relation id, i < relation_count.
    std::uint32_t relation_id(std::uint32_t i) const noexcept;
};

// pg_logical_emit_message(); only sent with the `messages 'true'` option.
struct logical_message {
    std::uint8_t flags = 0;
    std::uint64_t lsn = 0;
    std::string_view prefix;
    std::string_view content;
    bool transactional() const noexcept { return (flags & 1) != 0; }
};

using pgoutput_message =
    std::variant<begin_message, commit_message, origin_message, relation_message, type_message,
                 insert_message, update_message, delete_message, truncate_message, logical_message>;

// Decodes one pgoutput message (the payload of one XLogData). Throws
// laredo::error(errc::corrupt_data) for malformed input. Allocates nothing on success.
pgoutput_message decode_pgoutput(std::string_view payload);

// "Begin", "Insert", ... for a message tag; "unknown" otherwise.
std::string_view pgoutput_message_name(char tag) noexcept;

}  // namespace laredo::sources::postgres
