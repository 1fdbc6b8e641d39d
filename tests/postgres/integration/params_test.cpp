// connection_params, error classification and quoting: no server needed.

#include "laredo/error.hpp"
#include "laredo/sources/postgres/connection_params.hpp"
#include "laredo/sources/postgres/pg_error.hpp"
#include "laredo/sources/postgres/sql_quote.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace laredo::sources::postgres {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(pg_params, from_conninfo_maps_keywords_to_fields) {
    const auto p = connection_params::from_conninfo(
        "host=db.example port=6543 dbname=app user=me password='s3 cret' passfile=/pf "
        "sslmode=verify-full sslrootcert=/ca sslcert=/c sslkey=/k application_name=laredo:x "
        "replication=database connect_timeout=7 keepalives_idle=11 keepalives_interval=12 "
        "keepalives_count=13 options='-c work_mem=4MB' sslcrl=/crl target_session_attrs=any");
    EXPECT_EQ(p.host, "db.example");
    EXPECT_EQ(p.port, 6543);
    EXPECT_EQ(p.dbname, "app");
    EXPECT_EQ(p.user, "me");
    EXPECT_EQ(p.password, "s3 cret");
    EXPECT_EQ(p.passfile, "/pf");
    EXPECT_EQ(p.sslmode, "verify-full");
    EXPECT_EQ(p.sslrootcert, "/ca");
    EXPECT_EQ(p.sslcert, "/c");
    EXPECT_EQ(p.sslkey, "/k");
    EXPECT_EQ(p.application_name, "laredo:x");
    EXPECT_TRUE(p.replication);
    EXPECT_EQ(p.connect_timeout, std::chrono::seconds(7));
    EXPECT_EQ(p.keepalives_idle, std::chrono::seconds(11));
    EXPECT_EQ(p.keepalives_interval, std::chrono::seconds(12));
    EXPECT_EQ(p.keepalives_count, 13);
    EXPECT_EQ(p.options, "-c work_mem=4MB");
    using kv = std::pair<std::string, std::string>;
    EXPECT_THAT(p.extra, ::testing::UnorderedElementsAre(kv{"sslcrl", "/crl"},
                                                         kv{"target_session_attrs", "any"}));
}

TEST(pg_params, from_conninfo_reads_uris) {
    const auto p = connection_params::from_conninfo(
        "postgresql://me:pw%40x@[::1]:5433/app?sslmode=require&application_name=a");
    EXPECT_EQ(p.host, "::1");
    EXPECT_EQ(p.port, 5433);
    EXPECT_EQ(p.user, "me");
    EXPECT_EQ(p.password, "pw@x");
    EXPECT_EQ(p.dbname, "app");
    EXPECT_EQ(p.sslmode, "require");
    EXPECT_EQ(p.application_name, "a");
    EXPECT_FALSE(p.replication);
}

TEST(pg_params, unset_fields_keep_their_defaults) {
    const auto p = connection_params::from_conninfo("dbname=x");
    EXPECT_TRUE(p.host.empty());
    EXPECT_EQ(p.port, 0);
    EXPECT_EQ(p.connect_timeout, std::chrono::seconds(30));
    EXPECT_TRUE(p.session_settings);
    EXPECT_TRUE(p.extra.empty());
}

TEST(pg_params, physical_replication_and_port_lists_are_refused) {
    EXPECT_THROW(connection_params::from_conninfo("replication=true"), laredo::error);
    EXPECT_FALSE(connection_params::from_conninfo("replication=off").replication);
    EXPECT_THROW(connection_params::from_conninfo("host=a,b port=1,2"), laredo::error);
    EXPECT_THROW(connection_params::from_conninfo("port=99999"), laredo::error);
    EXPECT_THROW(connection_params::from_conninfo("connect_timeout=soon"), laredo::error);
}

TEST(pg_params, parse_errors_never_quote_a_password) {
    try {
        connection_params::from_conninfo("host=h password=abc Secret-Tail-77");
        ADD_FAILURE() << "a malformed string parsed";
    } catch (const laredo::error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
        EXPECT_THAT(e.what(), HasSubstr("invalid connection string"));
        EXPECT_THAT(e.what(), Not(HasSubstr("Secret-Tail-77")));
    }
    try {
        connection_params::from_conninfo("password=abc 'unterminated");
        ADD_FAILURE() << "a malformed string parsed";
    } catch (const laredo::error& e) {
        EXPECT_THAT(e.what(), Not(HasSubstr("unterminated\"")));
    }
}

TEST(pg_params, parse_errors_keep_the_keywords_they_name) {
    try {
        connection_params::from_conninfo("host");
        ADD_FAILURE() << "a malformed string parsed";
    } catch (const laredo::error& e) {
        EXPECT_THAT(e.what(), HasSubstr("missing \"=\" after \"host\""));
    }
}

TEST(pg_params, describe_names_the_target_but_never_the_password) {
    connection_params p;
    p.host = "db";
    p.port = 5432;
    p.dbname = "app";
    p.user = "me";
    p.password = "Pa55-Never-Shown";
    p.sslmode = "verify-full";
    p.replication = true;
    const auto d = p.describe();
    EXPECT_EQ(d, "host=db port=5432 dbname=app user=me sslmode=verify-full replication=database");
    EXPECT_THAT(d, Not(HasSubstr("Pa55")));
    EXPECT_EQ(connection_params{}.describe(), "host=(default) port=(default)");
}

TEST(pg_error_classification, retryable_codes_are_transient_and_the_rest_fatal) {
    for (const char* code : {"", "08006", "08001", "40001", "40P01", "53300", "57014", "57P01",
                             "57P02", "57P03", "57P05", "55P03", "55006", "25P03", "58030"}) {
        EXPECT_EQ(classify_sqlstate(code), errc::transient) << code;
    }
    for (const char* code : {"28P01", "28000", "3D000", "42P01", "42501", "42704", "55000", "22012",
                             "23505", "0A000", "XX000", "57P04", "bogus"}) {
        EXPECT_EQ(classify_sqlstate(code), errc::source_failed) << code;
    }
}

TEST(pg_error_classification, what_reads_context_severity_code_message_detail_hint) {
    const pg_error e("query [host=h]", pg_error::fields{.sqlstate = "42P01",
                                                        .severity = "ERROR",
                                                        .message = "relation \"x\" does not exist",
                                                        .detail = "d",
                                                        .hint = "h"});
    // (laredo::error, a boost::system::system_error, appends the code after the message)
    EXPECT_THAT(e.what(), ::testing::StartsWith("query [host=h]: ERROR 42P01: relation \"x\" does "
                                                "not exist (DETAIL: d) (HINT: h)"));
    EXPECT_EQ(e.code(), make_error_code(errc::source_failed));
    EXPECT_TRUE(laredo::is_fatal(e.code()));
    EXPECT_FALSE(e.retryable());

    const pg_error lost("read", pg_error::fields{.message = "server closed the connection"});
    EXPECT_THAT(lost.what(), ::testing::StartsWith("read: server closed the connection"));
    EXPECT_TRUE(lost.retryable());

    const pg_error timed(errc::timeout, "connect", pg_error::fields{.message = "slow"});
    EXPECT_EQ(timed.code(), make_error_code(errc::timeout));
}

TEST(pg_sql_quote, quotes_identifiers_and_literals) {
    EXPECT_EQ(quote_identifier("my_pub"), "\"my_pub\"");
    EXPECT_EQ(quote_identifier("we\"ird"), "\"we\"\"ird\"");
    EXPECT_EQ(quote_literal("o'brien"), "'o''brien'");
    EXPECT_EQ(quote_literal("x'); DROP TABLE t; --"), "'x''); DROP TABLE t; --'");
    EXPECT_EQ(quote_literal("back\\slash"), "'back\\slash'");
    EXPECT_THROW(quote_literal(std::string("a\0b", 3)), laredo::error);
}

}  // namespace
}  // namespace laredo::sources::postgres
