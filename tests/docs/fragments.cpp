#include "fragments.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace laredo::docs {

namespace {

const std::regex marker_line(R"(^\s*<!--\s*fragment:\s*([^#\s]+)#([A-Za-z0-9_-]+)\s*-->\s*$)");
const std::regex any_region_marker(R"(^\s*(//|#)\s*\[/?guide:[A-Za-z0-9_-]+\]\s*$)");

std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto end = std::min(text.find('\n', at), text.size());
        lines.emplace_back(text.substr(at, end - at));
        at = end + 1;
    }
    return lines;
}

bool is_blank(const std::string& line) {
    return line.find_first_not_of(" \t\r") == std::string::npos;
}

bool is_fence(const std::string& line) {
    const auto first = line.find_first_not_of(' ');
    return first != std::string::npos && line.compare(first, 3, "```") == 0;
}

std::string fence_info(const std::string& line) {
    const auto info = line.substr(line.find("```") + 3);
    const auto end = info.find_last_not_of(" \t\r");
    return end == std::string::npos ? std::string() : info.substr(0, end + 1);
}

// Trailing spaces off, blank lines at either end off, common indentation off.
std::vector<std::string> normalised(std::vector<std::string> lines) {
    for (auto& l : lines) {
        const auto end = l.find_last_not_of(" \t\r");
        l.erase(end == std::string::npos ? 0 : end + 1);
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    const auto first =
        std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return !l.empty(); });
    lines.erase(lines.begin(), first);
    std::size_t indent = std::string::npos;
    for (const auto& l : lines)
        if (!l.empty()) indent = std::min(indent, l.find_first_not_of(' '));
    for (auto& l : lines)
        if (!l.empty()) l.erase(0, indent);
    return lines;
}

}  // namespace

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::vector<fragment> fragments_of(std::string_view markdown) {
    const auto lines = lines_of(markdown);
    std::vector<fragment> out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::smatch m;
        if (!std::regex_match(lines[i], m, marker_line)) {
            if (lines[i].find("fragment:") != std::string::npos &&
                lines[i].find("<!--") != std::string::npos) {
                out.push_back({"?",
                               "?",
                               i + 1,
                               {},
                               "malformed marker \"" + lines[i] +
                                   "\": expected <!-- fragment: path/to/file#region -->"});
            }
            continue;
        }
        fragment f{m[1], m[2], i + 1, {}, {}};
        auto j = i + 1;
        while (j < lines.size() && is_blank(lines[j])) ++j;
        if (j == lines.size() || !is_fence(lines[j])) {
            f.problem = "no fenced code block follows the marker";
            out.push_back(std::move(f));
            continue;
        }
        std::vector<std::string> block;
        auto k = j + 1;
        for (; k < lines.size() && !is_fence(lines[k]); ++k) block.push_back(lines[k]);
        if (k == lines.size()) f.problem = "the fenced code block after the marker is not closed";
        f.text = normalised(std::move(block));
        out.push_back(std::move(f));
        i = k;
    }
    return out;
}

std::vector<std::size_t> unmarked_code_blocks(std::string_view markdown) {
    const auto lines = lines_of(markdown);
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!is_fence(lines[i])) continue;
        const bool wanted = fence_info(lines[i]) != "text";
        auto before = i;
        while (before > 0 && is_blank(lines[before - 1])) --before;
        const bool marked = before > 0 && std::regex_match(lines[before - 1], marker_line);
        if (wanted && !marked) out.push_back(i + 1);
        // Skip to the closing fence.
        for (++i; i < lines.size() && !is_fence(lines[i]); ++i) {
        }
    }
    return out;
}

std::vector<std::string> region_of(const std::filesystem::path& file, std::string_view region) {
    const auto lines = lines_of(read_file(file));
    const std::regex open(fmt::format(R"(^\s*(//|#)\s*\[guide:{}\]\s*$)", region));
    const std::regex close(fmt::format(R"(^\s*(//|#)\s*\[/guide:{}\]\s*$)", region));
    std::optional<std::size_t> begin;
    std::optional<std::size_t> end;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (std::regex_match(lines[i], open)) {
            if (begin) {
                throw std::runtime_error(
                    fmt::format("{}: region \"{}\" is marked twice (lines {} "
                                "and {})",
                                file.string(), region, *begin + 1, i + 1));
            }
            begin = i;
        } else if (std::regex_match(lines[i], close) && begin && !end) {
            end = i;
        }
    }
    if (!begin)
        throw std::runtime_error(fmt::format("{} has no region \"{}\"", file.string(), region));
    if (!end) {
        throw std::runtime_error(
            fmt::format("{}: region \"{}\" (line {}) is not closed with "
                        "[/guide:{}]",
                        file.string(), region, *begin + 1, region));
    }
    std::vector<std::string> out;
    for (auto i = *begin + 1; i < *end; ++i)
        if (!std::regex_match(lines[i], any_region_marker)) out.push_back(lines[i]);
    return normalised(std::move(out));
}

std::string check(const fragment& f, const std::filesystem::path& root) {
    const auto where = fmt::format("fragment {} (docs line {})", f.name(), f.markdown_line);
    if (!f.problem.empty()) return where + ": " + f.problem;
    std::vector<std::string> source;
    try {
        source = region_of(root / f.file, f.region);
    } catch (const std::exception& e) {
        return where + ": " + e.what();
    }
    if (source == f.text) return {};
    return fmt::format("{} differs from its source region (- guide, + {}):\n{}", where, f.file,
                       diff(f.text, source));
}

std::string diff(const std::vector<std::string>& guide, const std::vector<std::string>& source) {
    // Longest common subsequence, walked into tagged lines; unchanged lines further than three
    // from a change are left out.
    const auto n = guide.size();
    const auto m = source.size();
    std::vector<std::vector<std::size_t>> lcs(n + 1, std::vector<std::size_t>(m + 1, 0));
    for (std::size_t i = n; i-- > 0;) {
        for (std::size_t j = m; j-- > 0;) {
            lcs[i][j] = guide[i] == source[j] ? lcs[i + 1][j + 1] + 1
                                              : std::max(lcs[i + 1][j], lcs[i][j + 1]);
        }
    }
    std::vector<std::string> lines;
    std::vector<bool> changed;
    for (std::size_t i = 0, j = 0; i < n || j < m;) {
        if (i < n && j < m && guide[i] == source[j]) {
            lines.push_back("  " + guide[i++]);
            changed.push_back(false);
            ++j;
        } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
            lines.push_back("- " + guide[i++]);
            changed.push_back(true);
        } else {
            lines.push_back("+ " + source[j++]);
            changed.push_back(true);
        }
    }
    constexpr std::size_t context = 3;
    std::string out;
    bool skipped = false;
    for (std::size_t k = 0; k < lines.size(); ++k) {
        const auto from = k >= context ? k - context : 0;
        const auto to = std::min(lines.size(), k + context + 1);
        const bool near = std::find(changed.begin() + static_cast<std::ptrdiff_t>(from),
                                    changed.begin() + static_cast<std::ptrdiff_t>(to),
                                    true) != changed.begin() + static_cast<std::ptrdiff_t>(to);
        if (!near) {
            if (!skipped) out += "  ...\n";
            skipped = true;
            continue;
        }
        skipped = false;
        out += lines[k] + "\n";
    }
    return out;
}

}  // namespace laredo::docs
