// The guide for source authors (docs/custom-sources.md) and the engine's API (docs/engine-api.md)
// against the code they quote: every fragment must equal the marked region of its file, and
// README must link both, and the design notes.
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
const std::string api_file = "docs/engine-api.md";

std::vector<fragment> fragments_in(const std::string& file) {
    try {
        return fragments_of(read_file(root / file));
    } catch (const std::exception& e) {
        return {fragment{file, "(the document itself)", 0, {}, e.what()}};
    }
}

std::vector<fragment> guide_fragments() { return fragments_in(guide_file); }

std::vector<fragment> every_fragment() {
    auto all = guide_fragments();
    for (auto& f : fragments_in(api_file)) all.push_back(std::move(f));
    return all;
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

INSTANTIATE_TEST_SUITE_P(guide, guide_fragment, ::testing::ValuesIn(every_fragment()), test_name);

TEST(guide, quotes_code_from_the_examples_and_tests) {
    const auto fragments = guide_fragments();
    EXPECT_GE(fragments.size(), 10u);
    std::set<std::string> files;
    for (const auto& f : fragments) files.insert(f.file);
    EXPECT_TRUE(files.contains("examples/line_source/line_source.cpp"));
    EXPECT_TRUE(files.contains("examples/csv_source/csv_source.cpp"));
}

TEST(guide, every_code_block_is_a_checked_fragment) {
    for (const auto& file : {guide_file, api_file}) {
        const auto markdown = read_file(root / file);
        for (const auto line : unmarked_code_blocks(markdown)) {
            ADD_FAILURE() << file << " line " << line
                          << ": a code block without a <!-- fragment: file#region --> marker "
                             "(only ```text blocks, for diagrams, need none)";
        }
    }
}

TEST(engine_api_doc, quotes_the_api_tests) {
    const auto fragments = fragments_in(api_file);
    EXPECT_GE(fragments.size(), 3u);
    for (const auto& f : fragments) EXPECT_EQ(f.file, "tests/engine/engine_api_test.cpp");
}

// The text of README's "## `title`" section, up to the next one (empty when it has none).
std::string readme_section(const std::string& title) {
    const auto readme = read_file(root / "README.md");
    const auto start = readme.find("\n## " + title);
    if (start == std::string::npos) return {};
    const auto end = readme.find("\n## ", start + 1);
    return readme.substr(start, end == std::string::npos ? end : end - start);
}

TEST(readme, writing_a_source_links_the_guide) {
    const auto section = readme_section("Writing a source");
    ASSERT_FALSE(section.empty()) << "README.md has no \"## Writing a source\" section";
    EXPECT_NE(section.find("](docs/custom-sources.md)"), std::string::npos) << section;
}

TEST(readme, embedding_the_engine_links_the_api) {
    const auto section = readme_section("Embedding the engine");
    ASSERT_FALSE(section.empty()) << "README.md has no \"## Embedding the engine\" section";
    EXPECT_NE(section.find("](docs/engine-api.md)"), std::string::npos) << section;
}

TEST(readme, architecture_links_the_design_notes) {
    const auto section = readme_section("Architecture");
    ASSERT_FALSE(section.empty()) << "README.md has no \"## Architecture\" section";
    EXPECT_NE(section.find("](docs/design.md)"), std::string::npos) << section;
}

}  // namespace
}  // namespace laredo::docs
