#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace laredo::server::metrics {

using labels = std::vector<std::pair<std::string, std::string>>;

// Writes the Prometheus text format (0.0.4): one family at a time, # HELP and # TYPE first.
class exposition {
  public:
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, const labels& l, double value);
    void sample(std::string_view name, const labels& l, std::uint64_t value);
    const std::string& text() const noexcept { return out_; }

  private:
    void write_labels(const labels& l);
    std::string out_;
};

// A histogram with fixed upper bounds, updated from any thread without locks.
class histogram {
  public:
    explicit histogram(std::vector<double> bounds);
    void observe(double v) noexcept;
    // Writes <name>_bucket{...,le="..."}, <name>_sum and <name>_count.
    void write(exposition& out, std::string_view name, const labels& l) const;

    static std::vector<double> default_seconds();  // .005 ... 10
    static std::vector<double> long_seconds();     // .1 ... 300

  private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bound, then +Inf
    std::atomic<std::uint64_t> sum_nanos_{0};  // sum in nanoseconds (values are seconds)
};

}  // namespace laredo::server::metrics
