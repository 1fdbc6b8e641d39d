#include "laredo/server/config/units.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace laredo::server::config {

namespace {

struct unit {
    std::string_view name;
    double millis;
};
// Longest names first so "ms" is not read as "m" followed by garbage.
constexpr unit duration_units[] = {{"us", 0.001}, {"ms", 1.0},        {"s", 1000.0},
                                   {"m", 60'000}, {"h", 3'600'000.0}, {"d", 86'400'000.0}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string* why) {
    auto fail = [&](std::string message) -> std::optional<std::chrono::milliseconds> {
        if (why) *why = std::move(message);
        return std::nullopt;
    };
    if (text.empty()) return fail("empty duration");
    if (text == "0") return std::chrono::milliseconds{0};
    double total = 0;
    std::string_view rest = text;
    while (!rest.empty()) {
        std::size_t n = 0;
        while (n < rest.size() && (is_digit(rest[n]) || rest[n] == '.')) ++n;
        if (n == 0)
            return fail("'" + std::string(text) + "' is not a duration (e.g. 500ms, 30s, 1h30m)");
        double number = 0;
        const auto [end, ec] = std::from_chars(rest.data(), rest.data() + n, number);
        if (ec != std::errc{} || end != rest.data() + n)
            return fail("'" + std::string(text) + "' is not a duration (e.g. 500ms, 30s, 1h30m)");
        rest.remove_prefix(n);
        std::size_t u = 0;
        while (u < rest.size() && !is_digit(rest[u]) && rest[u] != '.') ++u;
        const auto unit_text = rest.substr(0, u);
        if (unit_text.empty())
            return fail("'" + std::string(text) +
                        "' needs a unit (us, ms, s, m, h, d): a bare number is ambiguous");
        const auto* found = std::find_if(std::begin(duration_units), std::end(duration_units),
                                         [&](const unit& x) { return x.name == unit_text; });
        if (found == std::end(duration_units))
            return fail("'" + std::string(text) + "' has an unknown unit '" +
                        std::string(unit_text) + "' (use us, ms, s, m, h, d)");
        total += number * found->millis;
        rest.remove_prefix(u);
    }
    if (total > static_cast<double>(std::numeric_limits<std::int64_t>::max() / 2))
        return fail("'" + std::string(text) + "' is too long a duration");
    const double rounded = std::round(total);
    if (std::abs(rounded - total) > 1e-6)
        return fail("'" + std::string(text) + "' is not a whole number of milliseconds");
    return std::chrono::milliseconds{static_cast<std::int64_t>(rounded)};
}

std::string format_duration(std::chrono::milliseconds d) {
    auto ms = d.count();
    if (ms == 0) return "0s";
    std::string out;
    if (ms < 0) {
        out = "-";
        ms = -ms;
    }
    if (ms % 1000 != 0 && ms < 60'000) return out + std::to_string(ms) + "ms";
    const std::int64_t parts[] = {86'400'000, 3'600'000, 60'000, 1000, 1};
    const char* names[] = {"d", "h", "m", "s", "ms"};
    for (std::size_t i = 0; i < std::size(parts); ++i) {
        if (ms >= parts[i]) {
            out += std::to_string(ms / parts[i]) + names[i];
            ms %= parts[i];
        }
    }
    return out;
}

std::optional<std::uint64_t> parse_size(std::string_view text, std::string* why) {
    auto fail = [&](std::string message) -> std::optional<std::uint64_t> {
        if (why) *why = std::move(message);
        return std::nullopt;
    };
    std::size_t n = 0;
    while (n < text.size() && is_digit(text[n])) ++n;
    if (n == 0) return fail("'" + std::string(text) + "' is not a size (e.g. 4096, 64KiB, 1GiB)");
    std::uint64_t number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + n, number);
    if (ec != std::errc{}) return fail("'" + std::string(text) + "' is too large");
    (void)end;
    auto unit_text = text.substr(n);
    while (!unit_text.empty() && unit_text.front() == ' ') unit_text.remove_prefix(1);
    struct size_unit {
        std::string_view name;
        std::uint64_t factor;
    };
    constexpr size_unit units[] = {{"", 1},
                                   {"B", 1},
                                   {"KB", 1000},
                                   {"MB", 1000'000},
                                   {"GB", 1000'000'000},
                                   {"KiB", 1ull << 10},
                                   {"MiB", 1ull << 20},
                                   {"GiB", 1ull << 30}};
    for (const auto& u : units) {
        if (u.name != unit_text) continue;
        if (number > std::numeric_limits<std::uint64_t>::max() / u.factor)
            return fail("'" + std::string(text) + "' is too large");
        return number * u.factor;
    }
    return fail("'" + std::string(text) + "' has an unknown unit '" + std::string(unit_text) +
                "' (use B, KB, MB, GB, KiB, MiB, GiB)");
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string closest(std::string_view name, const std::vector<std::string>& candidates) {
    const std::size_t limit = std::clamp<std::size_t>(name.size() / 3, 1, 3);
    std::string best;
    std::size_t best_distance = limit + 1;
    for (const auto& c : candidates) {
        const auto d = edit_distance(name, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best;
}

}  // namespace laredo::server::config
