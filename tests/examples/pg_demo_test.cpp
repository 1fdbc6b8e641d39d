// The README's first command runs laredo-pg-demo: here it runs, smaller, against the test
// cluster, and must end with every target equal to its table.

#include "pg_cluster_environment.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using ::testing::HasSubstr;

TEST(pg_demo, runs_to_the_end_with_the_targets_in_sync) {
    const char* exe = std::getenv("LAREDO_PG_DEMO");
    ASSERT_NE(exe, nullptr) << "LAREDO_PG_DEMO names the laredo-pg-demo program";
    const std::string command = std::string(exe) + " '" +
                                laredo::testing::shared_pg_cluster().conninfo() +
                                "' --rows 20000 --seconds 3 2>&1";
    FILE* out = ::popen(command.c_str(), "r");
    ASSERT_NE(out, nullptr);
    std::string text;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, out)) text += buf;
    const int status = ::pclose(out);
    EXPECT_EQ(status, 0) << text;
    EXPECT_THAT(text, HasSubstr("100%  20000 rows"));
    EXPECT_THAT(text, HasSubstr("baseline of demo.accounts done: 20000 rows"));
    EXPECT_THAT(text, HasSubstr("in sync: accounts"));
    EXPECT_THAT(text, HasSubstr("stopped"));
}

}  // namespace
