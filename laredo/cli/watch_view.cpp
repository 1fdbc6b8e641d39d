#include "laredo/cli/watch_view.hpp"

#include "laredo/cli/output.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace laredo::cli {

namespace json = boost::json;

namespace {

std::uint64_t number_at(const json::value& v, std::string_view path) {
    const auto* at = find_path(v, path);
    return at && at->is_number() ? static_cast<std::uint64_t>(at->to_number<double>()) : 0;
}

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

}  // namespace

std::string grouped(std::uint64_t n) {
    auto digits = std::to_string(n);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(static_cast<std::size_t>(i), ",");
    return digits;
}

std::string short_duration(double seconds) {
    if (seconds < 10) return fixed(seconds, 1) + "s";
    const auto s = static_cast<std::uint64_t>(std::llround(seconds));
    if (s < 60) return std::to_string(s) + "s";
    if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
    return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
}

std::optional<baseline_figures> baseline_of(const json::value& pipeline) {
    const auto* b = find_path(pipeline, "baseline");
    if (!b || !b->is_object()) return std::nullopt;
    baseline_figures out;
    out.rows_done = number_at(*b, "rows_done");
    if (const auto* t = find_path(*b, "rows_total"); t && t->is_number())
        out.rows_total = static_cast<std::uint64_t>(t->to_number<double>());
    if (const auto* r = find_path(*b, "rows_per_second"); r && r->is_number())
        out.rows_per_second = r->to_number<double>();
    out.done = text_at(*b, "done") == "yes";
    if (const auto* e = find_path(*b, "elapsed_seconds"); e && e->is_number())
        out.elapsed_seconds = e->to_number<double>();
    return out;
}

std::string progress_text(const baseline_figures& b, std::size_t bar_width) {
    // The estimate can be below the rows actually read; never show more than 100 %.
    double fraction = 0;
    if (b.done)
        fraction = 1;
    else if (b.rows_total && *b.rows_total > 0)
        fraction = std::min(0.99, static_cast<double>(b.rows_done) / *b.rows_total);
    const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(bar_width));
    std::string out = "[" + std::string(filled, '#') + std::string(bar_width - filled, '-') + "] ";
    out += std::to_string(static_cast<int>(fraction * 100)) + "%  ";
    const auto total = b.done ? b.rows_done : b.rows_total.value_or(0);
    out += grouped(b.rows_done) + "/" + (b.done || b.rows_total ? grouped(total) : "?") + " rows";
    out += "  " + grouped(static_cast<std::uint64_t>(b.rows_per_second)) + " rows/s";
    if (b.done) {
        out += "  done in " + short_duration(b.elapsed_seconds);
    } else if (b.rows_total && b.rows_per_second > 0 && *b.rows_total > b.rows_done) {
        out += "  ETA " +
               short_duration(static_cast<double>(*b.rows_total - b.rows_done) / b.rows_per_second);
    }
    return out;
}

std::string pipeline_text(const json::value& pipeline, double changes_per_second,
                          const json::value* source) {
    std::string out = text_at(pipeline, "state") + "  rows " + text_at(pipeline, "row_count") +
                      "  changes/s " + fixed(changes_per_second, 1) + "  lag ";
    if (!source) return out + "-";
    const auto bytes = text_at(*source, "lag.bytes");
    const auto seconds = text_at(*source, "lag.seconds");
    out += bytes == "-" ? "-" : bytes + " B";
    if (seconds != "-") out += " / " + seconds + " s";
    return out;
}

}  // namespace laredo::cli
