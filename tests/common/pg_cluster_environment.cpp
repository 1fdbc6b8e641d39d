#include "pg_cluster_environment.hpp"

#include <stdexcept>

namespace laredo::testing {

namespace {
std::unique_ptr<pg_cluster>& instance() {
    static std::unique_ptr<pg_cluster> cluster;
    return cluster;
}
}  // namespace

pg_cluster_environment::pg_cluster_environment(pg_cluster_options options)
    : options_(std::move(options)) {}

void pg_cluster_environment::SetUp() {
    try {
        instance() = std::make_unique<pg_cluster>(options_);
    } catch (const std::exception& e) {
        // A fatal failure here fails the whole run: the suite never skips these silently.
        FAIL() << "cannot start the PostgreSQL test cluster: " << e.what();
    }
}

void pg_cluster_environment::TearDown() { instance().reset(); }

pg_cluster& pg_cluster_environment::cluster() {
    if (!instance()) throw std::logic_error("the PostgreSQL test cluster is not running");
    return *instance();
}

}  // namespace laredo::testing
