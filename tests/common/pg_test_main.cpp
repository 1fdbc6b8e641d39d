// main() for test executables that need PostgreSQL: registers the shared cluster.

#include "pg_cluster_environment.hpp"

#include <gtest/gtest.h>

#include <string>

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    laredo::testing::pg_cluster_options options;
    // The executable's name keeps parallel test executables in separate directories.
    std::string name = argc > 0 ? argv[0] : "tests";
    if (const auto slash = name.rfind('/'); slash != std::string::npos) name.erase(0, slash + 1);
    options.name = name;
    ::testing::AddGlobalTestEnvironment(new laredo::testing::pg_cluster_environment(options));
    return RUN_ALL_TESTS();
}
