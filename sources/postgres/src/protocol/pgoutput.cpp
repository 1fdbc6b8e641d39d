#include "laredo/sources/postgres/pgoutput.hpp"

#include "byte_reader.hpp"
#include "error_text.hpp"

#include "laredo/error.hpp"

#include <fmt/format.h>

#include <cstring>

namespace laredo::sources::postgres {

using detail::byte_reader;

// --- element readers: walk bytes decode_pgoutput has validated, without checks ---

relation_column relation_column::read(const char*& p) noexcept {
    relation_column c;
    c.flags = static_cast<std::uint8_t>(*p++);
    const std::size_t len = std::strlen(p);  // NUL checked by the decoder
    c.name = std::string_view(p, len);
    p += len + 1;
    c.type_oid = byte_reader::load_u32(p);
    c.type_modifier = static_cast<std::int32_t>(byte_reader::load_u32(p + 4));
    p += 8;
    return c;
}

tuple_column tuple_column::read(const char*& p) noexcept {
    tuple_column c;
    c.k = static_cast<tuple_column::kind>(*p++);
    if (c.k == tuple_column::kind::text || c.k == tuple_column::kind::binary) {
        const std::uint32_t len = byte_reader::load_u32(p);
        c.data = std::string_view(p + 4, len);
        p += 4 + static_cast<std::size_t>(len);
    }
    return c;
}

std::uint32_t truncate_message::relation_id(std::uint32_t i) const noexcept {
    return byte_reader::load_u32(relation_id_bytes.data() + static_cast<std::size_t>(i) * 4);
}

// --- decoding ---

namespace {

// Reads a tuple (column count, columns) and checks every column, so iteration needs no checks.
tuple_data read_tuple(byte_reader& r) {
    const std::uint16_t count = r.u16("tuple column count");
    const char* start = r.position();
    for (std::uint16_t i = 0; i < count; ++i) {
        const char kind = r.byte("tuple column kind");
        switch (kind) {
            case 'n':
            case 'u':
                break;
            case 't':
            case 'b': {
                const std::uint32_t len = r.u32("tuple column length");
                r.bytes(len, "tuple column value");
                break;
            }
            default:
                r.fail(
                    fmt::format("column {} of {} has unknown kind {} (expected 'n', 'u', 't' "
                                "or 'b')",
                                i + 1, count, detail::describe_tag(kind)));
        }
    }
    return tuple_data(std::string_view(start, static_cast<std::size_t>(r.position() - start)),
                      count);
}

// The byte before a tuple in Insert/Update/Delete.
char read_tuple_tag(byte_reader& r, const char* field) { return r.byte(field); }

[[noreturn]] void bad_tuple_tag(const byte_reader& r, char tag, const char* expected) {
    r.fail(fmt::format("tuple tag {} where {} was expected", detail::describe_tag(tag), expected));
}

begin_message decode_begin(byte_reader& r) {
    begin_message m;
    m.final_lsn = r.u64("final_lsn");
    m.commit_time = r.i64("commit_time");
    m.xid = r.u32("xid");
    r.expect_end();
    return m;
}

commit_message decode_commit(byte_reader& r) {
    commit_message m;
    m.flags = r.u8("flags");
    m.commit_lsn = r.u64("commit_lsn");
    m.end_lsn = r.u64("end_lsn");
    m.commit_time = r.i64("commit_time");
    r.expect_end();
    return m;
}

origin_message decode_origin(byte_reader& r) {
    origin_message m;
    m.origin_lsn = r.u64("origin_lsn");
    m.name = r.cstring("origin name");
    r.expect_end();
    return m;
}

relation_message decode_relation(byte_reader& r) {
    relation_message m;
    m.relation_id = r.u32("relation id");
    m.namespace_name = r.cstring("namespace");
    m.relation_name = r.cstring("relation name");
    m.replica_identity = r.byte("replica identity");
    switch (m.replica_identity) {
        case 'd':
        case 'n':
        case 'f':
        case 'i':
            break;
        default:
            r.fail(
                fmt::format("unknown replica identity {} for relation {} (expected 'd', 'n', "
                            "'f' or 'i')",
                            detail::describe_tag(m.replica_identity), m.relation_id));
    }
    const std::uint16_t count = r.u16("column count");
    const char* start = r.position();
    for (std::uint16_t i = 0; i < count; ++i) {
        r.u8("column flags");
        r.cstring("column name");
        r.u32("column type OID");
        r.i32("column type modifier");
    }
    m.columns = relation_columns(
        std::string_view(start, static_cast<std::size_t>(r.position() - start)), count);
    r.expect_end();
    return m;
}

type_message decode_type(byte_reader& r) {
    type_message m;
    m.type_oid = r.u32("type OID");
    m.namespace_name = r.cstring("namespace");
    m.type_name = r.cstring("type name");
    r.expect_end();
    return m;
}

insert_message decode_insert(byte_reader& r) {
    insert_message m;
    m.relation_id = r.u32("relation id");
    const char tag = read_tuple_tag(r, "new tuple tag");
    if (tag != 'N') bad_tuple_tag(r, tag, "'N'");
    m.new_tuple = read_tuple(r);
    r.expect_end();
    return m;
}

update_message decode_update(byte_reader& r) {
    update_message m;
    m.relation_id = r.u32("relation id");
    char tag = read_tuple_tag(r, "tuple tag");
    if (tag == 'K' || tag == 'O') {
        m.old_kind = static_cast<old_tuple_kind>(tag);
        m.old_tuple = read_tuple(r);
        tag = read_tuple_tag(r, "new tuple tag");
        if (tag != 'N') bad_tuple_tag(r, tag, "'N'");
    } else if (tag != 'N') {
        bad_tuple_tag(r, tag, "'K', 'O' or 'N'");
    }
    m.new_tuple = read_tuple(r);
    r.expect_end();
    return m;
}

delete_message decode_delete(byte_reader& r) {
    delete_message m;
    m.relation_id = r.u32("relation id");
    const char tag = read_tuple_tag(r, "old tuple tag");
    if (tag != 'K' && tag != 'O') bad_tuple_tag(r, tag, "'K' or 'O'");
    m.old_kind = static_cast<old_tuple_kind>(tag);
    m.old_tuple = read_tuple(r);
    r.expect_end();
    return m;
}

truncate_message decode_truncate(byte_reader& r) {
    truncate_message m;
    m.relation_count = r.u32("relation count");
    m.options = r.u8("options");
    // Check the count against what is left before multiplying: a forged count must not wrap.
    if (m.relation_count > r.remaining() / 4) {
        r.fail(fmt::format("relation count {} needs {} bytes of relation ids, {} left",
                           m.relation_count, static_cast<std::uint64_t>(m.relation_count) * 4,
                           r.remaining()));
    }
    m.relation_id_bytes = r.bytes(static_cast<std::size_t>(m.relation_count) * 4, "relation ids");
    r.expect_end();
    return m;
}

logical_message decode_message(byte_reader& r) {
    logical_message m;
    m.flags = r.u8("flags");
    m.lsn = r.u64("lsn");
    m.prefix = r.cstring("prefix");
    const std::uint32_t len = r.u32("content length");
    m.content = r.bytes(len, "content");
    r.expect_end();
    return m;
}

}  // namespace

std::string_view pgoutput_message_name(char tag) noexcept {
    switch (tag) {
        case 'B':
            return "Begin";
        case 'C':
            return "Commit";
        case 'O':
            return "Origin";
        case 'R':
            return "Relation";
        case 'Y':
            return "Type";
        case 'I':
            return "Insert";
        case 'U':
            return "Update";
        case 'D':
            return "Delete";
        case 'T':
            return "Truncate";
        case 'M':
            return "Message";
        default:
            return "unknown";
    }
}

pgoutput_message decode_pgoutput(std::string_view payload) {
    if (payload.empty()) throw error(errc::corrupt_data, "empty pgoutput message");
    const char tag = payload[0];
    const auto body = payload.substr(1);
    switch (tag) {
        case 'B': {
            byte_reader r(body, "pgoutput Begin");
            return decode_begin(r);
        }
        case 'C': {
            byte_reader r(body, "pgoutput Commit");
            return decode_commit(r);
        }
        case 'O': {
            byte_reader r(body, "pgoutput Origin");
            return decode_origin(r);
        }
        case 'R': {
            byte_reader r(body, "pgoutput Relation");
            return decode_relation(r);
        }
        case 'Y': {
            byte_reader r(body, "pgoutput Type");
            return decode_type(r);
        }
        case 'I': {
            byte_reader r(body, "pgoutput Insert");
            return decode_insert(r);
        }
        case 'U': {
            byte_reader r(body, "pgoutput Update");
            return decode_update(r);
        }
        case 'D': {
            byte_reader r(body, "pgoutput Delete");
            return decode_delete(r);
        }
        case 'T': {
            byte_reader r(body, "pgoutput Truncate");
            return decode_truncate(r);
        }
        case 'M': {
            byte_reader r(body, "pgoutput Message");
            return decode_message(r);
        }
        default:
            throw error(errc::corrupt_data,
                        fmt::format("unknown pgoutput message tag {} in a message of {} bytes "
                                    "(protocol version 1 is expected)",
                                    detail::describe_tag(tag), payload.size()));
    }
}

}  // namespace laredo::sources::postgres
