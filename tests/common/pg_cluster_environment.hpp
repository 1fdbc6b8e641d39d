#pragma once

// One PostgreSQL cluster per test executable: a GoogleTest global environment starts it
// before the first test and stops it after the last, whether tests failed or not (crashes
// are the watchdog's job, see pg_cluster.hpp). Link `pg_test_main_dep` to get a main() that
// registers it; tests then call shared_pg_cluster().

#include "pg_cluster.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace laredo::testing {

class pg_cluster_environment : public ::testing::Environment {
  public:
    explicit pg_cluster_environment(pg_cluster_options options);
    void SetUp() override;
    void TearDown() override;

    // The running cluster; throws std::logic_error if the environment did not start one.
    static pg_cluster& cluster();

  private:
    pg_cluster_options options_;
};

inline pg_cluster& shared_pg_cluster() { return pg_cluster_environment::cluster(); }

}  // namespace laredo::testing
