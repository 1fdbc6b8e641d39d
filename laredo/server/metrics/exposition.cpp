#include "laredo/server/metrics/exposition.hpp"

#include <fmt/format.h>

#include <cmath>
#include <memory>

namespace laredo::server::metrics {

void exposition::family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

void exposition::write_labels(const labels& l) {
    if (l.empty()) return;
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : l) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        for (const char c : v) {
            if (c == '\\')
                out_ += "\\\\";
            else if (c == '"')
                out_ += "\\\"";
            else if (c == '\n')
                out_ += "\\n";
            else
                out_ += c;
        }
        out_ += '"';
    }
    out_ += '}';
}

void exposition::sample(std::string_view name, const labels& l, double value) {
    out_ += name;
    write_labels(l);
    out_ += ' ';
    if (std::isnan(value))
        out_ += "NaN";
    else if (std::isinf(value))
        out_ += value > 0 ? "+Inf" : "-Inf";
    else
        out_ += fmt::format("{}", value);
    out_ += '\n';
}

void exposition::sample(std::string_view name, const labels& l, std::uint64_t value) {
    out_ += name;
    write_labels(l);
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
}

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void histogram::observe(double v) noexcept {
    std::size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    const double nanos = v * 1e9;
    sum_nanos_.fetch_add(nanos > 0 ? static_cast<std::uint64_t>(nanos) : 0,
                         std::memory_order_relaxed);
}

void histogram::write(exposition& out, std::string_view name, const labels& l) const {
    std::uint64_t cumulative = 0;
    const std::string bucket = std::string(name) + "_bucket";
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        cumulative += counts_[i].load(std::memory_order_relaxed);
        auto with_le = l;
        with_le.emplace_back("le", i < bounds_.size() ? fmt::format("{}", bounds_[i]) : "+Inf");
        out.sample(bucket, with_le, cumulative);
    }
    out.sample(std::string(name) + "_sum", l,
               static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9);
    // The count is the last cumulative bucket, so the three always agree in one scrape.
    out.sample(std::string(name) + "_count", l, cumulative);
}

std::vector<double> histogram::default_seconds() {
    return {0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10};
}

std::vector<double> histogram::long_seconds() {
    return {0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
}

}  // namespace laredo::server::metrics
