// The kit on the CSV example source (examples/csv_source): `conformance/csv.<item>`.
#include "csv_fixture.hpp"

#include "laredo/testing/conformance.hpp"

namespace laredo::testing {
namespace {

[[maybe_unused]] const bool registered = [] {
    register_conformance_tests("csv", [] { return std::make_unique<csv_fixture>(); });
    return true;
}();

}  // namespace
}  // namespace laredo::testing
