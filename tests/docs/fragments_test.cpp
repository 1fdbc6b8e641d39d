// The fragment checker itself, on a small guide and source files in a temporary directory:
// it passes what matches and fails, naming the fragment, what does not.
#include "fragments.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace laredo::docs {
namespace {

class checker : public ::testing::Test {
  protected:
    std::filesystem::path root;

    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "guide_XXXXXX").string();
        ASSERT_TRUE(mkdtemp(pattern.data()));
        root = pattern;
        std::filesystem::create_directories(root / "src");
        write("src/a.cpp",
              "int before();\n"
              "// [guide:outer]\n"
              "void f() {\n"
              "    // [guide:loop]\n"
              "    for (;;) {\n"
              "        step();   \n"
              "    }\n"
              "    // [/guide:loop]\n"
              "}\n"
              "// [/guide:outer]\n"
              "# [guide:hash]\n"
              "x = 1\n"
              "# [/guide:hash]\n");
    }
    void TearDown() override {
        std::error_code ignored;
        std::filesystem::remove_all(root, ignored);
    }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(root / name, std::ios::binary) << text;
    }
    std::string check_one(const std::string& markdown) const {
        const auto fs = fragments_of(markdown);
        if (fs.size() != 1) return "expected one fragment, found " + std::to_string(fs.size());
        return check(fs.front(), root);
    }
};

TEST_F(checker, a_matching_fragment_passes_whatever_its_indentation) {
    EXPECT_EQ(check_one("<!-- fragment: src/a.cpp#loop -->\n"
                        "```cpp\n"
                        "for (;;) {\n"
                        "    step();\n"
                        "}\n"
                        "```\n"),
              "");
    // The inner region's markers are not part of the outer one.
    EXPECT_EQ(check_one("Text.\n\n<!-- fragment: src/a.cpp#outer -->\n\n"
                        "```cpp\n"
                        "void f() {\n"
                        "    for (;;) {\n"
                        "        step();\n"
                        "    }\n"
                        "}\n"
                        "```\n"),
              "");
    EXPECT_EQ(check_one("<!-- fragment: src/a.cpp#hash -->\n```python\nx = 1\n```\n"), "");
}

TEST_F(checker, a_changed_fragment_fails_naming_it_and_showing_the_difference) {
    const auto problem = check_one(
        "# Guide\n"
        "<!-- fragment: src/a.cpp#loop -->\n"
        "```cpp\n"
        "for (;;) {\n"
        "    step_twice();\n"
        "}\n"
        "```\n");
    EXPECT_NE(problem.find("fragment src/a.cpp#loop (docs line 2) differs"), std::string::npos)
        << problem;
    EXPECT_NE(problem.find("\n  for (;;) {\n"), std::string::npos) << problem;
    EXPECT_NE(problem.find("\n-     step_twice();\n"), std::string::npos) << problem;
    EXPECT_NE(problem.find("\n+     step();\n"), std::string::npos) << problem;
}

TEST_F(checker, a_missing_file_or_region_fails_naming_it) {
    const auto no_file = check_one("<!-- fragment: src/gone.cpp#loop -->\n```cpp\nx\n```\n");
    EXPECT_NE(no_file.find("fragment src/gone.cpp#loop"), std::string::npos) << no_file;
    EXPECT_NE(no_file.find("cannot read"), std::string::npos) << no_file;
    const auto no_region = check_one("<!-- fragment: src/a.cpp#nowhere -->\n```cpp\nx\n```\n");
    EXPECT_NE(no_region.find("has no region \"nowhere\""), std::string::npos) << no_region;
}

TEST_F(checker, an_unclosed_or_doubly_marked_region_fails) {
    write("src/b.cpp",
          "// [guide:open]\nx\n// [guide:twice]\n// [/guide:twice]\n"
          "// [guide:twice]\n// [/guide:twice]\n");
    const auto unclosed = check_one("<!-- fragment: src/b.cpp#open -->\n```cpp\nx\n```\n");
    EXPECT_NE(unclosed.find("is not closed"), std::string::npos) << unclosed;
    const auto twice = check_one("<!-- fragment: src/b.cpp#twice -->\n```cpp\n```\n");
    EXPECT_NE(twice.find("marked twice"), std::string::npos) << twice;
}

TEST_F(checker, a_marker_without_its_block_or_malformed_fails) {
    const auto lonely = check_one("<!-- fragment: src/a.cpp#loop -->\nJust text.\n");
    EXPECT_NE(lonely.find("no fenced code block follows"), std::string::npos) << lonely;
    const auto bad = check_one("<!-- fragment: src/a.cpp -->\n```cpp\nx\n```\n");
    EXPECT_NE(bad.find("malformed marker"), std::string::npos) << bad;
}

TEST(unmarked, code_blocks_without_a_marker_are_found_and_diagrams_are_not) {
    const std::string markdown =
        "<!-- fragment: a.cpp#x -->\n```cpp\nx\n```\n"
        "```text\ndiagram\n```\n"
        "Prose.\n\n```cpp\nunchecked();\n```\n"
        "```\nno language\n```\n";
    EXPECT_EQ(unmarked_code_blocks(markdown), (std::vector<std::size_t>{10, 13}));
}

}  // namespace
}  // namespace laredo::docs
