#pragma once

// Checks that every code fragment of a markdown guide is a copy of a marked region of a
// source file, so the guide cannot drift from code that is compiled and tested.
//
// In the markdown, a fragment is a fenced block preceded by a marker line:
//
//   <!-- fragment: examples/line_source/line_source.cpp#stream-loop -->
//   ```cpp
//   ...
//   ```
//
// In the source file (relative to the project root), the region is the lines between
// `// [guide:stream-loop]` and `// [/guide:stream-loop]` (`#` comments work too). Lines that
// are themselves markers of other regions are left out, so regions may nest. Both sides are
// compared after removing their common indentation, trailing spaces and blank lines at
// either end.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace laredo::docs {

struct fragment {
    std::string file;  // relative to the project root
    std::string region;
    std::size_t markdown_line;      // 1-based line of the marker
    std::vector<std::string> text;  // the fenced block, normalised
    std::string problem;            // set when the marker is not followed by a fenced block

    std::string name() const { return file + "#" + region; }
};

// Every fragment marker of `markdown`, in order.
std::vector<fragment> fragments_of(std::string_view markdown);

// Fenced blocks that no marker precedes, except ```text blocks (diagrams): code that nothing
// checks. Returns their 1-based opening lines.
std::vector<std::size_t> unmarked_code_blocks(std::string_view markdown);

// The region `region` of `file`, normalised. Throws std::runtime_error naming the file and
// region when the file cannot be read, or the region is missing, unclosed or marked twice.
std::vector<std::string> region_of(const std::filesystem::path& file, std::string_view region);

// Empty when the fragment matches its region; otherwise a message naming the fragment and
// showing the difference (or why it could not be compared).
std::string check(const fragment& f, const std::filesystem::path& root);

// A line diff: "  " common, "- " only in `guide`, "+ " only in `source`.
std::string diff(const std::vector<std::string>& guide, const std::vector<std::string>& source);

std::string read_file(const std::filesystem::path& path);

}  // namespace laredo::docs
