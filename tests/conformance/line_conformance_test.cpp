// The kit on the line source example (examples/line_source): `conformance/line.<item>`.
#include "line_fixture.hpp"

#include "laredo/testing/conformance.hpp"

namespace laredo::testing {
namespace {

[[maybe_unused]] const bool registered = [] {
    register_conformance_tests("line", [] { return std::make_unique<line_fixture>(); });
    return true;
}();

}  // namespace
}  // namespace laredo::testing
