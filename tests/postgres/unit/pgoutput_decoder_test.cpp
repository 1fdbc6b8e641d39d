#include "capture_data.hpp"
#include "expect_error.hpp"
#include "message_builder.hpp"

#include "laredo/sources/postgres/pgoutput.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

using namespace laredo::sources::postgres;
using namespace laredo::sources::postgres::testing;
using laredo::errc;

namespace {

template <class T>
std::vector<T> messages_of(const std::vector<std::string>& payloads) {
    std::vector<T> out;
    for (const auto& p : payloads) {
        const auto m = decode_pgoutput(p);
        if (const auto* t = std::get_if<T>(&m)) out.push_back(*t);
    }
    return out;
}

std::vector<tuple_column> columns_of(const tuple_data& t) {
    return std::vector<tuple_column>(t.begin(), t.end());
}

std::vector<relation_column> columns_of(const relation_columns& c) {
    return std::vector<relation_column>(c.begin(), c.end());
}

relation_message relation_named(const std::vector<std::string>& payloads, std::string_view name) {
    for (const auto& r : messages_of<relation_message>(payloads))
        if (r.relation_name == name) return r;
    ADD_FAILURE() << "no Relation message for " << name;
    return {};
}

void expect_text(const tuple_column& c, std::string_view text) {
    EXPECT_EQ(c.k, tuple_column::kind::text);
    EXPECT_EQ(c.data, text);
}

class captured_dml : public ::testing::Test {
  protected:
    // Keeps the buffers alive: the decoded views point into them.
    std::vector<std::string> payloads = load_payloads("dml.hex");
};

}  // namespace

TEST_F(captured_dml, holds_every_message_type_of_protocol_version_1_but_type) {
    std::map<char, int> tags;
    for (const auto& p : payloads) {
        (void)decode_pgoutput(p);
        ++tags[p[0]];
    }
    for (char tag : {'B', 'C', 'O', 'R', 'I', 'U', 'D', 'T', 'M'}) {
        EXPECT_GT(tags[tag], 0) << "no " << pgoutput_message_name(tag) << " in dml.hex";
    }
    EXPECT_EQ(tags['B'], tags['C']);
}

TEST_F(captured_dml, every_commit_closes_its_begin) {
    const begin_message* open = nullptr;
    std::vector<pgoutput_message> decoded;
    for (const auto& p : payloads) decoded.push_back(decode_pgoutput(p));
    std::size_t pairs = 0;
    for (const auto& m : decoded) {
        if (const auto* b = std::get_if<begin_message>(&m)) {
            EXPECT_EQ(open, nullptr) << "Begin inside a transaction";
            open = b;
            EXPECT_GT(b->xid, 0u);
        } else if (const auto* c = std::get_if<commit_message>(&m)) {
            ASSERT_NE(open, nullptr) << "Commit without Begin";
            EXPECT_EQ(c->flags, 0);
            EXPECT_EQ(c->commit_lsn, open->final_lsn);
            EXPECT_GT(c->end_lsn, c->commit_lsn);
            EXPECT_EQ(c->commit_time, open->commit_time);
            open = nullptr;
            ++pairs;
        }
    }
    EXPECT_EQ(open, nullptr);
    EXPECT_GE(pairs, 20u);
}

TEST_F(captured_dml, relation_describes_columns_types_and_key_flags) {
    const auto def = relation_named(payloads, "dml_default");
    EXPECT_EQ(def.namespace_name, "public");
    EXPECT_EQ(def.replica_identity, 'd');
    const auto cols = columns_of(def.columns);
    ASSERT_EQ(cols.size(), 3u);
    EXPECT_EQ(cols[0].name, "id");
    EXPECT_EQ(cols[0].type_oid, 23u);
    EXPECT_TRUE(cols[0].is_key());
    EXPECT_EQ(cols[0].type_modifier, -1);
    EXPECT_EQ(cols[1].name, "name");
    EXPECT_EQ(cols[1].type_oid, 25u);
    EXPECT_FALSE(cols[1].is_key());
    EXPECT_EQ(cols[2].name, "big");

    const auto full = relation_named(payloads, "dml_full");
    EXPECT_EQ(full.replica_identity, 'f');
    for (const auto& c : full.columns) EXPECT_TRUE(c.is_key()) << c.name;

    const auto index = relation_named(payloads, "dml_index");
    EXPECT_EQ(index.replica_identity, 'i');
    const auto icols = columns_of(index.columns);
    ASSERT_EQ(icols.size(), 3u);
    EXPECT_FALSE(icols[0].is_key());
    EXPECT_TRUE(icols[1].is_key());
    EXPECT_EQ(icols[1].name, "code");

    const auto comp = relation_named(payloads, "dml_composite");
    const auto ccols = columns_of(comp.columns);
    ASSERT_EQ(ccols.size(), 3u);
    EXPECT_TRUE(ccols[0].is_key());
    EXPECT_TRUE(ccols[1].is_key());
    EXPECT_FALSE(ccols[2].is_key());
}

TEST(captured_types, relation_carries_type_modifiers_and_user_type_oids) {
    const auto payloads = load_payloads("types_utc.hex");
    const auto rel = relation_named(payloads, "all_types");
    const auto cols = columns_of(rel.columns);
    ASSERT_EQ(cols.size(), 30u);
    EXPECT_EQ(cols[9].name, "c_varchar");
    EXPECT_EQ(cols[9].type_oid, 1043u);
    EXPECT_EQ(cols[9].type_modifier, 24) << "varchar(20): 20 + VARHDRSZ";
    EXPECT_EQ(cols[10].type_modifier, 9) << "char(5)";
    EXPECT_GE(cols[25].type_oid, 16384u) << "mood is a user type";
}

TEST(captured_types, type_messages_precede_the_relation_and_name_a_domain_by_its_base_type) {
    const auto payloads = load_payloads("types_utc.hex");
    const auto types = messages_of<type_message>(payloads);
    ASSERT_EQ(types.size(), 3u);
    EXPECT_EQ(types[0].namespace_name, "public");
    EXPECT_EQ(types[0].type_name, "mood");
    EXPECT_EQ(types[1].type_name, "_mood");
    EXPECT_EQ(types[2].namespace_name, "") << "pg_catalog is written as an empty string";
    EXPECT_EQ(types[2].type_name, "int4") << "the domain posint is named by its base type";
    const auto rel = relation_named(payloads, "all_types");
    const auto cols = columns_of(rel.columns);
    EXPECT_EQ(cols[25].type_oid, types[0].type_oid);
    EXPECT_EQ(cols[26].type_oid, types[1].type_oid);
    EXPECT_EQ(cols[27].type_oid, types[2].type_oid);
}

TEST_F(captured_dml, insert_carries_text_columns) {
    const auto inserts = messages_of<insert_message>(payloads);
    ASSERT_FALSE(inserts.empty());
    const auto def = relation_named(payloads, "dml_default");
    EXPECT_EQ(inserts[0].relation_id, def.relation_id);
    const auto cols = columns_of(inserts[0].new_tuple);
    ASSERT_EQ(cols.size(), 3u);
    expect_text(cols[0], "1");
    expect_text(cols[1], "a");
    expect_text(cols[2], std::string(2500, 'x'));
    const auto third = columns_of(inserts[2].new_tuple);
    EXPECT_EQ(third[2].k, tuple_column::kind::null);
    EXPECT_TRUE(third[2].data.empty());
}

TEST_F(captured_dml, update_without_key_change_has_no_old_tuple_and_marks_toast_unchanged) {
    const auto updates = messages_of<update_message>(payloads);
    ASSERT_GE(updates.size(), 3u);
    const auto& u = updates[0];  // UPDATE dml_default SET name = 'a2' WHERE id = 1
    EXPECT_EQ(u.old_kind, old_tuple_kind::none);
    EXPECT_TRUE(u.old_tuple.empty());
    const auto cols = columns_of(u.new_tuple);
    ASSERT_EQ(cols.size(), 3u);
    expect_text(cols[0], "1");
    expect_text(cols[1], "a2");
    EXPECT_EQ(cols[2].k, tuple_column::kind::unchanged);
}

TEST_F(captured_dml, update_of_the_key_sends_the_old_key_tuple) {
    const auto u = messages_of<update_message>(payloads)[1];  // SET id = 20 WHERE id = 2
    EXPECT_EQ(u.old_kind, old_tuple_kind::key);
    const auto old = columns_of(u.old_tuple);
    ASSERT_EQ(old.size(), 3u);
    expect_text(old[0], "2");
    EXPECT_EQ(old[1].k, tuple_column::kind::null);
    EXPECT_EQ(old[2].k, tuple_column::kind::null);
    const auto cols = columns_of(u.new_tuple);
    expect_text(cols[0], "20");
    expect_text(cols[2], "small");
}

TEST_F(captured_dml, full_identity_sends_the_whole_old_row_with_toast_inlined) {
    const auto full = relation_named(payloads, "dml_full");
    update_message u;
    for (const auto& m : messages_of<update_message>(payloads))
        if (m.relation_id == full.relation_id) u = m;
    EXPECT_EQ(u.old_kind, old_tuple_kind::full);
    const auto old = columns_of(u.old_tuple);
    ASSERT_EQ(old.size(), 3u);
    expect_text(old[1], "f");
    expect_text(old[2], std::string(2500, 'y'));
    const auto cols = columns_of(u.new_tuple);
    expect_text(cols[1], "f2");
    EXPECT_EQ(cols[2].k, tuple_column::kind::unchanged);

    delete_message d;
    for (const auto& m : messages_of<delete_message>(payloads))
        if (m.relation_id == full.relation_id) d = m;
    EXPECT_EQ(d.old_kind, old_tuple_kind::full);
    expect_text(columns_of(d.old_tuple)[2], std::string(2500, 'y'));
}

TEST_F(captured_dml, delete_sends_the_key_tuple) {
    const auto d = messages_of<delete_message>(payloads)[0];  // DELETE dml_default WHERE id = 3
    EXPECT_EQ(d.old_kind, old_tuple_kind::key);
    const auto old = columns_of(d.old_tuple);
    ASSERT_EQ(old.size(), 3u);
    expect_text(old[0], "3");
    EXPECT_EQ(old[1].k, tuple_column::kind::null);
}

TEST_F(captured_dml, truncate_lists_relations_and_options) {
    const auto truncates = messages_of<truncate_message>(payloads);
    ASSERT_EQ(truncates.size(), 2u);
    const auto& t1 = truncates[0];  // TRUNCATE dml_full, dml_composite RESTART IDENTITY
    EXPECT_TRUE(t1.restart_identity());
    EXPECT_FALSE(t1.cascade());
    ASSERT_EQ(t1.relation_count, 2u);
    EXPECT_EQ(t1.relation_id(0), relation_named(payloads, "dml_full").relation_id);
    EXPECT_EQ(t1.relation_id(1), relation_named(payloads, "dml_composite").relation_id);
    const auto& t2 = truncates[1];  // TRUNCATE trunc_parent CASCADE
    EXPECT_TRUE(t2.cascade());
    EXPECT_FALSE(t2.restart_identity());
    ASSERT_EQ(t2.relation_count, 2u);
    EXPECT_EQ(t2.relation_id(0), relation_named(payloads, "trunc_parent").relation_id);
    EXPECT_EQ(t2.relation_id(1), relation_named(payloads, "trunc_child").relation_id);
}

TEST_F(captured_dml, logical_messages_keep_prefix_content_and_transactional_flag) {
    const auto msgs = messages_of<logical_message>(payloads);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_FALSE(msgs[0].transactional());
    EXPECT_EQ(msgs[0].prefix, "laredo");
    EXPECT_EQ(msgs[0].content, "non-transactional");
    EXPECT_GT(msgs[0].lsn, 0u);
    EXPECT_TRUE(msgs[1].transactional());
    EXPECT_EQ(msgs[1].content, std::string_view("\x00\xff", 2));
}

TEST_F(captured_dml, origin_names_the_replication_origin_and_its_lsn) {
    const auto origins = messages_of<origin_message>(payloads);
    ASSERT_EQ(origins.size(), 1u);
    EXPECT_EQ(origins[0].name, "laredo_origin");
    EXPECT_EQ(origins[0].origin_lsn, 0xABCDEF01u);
}

TEST_F(captured_dml, every_truncation_of_every_message_is_a_clear_error) {
    std::size_t cuts = 0;
    for (const auto& p : payloads) {
        for (std::size_t n = 0; n < p.size(); ++n) {
            // A copy of exactly n bytes, so a read past the end is a heap overflow under ASan.
            const std::string cut = p.substr(0, n);
            try {
                (void)decode_pgoutput(cut);
                ADD_FAILURE() << pgoutput_message_name(p[0]) << " cut to " << n << " of "
                              << p.size() << " bytes decoded";
            } catch (const laredo::error& e) {
                EXPECT_EQ(e.code(), laredo::make_error_code(errc::corrupt_data));
                const std::string what = e.what();
                if (n > 0) {
                    EXPECT_NE(what.find(std::string(pgoutput_message_name(p[0]))),
                              std::string::npos)
                        << what;
                }
            }
            ++cuts;
        }
    }
    EXPECT_GT(cuts, 10000u);
}

TEST_F(captured_dml, a_byte_after_the_last_field_is_an_error) {
    for (const auto& p : payloads) {
        expect_error([&] { (void)decode_pgoutput(p + "x"); }, errc::corrupt_data,
                     "unexpected bytes after its last field");
    }
}

TEST(pgoutput_decoder, names_the_unknown_tag) {
    expect_error([] { (void)decode_pgoutput("S\x00\x00\x00\x01"); }, errc::corrupt_data,
                 "unknown pgoutput message tag 'S'");
    expect_error([] { (void)decode_pgoutput(std::string("\xff", 1)); }, errc::corrupt_data,
                 "tag 0xff");
    expect_error([] { (void)decode_pgoutput(""); }, errc::corrupt_data, "empty pgoutput message");
}

TEST(pgoutput_decoder, names_an_unknown_tuple_column_kind) {
    const auto m = message_builder('I').u32(16384).u8('N').u16(2).text("1").u8('x');
    expect_error([&] { (void)decode_pgoutput(m); }, errc::corrupt_data, "pgoutput Insert",
                 "column 2 of 2 has unknown kind 'x'");
}

TEST(pgoutput_decoder, names_a_wrong_tuple_tag) {
    expect_error([] { (void)decode_pgoutput(message_builder('I').u32(1).u8('K').u16(0)); },
                 errc::corrupt_data, "pgoutput Insert", "tuple tag 'K' where 'N' was expected");
    expect_error([] { (void)decode_pgoutput(message_builder('U').u32(1).u8('X').u16(0)); },
                 errc::corrupt_data, "pgoutput Update", "'K', 'O' or 'N'");
    expect_error(
        [] { (void)decode_pgoutput(message_builder('U').u32(1).u8('K').u16(0).u8('K').u16(0)); },
        errc::corrupt_data, "pgoutput Update", "where 'N' was expected");
    expect_error([] { (void)decode_pgoutput(message_builder('D').u32(1).u8('N').u16(0)); },
                 errc::corrupt_data, "pgoutput Delete", "'K' or 'O'");
}

TEST(pgoutput_decoder, names_an_unknown_replica_identity) {
    const auto m = message_builder('R').u32(7).str("s").str("t").u8('z').u16(0);
    expect_error([&] { (void)decode_pgoutput(m); }, errc::corrupt_data, "pgoutput Relation",
                 "unknown replica identity 'z' for relation 7");
}

TEST(pgoutput_decoder, refuses_a_truncate_count_larger_than_the_message) {
    const auto m = message_builder('T').u32(0xFFFFFFFF).u8(0).u32(1);
    expect_error([&] { (void)decode_pgoutput(m); }, errc::corrupt_data, "pgoutput Truncate",
                 "relation count 4294967295");
}

TEST(pgoutput_decoder, refuses_a_column_length_beyond_the_message) {
    const auto m = message_builder('I').u32(1).u8('N').u16(1).u8('t').u32(0xFFFFFFFF).raw("ab");
    expect_error([&] { (void)decode_pgoutput(m); }, errc::corrupt_data,
                 "pgoutput Insert message truncated", "tuple column value needs 4294967295 bytes");
}

TEST(pgoutput_decoder, refuses_an_unterminated_string) {
    const auto m = message_builder('Y').u32(1).str("public").raw("name-without-nul");
    expect_error([&] { (void)decode_pgoutput(m); }, errc::corrupt_data, "pgoutput Type",
                 "type name", "no terminating NUL");
}

TEST(pgoutput_decoder, decodes_binary_and_empty_text_columns) {
    const auto m = message_builder('I')
                       .u32(5)
                       .u8('N')
                       .u16(4)
                       .u8('b')
                       .u32(3)
                       .raw(std::string_view("\x00\x01\x02", 3))
                       .text("")
                       .u8('u')
                       .u8('n');
    const auto ins = std::get<insert_message>(decode_pgoutput(m));
    const auto cols = columns_of(ins.new_tuple);
    ASSERT_EQ(cols.size(), 4u);
    EXPECT_EQ(cols[0].k, tuple_column::kind::binary);
    EXPECT_EQ(cols[0].data, std::string_view("\x00\x01\x02", 3));
    expect_text(cols[1], "");
    EXPECT_EQ(cols[2].k, tuple_column::kind::unchanged);
    EXPECT_EQ(cols[3].k, tuple_column::kind::null);
}

TEST(pgoutput_decoder, views_point_into_the_payload) {
    const auto m = message_builder('I').u32(5).u8('N').u16(1).text("hello");
    const std::string payload = m.bytes();
    const auto ins = std::get<insert_message>(decode_pgoutput(payload));
    const auto col = *ins.new_tuple.begin();
    EXPECT_GE(col.data.data(), payload.data());
    EXPECT_LE(col.data.data() + col.data.size(), payload.data() + payload.size());
}

TEST(pgoutput_decoder, relation_with_no_columns_and_tuple_with_no_columns_iterate_empty) {
    const auto rel = std::get<relation_message>(
        decode_pgoutput(message_builder('R').u32(9).str("").str("t").u8('n').u16(0)));
    EXPECT_EQ(rel.namespace_name, "");
    EXPECT_TRUE(rel.columns.empty());
    EXPECT_EQ(rel.columns.begin(), rel.columns.end());
    const auto ins =
        std::get<insert_message>(decode_pgoutput(message_builder('I').u32(9).u8('N').u16(0)));
    EXPECT_EQ(ins.new_tuple.begin(), ins.new_tuple.end());
}
