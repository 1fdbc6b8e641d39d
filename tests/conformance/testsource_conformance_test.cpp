// The kit on the test source: `conformance/testsource_<mode>.<item>` for every checklist item.
#include "testsource_fixture.hpp"

#include "laredo/testing/conformance.hpp"

namespace laredo::testing {
namespace {

using sources::testsource::position_mode;
using sources::testsource::test_source_options;

fixture_factory testsource_with(position_mode positions, bool resume, std::size_t batch_size) {
    test_source_options o;
    o.positions = positions;
    o.supports_resume = resume;
    o.batch_size = batch_size;
    return [o] { return std::make_unique<testsource_fixture>(o); };
}

[[maybe_unused]] const bool registered = [] {
    register_conformance_tests("testsource_sequence",
                               testsource_with(position_mode::sequence, false, 256));
    register_conformance_tests("testsource_sequence_resume",
                               testsource_with(position_mode::sequence, true, 3));
    register_conformance_tests("testsource_pair_resume",
                               testsource_with(position_mode::pair, true, 256));
    return true;
}();

}  // namespace
}  // namespace laredo::testing
