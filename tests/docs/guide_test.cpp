// The guide for source authors (docs/custom-sources.md) against the code it quotes: every
// fragment must equal the marked region of its file, and README must link the guide.
#include "fragments.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <set>

namespace laredo::docs {

// How gtest shows a fragment parameter.
void PrintTo(const fragment& f, std::ostream* os) { *os << f.name(); }

namespace {

const std::filesystem::path root = LAREDO_SOURCE_ROOT;
const std::string guide_file = "docs/custom-sources.md";

std::vector<fragment> guide_fragments() {
    try {
        return fragments_of(read_file(root / guide_file));
    } catch (const std::exception& e) {
        return {fragment{guide_file, "(the guide itself)", 0, {}, e.what()}};
    }
}

class guide_fragment : public ::testing::TestWithParam<fragment> {};

TEST_P(guide_fragment, equals_the_marked_region_of_its_file) {
    const auto problem = check(GetParam(), root);
    EXPECT_TRUE(problem.empty()) << problem;
}

std::string test_name(const ::testing::TestParamInfo<fragment>& info) {
    std::string name = info.param.name() + "_line_" + std::to_string(info.param.markdown_line);
    for (auto& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

INSTANTIATE_TEST_SUITE_P(guide, guide_fragment, ::testing::ValuesIn(guide_fragments()), test_name);

TEST(guide, quotes_code_from_the_examples_and_tests) {
    const auto fragments = guide_fragments();
    EXPECT_GE(fragments.size(), 10u);
    std::set<std::string> files;
    for (const auto& f : fragments) files.insert(f.file);
    EXPECT_TRUE(files.contains("examples/line_source/line_source.cpp"));
    EXPECT_TRUE(files.contains("examples/csv_source/csv_source.cpp"));
}

TEST(guide, every_code_block_is_a_checked_fragment) {
    const auto markdown = read_file(root / guide_file);
    for (const auto line : unmarked_code_blocks(markdown)) {
        ADD_FAILURE() << guide_file << " line " << line
                      << ": a code block without a <!-- fragment: file#region --> marker (only "
                         "```text blocks, for diagrams, need none)";
    }
}

TEST(readme, writing_a_source_links_the_guide) {
    const auto readme = read_file(root / "README.md");
    const auto start = readme.find("\n## Writing a source");
    ASSERT_NE(start, std::string::npos) << "README.md has no \"## Writing a source\" section";
    const auto end = readme.find("\n## ", start + 1);
    const auto section = readme.substr(start, end == std::string::npos ? end : end - start);
    EXPECT_NE(section.find("](docs/custom-sources.md)"), std::string::npos) << section;
}

}  // namespace
}  // namespace laredo::docs
